"""The CLI as a user runs it: a real process against the real local test server."""

from __future__ import annotations

import inspect
import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any, get_args

import typer

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
    assert done.stdout.splitlines()[-1] == "These options use mode tools, which works."


def test_endpoints_list_and_prompts_list() -> None:
    endpoints = run_cli("endpoints", "list").stdout
    for name in ("embedded", "openai", "ollama", "vllm", "llamacpp"):
        assert name in endpoints
    prompts = run_cli("prompts", "list").stdout.split()
    assert {p.split("@")[0] for p in prompts} >= {"quotes.v1", "events.v1", "stances.v1"}


# --- the command line's surface: version, help, knobs ----------------------------------------

GOLD = SAMPLE.parent.parent / "evals" / "gold" / "handwritten.jsonl"
# What every command that asks a model takes, and where it runs many documents, --concurrency.
ENDPOINT_OPTIONS = ("--profile", "--base-url", "--model", "--api-key", "--mode")
MODEL_OPTIONS = (*ENDPOINT_OPTIONS, "--max-reasks", "--retries", "--no-cache")


def test_version_prints_the_package_version() -> None:
    done = run_cli("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"llmextract {version('llmextract')}\n"


def _commands() -> list[tuple[tuple[str, ...], Any]]:
    """Every command and sub-command path with its click command, the root first."""
    from llmextract.cli import app

    found: list[tuple[tuple[str, ...], Any]] = []
    todo: list[tuple[tuple[str, ...], Any]] = [((), typer.main.get_command(app))]
    while todo:
        path, command = todo.pop(0)
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            todo.append(((*path, name), sub))
    return found


def _squeezed(text: str) -> str:
    """Text without whitespace: help wrapped at any width reads the same."""
    return re.sub(r"\s+", "", text)


def _first_sentence(help_text: str) -> str:
    paragraph = inspect.cleandoc(help_text).split("\n\n")[0]
    return re.split(r"(?<=\.)\s", paragraph, maxsplit=1)[0]


def test_every_help_reads_whole_at_80_columns_without_python_types() -> None:
    problems = []
    for path, command in _commands():
        done = run_cli(*path, "--help", COLUMNS="80")
        shown, where = done.stdout, " ".join(("llmextract", *path))
        if done.returncode != 0:
            problems.append(f"{where}: exit {done.returncode}: {done.stderr}")
            continue
        if long := [line for line in shown.splitlines() if len(line) > 80]:
            problems.append(f"{where}: lines over 80 columns: {long[:2]}")
        # Every sentence written for the help is shown whole: none cut short with "...", none
        # losing words to markup ("'llmextract[ray]'" printed as "'llmextract'").
        texts = [inspect.cleandoc(command.help or "")]
        texts += [p.help for p in command.params if getattr(p, "help", None)]
        texts += [
            _first_sentence(sub.help or "") for sub in getattr(command, "commands", {}).values()
        ]
        problems += [
            f"{where}: not shown whole: {t!r}"
            for t in texts
            if _squeezed(t) not in _squeezed(shown)
        ]
        if types := re.findall(r"<(?:bool|str|int|float|list\[[^>]*\]|\w+ range)>|\[x[<>]", shown):
            problems.append(f"{where}: Python types shown: {sorted(set(types))}")
        words = " ".join(shown.split())  # "[default:" may end a line
        if len(re.findall(r"(?i)\bdefault\b", words)) != words.count("[default: "):
            problems.append(f"{where}: defaults not all shown as [default: ...]")
    assert not problems, "\n".join(problems)


def test_convert_offers_every_dataset_there_is() -> None:
    from llmextract.cli.evaluate import Dataset
    from llmextract.evaluation.converters import DATASETS

    assert get_args(Dataset) == DATASETS


def test_every_command_that_asks_a_model_takes_the_same_knobs() -> None:
    wanted = {
        ("extract",): MODEL_OPTIONS,
        ("batch",): (*MODEL_OPTIONS, "--concurrency"),
        ("eval",): (*MODEL_OPTIONS, "--concurrency"),
        ("sweep",): (*MODEL_OPTIONS, "--concurrency"),
        ("endpoints", "check"): ENDPOINT_OPTIONS,
    }
    missing = {}
    for path, options in wanted.items():
        shown = run_cli(*path, "--help", COLUMNS="200").stdout
        missing[path] = [o for o in options if not re.search(rf"(?<![\w-]){o}(?![\w-])", shown)]
    assert missing == {path: [] for path in wanted}


def test_eval_takes_max_reasks(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    ungrounded = Reply(arguments={"quotes": [{"content": "words nobody wrote"}]})
    scripted_server.enqueue(*[ungrounded] * 3)
    out = tmp_path / "run.json"
    done = run_cli(
        "eval", str(GOLD), "--task", "quotes", "--max-reasks", "0", "--retries", "0",
        "--base-url", scripted_server.url, "--model", "scripted", "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(scripted_server.requests) == 3, "one request per document: no re-ask"


def test_sweep_takes_mode_no_cache_and_concurrency(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    args = (
        "sweep", str(GOLD), "--prompt", "v1", "--metric", "quotes.content", "--mode", "json",
        "--no-cache", "--concurrency", "1", "--base-url", scripted_server.url, "--model", "m",
    )  # fmt: skip
    for _ in range(2):
        done = run_cli(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    bodies = [request.body for request in scripted_server.requests]
    assert bodies and all("tools" not in body for body in bodies), "asked in json mode"
    asked = sorted(json.dumps(body, sort_keys=True) for body in bodies)
    assert asked[::2] == asked[1::2], "the second run asked the same again: no cache"


def test_endpoints_check_reports_the_mode_in_use(scripted_server: ScriptedServer) -> None:
    scripted_server.enqueue(
        Reply(arguments={"city": "Paris", "country": "France"}),
        Reply(status=500),
        Reply(arguments={"city": "Paris", "country": "France"}),
        Reply(content="I don't do JSON"),
    )
    args = ("endpoints", "check", "--base-url", scripted_server.url, "--model", "m")
    done = run_cli(*args, "--mode", "md_json")
    assert done.returncode == 1, "the mode these options use does not work"
    assert "md_json" in done.stdout.splitlines()[-1] and "--mode tools" in done.stdout


# --- extract and batch with the rules system; extract of a folder ------------------------------


def test_extract_with_the_rules_system_asks_no_model(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    from llmextract.evaluation.baselines import rule_extract

    missing_model = str(tmp_path / "no-such-model.gguf")
    for endpoint in ({}, {"LLMEXTRACT_BASE_URL": scripted_server.url}):
        done = run_cli(
            "extract", str(SAMPLE), "--system", "rules", "--no-cache",
            LLMEXTRACT_EMBEDDED_MODEL=missing_model, **endpoint,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert (result["model"], result["endpoint"]) == ("rules", "none")
        assert result["usage"]["requests"] == 0 and result["notice"] is None
        text = SAMPLE.read_text(encoding="utf-8")
        for task in ("quotes", "events", "stances"):
            expected = [r.model_dump(mode="json") for r in rule_extract(text, task)]
            assert result[task] == expected, task
        assert set(result["prompts"]) == {"quotes", "events", "stances"}
    assert scripted_server.requests == []


def test_batch_with_the_rules_system_asks_no_model_and_resumes(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    text = SAMPLE.read_text(encoding="utf-8")
    source.write_text("".join(json.dumps({"id": f"a{i}", "text": text}) + "\n" for i in range(3)))
    args = ("batch", str(source), "-o", str(output), "--system", "rules", "-t", "quotes")
    env = {"LLMEXTRACT_BASE_URL": scripted_server.url}
    done = run_cli(*args, **env)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [line["status"] for line in lines] == ["ok"] * 3
    assert {line["result"]["model"] for line in lines} == {"rules"}
    assert all(line["result"]["quotes"] and line["result"]["events"] == [] for line in lines)
    again = run_cli(*args, **env)
    assert again.returncode == 0, again.stderr
    assert "3 already done" in again.stderr
    refused = run_cli(*args[:-1], "all", **env)
    assert refused.returncode == 1 and "--restart" in refused.stderr
    ledger = json.loads((tmp_path / "out.ledger.json").read_text())
    assert {run["model"] for run in ledger["runs"]} == {"rules"}
    assert scripted_server.requests == []


def test_extract_of_a_folder_points_to_batch(tmp_path: Path) -> None:
    done = run_cli("extract", str(tmp_path))
    assert done.returncode == 1
    assert f"llmextract batch {tmp_path} -o results.jsonl" in done.stderr
    assert "later" not in done.stderr


def test_a_copy_prompt_named_for_a_choice_endpoint_draws_a_warning(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profiles.small]\nbase_url = "{scripted_server.url}"\nmodel = "m"\n'
        'prompt_style = "choose"\n'
    )
    article = tmp_path / "a.txt"
    article.write_text('Mayor Ann Lee said, "We will build the wall by March."\n')
    done = run_cli("extract", str(article), "--profile", "small", "--prompt", "v1",
                   "-t", "quotes", LLMEXTRACT_CONFIG=str(config))  # fmt: skip
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stderr.split())
    assert "warning: quotes.v1 is a copy prompt" in said and "quotes.v6" in said
    done = run_cli("extract", str(article), "--profile", "small", "-t", "quotes",
                   LLMEXTRACT_CONFIG=str(config))  # fmt: skip
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr


def test_an_unknown_version_says_versions_are_per_task() -> None:
    done = run_cli("extract", str(SAMPLE), "--prompt", "v5", "--base-url",
                   "http://127.0.0.1:9/v1", "--model", "m")  # fmt: skip
    said = " ".join(done.stderr.split())
    assert done.returncode == 1
    assert "versions are numbered per task, events has: events.v1 (copy)" in said, said
    assert "--prompt events.vN" in said


def test_prompts_list_shows_each_prompts_style_and_the_defaults() -> None:
    done = run_cli("prompts", "list")
    rows = [line.split() for line in done.stdout.splitlines()]
    assert done.returncode == 0
    assert rows[0] == ["id", "style", "default", "from"]
    default = ["choose", "default", "packaged"]
    assert ["quotes.v6@" in r[0] and r[1:] == default for r in rows].count(True) == 1
    assert any(
        r[0].startswith("quotes.v5@") and r[1:] == ["copy", "default", "packaged"] for r in rows
    )
    assert any(r[0].startswith("quotes.v1@") and r[1:] == ["copy", "packaged"] for r in rows)
    assert any(r[0].startswith("quotes.v2@") and r[1:] == ["choose", "packaged"] for r in rows)


def test_the_batch_bar_keeps_its_counts_and_time_left_at_80_columns() -> None:
    import io

    from rich.console import Console

    from llmextract.batch import BatchReport
    from llmextract.cli.console import batch_progress

    screen = io.StringIO()
    console = Console(file=screen, width=80, force_terminal=True, color_system=None)
    report = BatchReport(output=Path("out.jsonl"), total=10_000)
    report.started -= 600  # ten minutes in
    with batch_progress(report, console=console) as show:
        report.ok, report.failed, report.skipped = 1_180, 20, 300
        report.usage.prompt_tokens = 2_345_678
        show(report)
    shown = screen.getvalue().replace("\x1b[2K", "").splitlines()
    bar = [line for line in shown if line.startswith("batch")][-1]
    status = shown[shown.index(bar) + 1]
    assert all(len(line) <= 80 and "…" not in line for line in shown), shown
    # 1,200 extracted in 600 s: 8,500 left at 2 a second.
    assert "1500/10000" in bar and "ETA 1:10:50" in bar, bar
    assert "1180 ok, 20 failed, 300 already done · 2.00 documents/s · 2.3M tokens" in status
