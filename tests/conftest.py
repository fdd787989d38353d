from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmextract.settings import Endpoint, Settings

pytest_plugins = ["llmextract.testing.pytest_plugin"]

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "harbour-council.txt"


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
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("LLMEXTRACT_", "OPENAI_"))
    }
    environment.update(env)
    environment.setdefault("LLMEXTRACT_CONFIG", os.devnull + ".absent")
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The reliability figures (faults, bad inputs, crashes, leaks) of this run, if any."""
    from tests import reliability

    lines = reliability.render()
    if lines:
        terminalreporter.write_sep("=", "reliability summary")
        for line in lines:
            terminalreporter.write_line(line)
