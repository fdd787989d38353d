"""Fixtures and helpers shared by the test modules: import helpers from here, never from
another test module."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from llmextract.evaluation.gold import load_gold
from llmextract.settings import Endpoint, Settings
from llmextract.testing import ScriptedServer

pytest_plugins = ["llmextract.testing.pytest_plugin"]

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "harbour-council.txt"
# Our own hand-written gold set: 3 short articles, every task annotated.
GOLD = ROOT / "evals" / "gold" / "handwritten.jsonl"
# A quote of the sample article as a copy prompt's answer gives it.
MAYOR = {
    "content": "We cannot wait for the next flood to take the fish market,",
    "speaker": "Mayor Elena Ruiz",
    "speaker_name": "Elena Ruiz",
    "cue": "told",
    "kind": "direct",
}


@pytest.fixture
def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def settings_for(url: str, **overrides: object) -> Settings:
    """Settings that point at a local test server and do not sleep long between retries."""
    endpoint = Endpoint(
        name="test",
        base_url=url,
        model="scripted",
        api_key="sk-test-not-secret",
        supports=tuple(overrides.pop("supports", ("tools",))),  # type: ignore[arg-type]
        timeout_s=float(overrides.pop("timeout_s", 10.0)),  # type: ignore[arg-type]
        chunk_chars=int(overrides.pop("chunk_chars", 12000)),  # type: ignore[call-overload]
        max_tokens=int(overrides.pop("max_tokens", 1024)),  # type: ignore[call-overload]
        prompt_style=overrides.pop("prompt_style", "copy"),  # type: ignore[arg-type]
    )
    knobs: dict[str, object] = {"retry_initial_wait_s": 0.01, "retry_max_wait_s": 0.05}
    knobs.update(overrides)
    return Settings(endpoint=endpoint, **knobs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test gets its own response cache (the CLI finds it through XDG_CACHE_HOME)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def run_cli(
    *args: str, stdin: str | None = None, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``llmextract ARGS`` in a real process, with no endpoint or key from this machine."""
    environment = clean_environment()
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "llmextract", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
        cwd=cwd,
    )


def clean_environment() -> dict[str, str]:
    """This process's environment without any endpoint, key or config file of this machine."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("LLMEXTRACT_", "OPENAI_"))
    }
    environment["LLMEXTRACT_CONFIG"] = os.devnull + ".absent"
    return environment


def write_articles(path: Path, count: int, *, extra_lines: tuple[str, ...] = ()) -> None:
    """``count`` distinct articles (so none shares a cached answer), then ``extra_lines``."""
    text = SAMPLE.read_text(encoding="utf-8")
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            article = text.replace("Elena Ruiz", f"Elena Ruiz{i}")
            handle.write(json.dumps({"id": f"a{i}", "text": article, "desk": "city"}) + "\n")
        for line in extra_lines:
            handle.write(line + "\n")


def batch(
    server: ScriptedServer, source: Path, output: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """``llmextract batch`` of quotes from ``source`` to ``output`` against ``server``."""
    return run_cli(
        "batch", str(source), "-o", str(output), "--base-url", server.url, "--model", "scripted",
        "--task", "quotes", "--retries", "0", *args, **env,
    )  # fmt: skip


def records(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of ``path``."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def interrupt_midway(
    server: ScriptedServer,
    source: Path,
    output: Path,
    sig: signal.Signals,
    *extra: str,
    after_lines: int = 20,
) -> tuple[int, str, list[str], dict[str, str]]:
    """Start a batch in its own process, send ``sig`` once ``after_lines`` are written."""
    env = clean_environment()
    command = [
        sys.executable, "-m", "llmextract", "batch", str(source), "-o", str(output),
        "--base-url", server.url, "--model", "scripted", "--task", "quotes", *extra,
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if output.exists() and output.read_bytes().count(b"\n") >= after_lines:
            break
        time.sleep(0.005)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr, command, env


def predictions_from_gold(path: Path, keep: float = 1.0) -> None:
    """Write the gold records themselves as predictions (the first ``keep`` share of each)."""
    lines = []
    for gold in load_gold(GOLD):
        result = {
            "id": gold.id, "sha256": "x", "chars": len(gold.text), "model": "gold",
            "endpoint": "none", "prompts": {},
            "quotes": [q.model_dump() for q in gold.quotes][: round(len(gold.quotes) * keep)],
            "events": [
                e.model_dump(exclude={"source_type", "arguments"}) for e in gold.events if e.type
            ][: round(len(gold.events) * keep)],
            "stances": [
                s.model_dump(exclude={"label"}) for s in gold.stances if s.holder
            ][: round(len(gold.stances) * keep)],
        }  # fmt: skip
        lines.append(json.dumps(result))
    path.write_text("\n".join(lines) + "\n")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The reliability figures (faults, bad inputs, crashes, leaks) of this run, if any."""
    from tests import reliability

    lines = reliability.render()
    if lines:
        terminalreporter.write_sep("=", "reliability summary")
        for line in lines:
            terminalreporter.write_line(line)
