from __future__ import annotations

import ast
import importlib.util
import inspect
import pkgutil
import sys
from pathlib import Path

import pytest

import llmextract
import llmextract.candidates
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


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent of ``name`` is not a package
        return False


def _imports(module: str) -> set[str]:
    """Every module that ``module``'s source imports, anywhere in it (functions too), and
    transitively through the modules of its own package and of llmextract, and their
    parent packages.

    Relative imports are resolved, and ``from package import name`` counts the submodule
    when ``name`` is one. The top-level ``llmextract`` package is not followed: every
    submodule runs it, and it re-exports the client API, so importing from it is reported.
    """
    followed = (module.split(".")[0] + ".", "llmextract.")
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        package = name if spec.submodule_search_locations else name.rpartition(".")[0]
        found: list[str] = []
        for node in ast.walk(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                found.append(base)
                found.extend(
                    f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}")
                )
        parents = [name.rsplit(".", n)[0] for n in range(1, name.count("."))]
        for imported in [*found, *parents]:
            if imported not in seen:
                seen.add(imported)
                if imported.startswith(followed):
                    todo.append(imported)
    return seen


PURE = (
    "llmextract.schemas",
    "llmextract.grounding",
    "llmextract.drafts",
    "llmextract.quotation",
    "llmextract.chunking",
    "llmextract.choices",
    "llmextract.examples",
    *sorted(
        f"llmextract.candidates.{m.name}"
        for m in pkgutil.iter_modules(llmextract.candidates.__path__)
    ),
    "llmextract.candidates",
    "llmextract.gold",
    "llmextract.evaluation.gold",
    "llmextract.evaluation.matching",
    *(
        f"llmextract.evaluation.{name}"
        for name in (
            "bootstrap",
            "counts",
            "direct",
            "fields",
            "labels",
            "scorers",
            "table",
            "tokens",
        )
    ),
)
CLIENT = (
    "llmextract.client",
    "llmextract.retry",
    "llmextract.pacing",
    "llmextract.probe",
    "llmextract.transport",
    "llmextract.cache",
)
# The model's side: the HTTP stack and everything built on it.
CLIENT_PACKAGES = {"openai", "instructor", "httpx", "httpx2"}
CLIENT_MODULES = {"llmextract", *CLIENT}


def test_the_import_walk_sees_relative_submodule_and_nested_imports(tmp_path: Path) -> None:
    """The walk below finds the client however a module would reach it."""
    package = tmp_path / "walkcheck"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "plain.py").write_text("import json\n")
    (package / "relative.py").write_text("from . import leaf\n")
    (package / "leaf.py").write_text("def late():\n    from llmextract import client\n")
    sys.path.insert(0, str(tmp_path))
    try:
        assert "llmextract.client" not in _imports("walkcheck.plain")
        imported = _imports("walkcheck.relative")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("walkcheck")]:
            del sys.modules[name]
    assert {"walkcheck.leaf", "llmextract.client", "openai", "httpx2"} <= imported


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_do_not_import_the_client(module: str) -> None:
    imported = _imports(module)
    assert not {m for m in imported if m.split(".")[0] in CLIENT_PACKAGES}
    assert not imported & CLIENT_MODULES


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
