"""The wheel carries the prompt templates (a top-level folder is not packaged by default)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from llmextract.prompts import list_prompts
from tests.conftest import ROOT


def test_wheel_contains_every_prompt(tmp_path: Path) -> None:
    pytest.importorskip("hatchling", reason="building the wheel needs hatchling (dev extra)")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         str(ROOT), "-w", str(tmp_path)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [wheel] = tmp_path.glob("llmextract-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"llmextract/_prompts/{name}.jinja" for name in list_prompts()}
    assert len(expected) >= 3
    assert expected <= names
    assert "llmextract/candidates/cues.txt" in names  # the derived cue words the finder loads
