from __future__ import annotations

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
