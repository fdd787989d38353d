"""Ctrl-C while the command line is still loading ends it with one line, not a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_environment

# ``python -m llmextract ARGS`` as runpy runs it, with Ctrl-C (a real SIGINT to the process)
# sent the moment the given library starts to load: deterministic, unlike a signal sent after
# a guessed delay.
INTERRUPTED_START = """
import os, runpy, signal, sys

library = sys.argv[1]

class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == library:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, Interrupt())
sys.argv = ["llmextract", *sys.argv[2:]]
runpy.run_module("llmextract", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("library", ["typer", "pydantic"])
def test_ctrl_c_while_loading_exits_130_with_one_line(library: str) -> None:
    done = _interrupted(library, "--version")
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == [
        "llmextract: interrupted while starting; nothing was done"
    ], done.stderr
    assert done.stdout == ""


def test_ctrl_c_while_extract_loads_the_model_client_exits_130_with_one_line(
    tmp_path: Path,
) -> None:
    """``extract`` loads the model client (openai) only once its options are read."""
    article = tmp_path / "a.txt"
    article.write_text("Mayor Elena Ruiz said the wall would hold.", encoding="utf-8")
    done = _interrupted("openai", "extract", str(article), "--system", "rules")
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == ["interrupted; nothing was written"], done.stderr
    assert done.stdout == ""


def _interrupted(library: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", INTERRUPTED_START, library, *args],
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=120,
        check=False,
    )
