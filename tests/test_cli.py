"""The CLI as a user runs it: a real process against the real local test server."""

from __future__ import annotations

import json
from pathlib import Path

from llmextract.testing import Reply, ScriptedServer
from tests.conftest import SAMPLE, run_cli


def test_help_lists_commands_and_options() -> None:
    top = run_cli("--help")
    assert top.returncode == 0
    for command in ("extract", "endpoints", "prompts"):
        assert command in top.stdout
    extract_help = run_cli("extract", "--help").stdout
    for option in (
        "--task",
        "--prompt",
        "--base-url",
        "--model",
        "--api-key",
        "--profile",
        "--mode",
        "--output",
        "--format",
    ):
        assert option in extract_help


def test_extract_against_an_endpoint_prints_grounded_json(scripted_server: ScriptedServer) -> None:
    done = run_cli("extract", str(SAMPLE), "--base-url", scripted_server.url, "--model", "scripted")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    text = SAMPLE.read_text(encoding="utf-8")
    assert result["quotes"], "the default answer holds the sample's direct quotes"
    for quote in result["quotes"]:
        span = quote["content"]
        assert text[span["start"] : span["end"]] == span["text"]
    assert result["endpoint"] == scripted_server.url
    assert result["notice"] is None


def test_stdin_task_choice_jsonl_and_output_file(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "result.jsonl"
    done = run_cli(
        "extract",
        "-",
        "--task",
        "quotes",
        "--format",
        "jsonl",
        "-o",
        str(out),
        "--id",
        "piece-9",
        stdin=SAMPLE.read_text(encoding="utf-8"),
        LLMEXTRACT_BASE_URL=scripted_server.url,
        LLMEXTRACT_MODEL="scripted",
    )
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["id"] == "piece-9"
    assert list(result["prompts"]) == ["quotes"]
    assert len(scripted_server.requests) == 1


def test_errors_are_one_line_with_exit_code_1(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    done = run_cli("extract", str(empty))
    assert done.returncode == 1
    assert "is empty" in done.stderr and "Traceback" not in done.stderr

    scripted_server.enqueue(*[Reply(arguments={"quotes": [{"content": "words nobody wrote"}]})] * 3)
    done = run_cli(
        "extract", str(SAMPLE), "-t", "quotes", "--base-url", scripted_server.url, "--model", "m"
    )
    assert done.returncode == 0
    assert json.loads(done.stdout)["dropped"], "the ungrounded quote is recorded as dropped"
    assert done.stderr == "", "re-asks and drops are reported in the output, not as errors"

    scripted_server.enqueue(Reply(status=401))
    done = run_cli(
        "extract",
        str(SAMPLE),
        "--base-url",
        scripted_server.url,
        "--model",
        "m",
        "--api-key",
        "sk-planted-secret-123",
    )
    assert done.returncode == 1
    assert "LLMEXTRACT_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr
    assert "sk-planted-secret-123" not in done.stderr + done.stdout

    done = run_cli(
        "extract",
        str(SAMPLE),
        "--task",
        "gossip",
        "--base-url",
        scripted_server.url,
        "--model",
        "m",
    )
    assert done.returncode == 1 and "unknown task 'gossip'" in done.stderr


def test_endpoints_check_reports_modes(scripted_server: ScriptedServer) -> None:
    scripted_server.enqueue(
        Reply(arguments={"city": "Paris", "country": "France"}),
        Reply(status=500),
        Reply(arguments={"city": "Paris", "country": "France"}),
        Reply(content="I don't do JSON"),
    )
    done = run_cli("endpoints", "check", "--base-url", scripted_server.url, "--model", "scripted")
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines()[1:-1]}
    assert "works" in lines["tools"] and "FAILS" in lines["json_schema"]
    assert "works" in lines["json"] and "FAILS" in lines["md_json"]
    assert "--mode tools" in done.stdout


def test_endpoints_list_and_prompts_list() -> None:
    endpoints = run_cli("endpoints", "list").stdout
    for name in ("embedded", "openai", "ollama", "vllm", "llamacpp"):
        assert name in endpoints
    prompts = run_cli("prompts", "list").stdout.split()
    assert {p.split("@")[0] for p in prompts} >= {"quotes.v1", "events.v1", "stances.v1"}
