"""Defect probes on settings, prompt templates and CLI messages, tried from outside.

- Messages: paths, names and server text are printed as they are, never as Rich markup.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from llmextract.testing import Reply, ScriptedServer
from tests import reliability
from tests.conftest import SAMPLE, run_cli
from tests.test_batch import write_articles

pytestmark = pytest.mark.faults

OPENAI_KEY = "sk-openai-only-4c1d"
OWN_KEY = "sk-llmextract-9e2b"


def bearers(server: ScriptedServer) -> set[str]:
    return {r.headers.get("authorization", "") for r in server.requests}


def extract_quotes(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli("extract", str(SAMPLE), "--task", "quotes", *args, **env)


# Messages ---------------------------------------------------------------------------------


def test_a_name_with_brackets_is_printed_as_it_is(tmp_path: Path) -> None:
    done = run_cli("extract", "notes [draft].txt", cwd=tmp_path)
    intact = done.returncode == 1 and "notes [draft].txt" in done.stderr
    assert reliability.probe("messages", "[word] in a file name", intact), done.stderr


def test_a_path_holding_a_closing_tag_does_not_crash(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    missing = tmp_path / "odd[" / "x].txt"
    done = run_cli("extract", str(missing))
    lines = done.stderr.strip().splitlines()
    clear = done.returncode == 1 and len(lines) == 1 and str(missing) in lines[0]
    assert reliability.probe("messages", "[/x] in an error", clear), done.stderr
    # The summary after a finished batch names the output.
    source, output = tmp_path / "in.jsonl", tmp_path / "run[" / "x].jsonl"
    write_articles(source, 2)
    done = run_cli("batch", str(source), "-o", str(output), "--base-url", scripted_server.url,
                   "--model", "m", "--task", "quotes")  # fmt: skip
    summary = done.returncode == 0 and f"{output}: 2 lines" in done.stderr
    assert reliability.probe("messages", "[/x] in the batch summary", summary), done.stderr


def test_a_server_error_is_printed_verbatim(scripted_server: ScriptedServer) -> None:
    text = "[bold red]x[/] and [/x] and :warning: [link=http://evil.test]here[/link]"
    scripted_server.enqueue(Reply(status=400, error_message=text))
    done = extract_quotes("--base-url", scripted_server.url, "--model", "m")
    lines = done.stderr.strip().splitlines()
    verbatim = done.returncode == 1 and len(lines) == 1 and text in lines[0]
    assert reliability.probe("messages", "markup in a server's error", verbatim), done.stderr
    assert lines[0].startswith("error: ")
