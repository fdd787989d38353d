"""The examples in the package's docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
from pathlib import Path

import pytest

import llmextract

# Modules whose examples need an optional extra: (the import it needs, the extra).
EXTRAS = {
    "llmextract.embedded": ("llama_cpp", "embedded"),
    "llmextract.distributed": ("ray", "ray"),
}


def _modules_with_examples() -> list[str]:
    """Every module of the package whose source holds an example (``__main__`` runs the CLI)."""
    names = ["llmextract"]
    names += [m.name for m in pkgutil.walk_packages(llmextract.__path__, "llmextract.")]
    found = []
    for name in names:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        if not name.endswith(".__main__") and ">>> " in Path(spec.origin).read_text("utf-8"):
            found.append(name)
    return sorted(found)


MODULES = _modules_with_examples()


def test_the_package_has_examples_to_run() -> None:
    assert {"llmextract", "llmextract.grounding", "llmextract.evaluation.table"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    if name in EXTRAS:
        needed, extra = EXTRAS[name]
        pytest.importorskip(needed, reason=f"{name}'s examples need the [{extra}] extra")
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner()
    report = io.StringIO()
    tests = [t for t in doctest.DocTestFinder().find(module) if t.examples]
    for test in tests:
        runner.run(test, out=report.write)
    assert tests, f"{name} has '>>> ' in its source but no example doctest can find"
    assert runner.failures == 0, report.getvalue()
