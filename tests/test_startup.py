"""Ctrl-C while the command line is still loading ends it with one line, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import clean_environment

# ``python -m llmextract --version`` as runpy runs it, with Ctrl-C (a real SIGINT to the
# process) sent the moment the given library starts to load: deterministic, unlike a signal
# sent after a guessed delay.
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
sys.argv = ["llmextract", "--version"]
runpy.run_module("llmextract", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("library", ["openai", "typer", "pydantic"])
def test_ctrl_c_while_loading_exits_130_with_one_line(library: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_START, library],
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == [
        "llmextract: interrupted while starting; nothing was done"
    ], done.stderr
    assert done.stdout == ""
