from __future__ import annotations

import inspect
from pathlib import Path

import llmextract
import llmextract.testing
from llmextract import LLMExtractError


def test_all_is_sorted_and_complete() -> None:
    for module in (llmextract, llmextract.testing):
        assert module.__all__ == sorted(module.__all__)
        assert all(hasattr(module, name) for name in module.__all__)


def test_every_public_error_shares_one_root() -> None:
    errors = [
        obj
        for obj in vars(llmextract).values()
        if inspect.isclass(obj) and issubclass(obj, Exception)
    ]
    assert len(errors) >= 8
    assert all(issubclass(error, LLMExtractError) for error in errors)
    assert all(error.__name__.endswith("Error") for error in errors)


def _imports(module: str) -> set[str]:
    """Every module that ``module``'s own source imports, following llmextract's modules."""
    import ast
    import importlib.util

    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for imported in names:
                if imported not in seen:
                    seen.add(imported)
                    if imported.startswith("llmextract."):
                        todo.append(imported)
    return seen


PURE = (
    "llmextract.schemas",
    "llmextract.grounding",
    "llmextract.drafts",
    "llmextract.chunking",
    "llmextract.candidates",
    "llmextract.choices",
    "llmextract.quotation",
    "llmextract.examples",
    "llmextract.evaluation.gold",
    "llmextract.evaluation.matching",
    "llmextract.evaluation.metrics",
)
CLIENT = (
    "llmextract.client",
    "llmextract.retry",
    "llmextract.pacing",
    "llmextract.probe",
    "llmextract.transport",
    "llmextract.cache",
)


def test_pure_modules_do_not_import_the_client() -> None:
    for pure in PURE:
        imported = _imports(pure)
        assert not {m for m in imported if m.split(".")[0] in {"openai", "instructor", "httpx2"}}
        assert not imported & set(CLIENT), pure


def test_the_client_knows_no_tasks() -> None:
    """The transport gets a response model and a validation context; what a task is, how
    its answer is grounded or salvaged, and what a prompt holds are the pipeline's."""
    import ast
    import importlib.util

    task_modules = {
        "llmextract.drafts",
        "llmextract.choices",
        "llmextract.candidates",
        "llmextract.prompts",
        "llmextract.extract",
    }
    for module in CLIENT:
        assert not _imports(module) & task_modules, module
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
        from_schemas = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "llmextract.schemas"
            for alias in node.names
        }
        assert from_schemas <= {"Usage"}, (module, from_schemas)  # no task records
