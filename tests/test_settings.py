from __future__ import annotations

from pathlib import Path

import pytest

from llmextract import ConfigError, Settings
from llmextract.settings import choose_mode, resolve_endpoint


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    """An environment whose config file is in tmp_path (absent unless written)."""
    return {"LLMEXTRACT_CONFIG": str(tmp_path / "config.toml"), **values}


def test_nothing_configured_means_the_embedded_model(tmp_path: Path) -> None:
    endpoint = resolve_endpoint(env(tmp_path, OPENAI_API_KEY="sk-elsewhere"))
    assert endpoint.is_embedded
    assert endpoint.api_key is None  # a key meant for another service is not passed on
    assert endpoint.instructor_mode == "tools"


def test_base_url_and_model_from_env(tmp_path: Path) -> None:
    endpoint = resolve_endpoint(
        env(tmp_path, LLMEXTRACT_BASE_URL="http://h:1/v1", LLMEXTRACT_MODEL="m", OPENAI_API_KEY="k")
    )
    assert (endpoint.base_url, endpoint.model, endpoint.api_key) == ("http://h:1/v1", "m", "k")


def test_openai_base_url_is_a_fallback(tmp_path: Path) -> None:
    e = env(tmp_path, OPENAI_BASE_URL="http://a/v1", LLMEXTRACT_MODEL="m")
    assert resolve_endpoint(e).base_url == "http://a/v1"
    e["LLMEXTRACT_BASE_URL"] = "http://b/v1"
    assert resolve_endpoint(e).base_url == "http://b/v1"


def test_explicit_values_beat_env_and_profile(tmp_path: Path) -> None:
    e = env(tmp_path, LLMEXTRACT_PROFILE="ollama", LLMEXTRACT_MODEL="from-env")
    assert resolve_endpoint(e).model == "from-env"
    endpoint = resolve_endpoint(e, profile="vllm", model="from-flag", mode="json")
    assert endpoint.name == "vllm"
    assert endpoint.base_url == "http://localhost:8000/v1"
    assert endpoint.model == "from-flag"
    assert endpoint.instructor_mode == "json"


def test_profile_decides_mode_from_what_it_supports(tmp_path: Path) -> None:
    assert resolve_endpoint(env(tmp_path), profile="openai").instructor_mode == "tools"
    assert resolve_endpoint(env(tmp_path), profile="ollama").instructor_mode == "json_schema"
    assert choose_mode(("json_object",)) == "json"
    assert choose_mode(()) == "md_json"


def test_config_file_profiles_and_key_from_named_env_var(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        'default_profile = "box"\n'
        "[profiles.box]\n"
        'base_url = "http://gpu-box:8000/v1"\nmodel = "qwen"\n'
        'api_key_env = "BOX_KEY"\nsupports = ["json_object"]\nmax_tokens = 2048\n'
    )
    endpoint = resolve_endpoint(env(tmp_path, BOX_KEY="secret"))
    assert (endpoint.name, endpoint.model, endpoint.api_key) == ("box", "qwen", "secret")
    assert endpoint.instructor_mode == "json"
    assert endpoint.max_tokens == 2048
    assert "secret" not in repr(endpoint)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[profiles.x]\nbase_url = 1\nbogus = 2\n", "unknown keys"),
        ("not toml [", "config file"),
    ],
)
def test_bad_config_file_is_a_clear_error(tmp_path: Path, config: str, message: str) -> None:
    (tmp_path / "config.toml").write_text(config)
    with pytest.raises(ConfigError, match=message):
        resolve_endpoint(env(tmp_path))


def test_errors_say_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--model"):
        resolve_endpoint(env(tmp_path, LLMEXTRACT_BASE_URL="http://h/v1"))
    with pytest.raises(ConfigError, match="--base-url"):
        resolve_endpoint(env(tmp_path, LLMEXTRACT_MODEL="gpt-x"))
    with pytest.raises(ConfigError, match="unknown endpoint profile 'nope'"):
        resolve_endpoint(env(tmp_path), profile="nope")
    with pytest.raises(ConfigError, match="unknown mode"):
        resolve_endpoint(env(tmp_path), mode="xml")


def test_display_url_hides_credentials(tmp_path: Path) -> None:
    endpoint = resolve_endpoint(
        env(tmp_path), base_url="https://user:pw@example.test:8443/v1?key=abc", model="m"
    )
    assert endpoint.display_url == "https://example.test:8443/v1"


def test_settings_from_env_takes_knobs(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path), max_reasks=0, transport_retries=None)
    assert settings.max_reasks == 0
    assert settings.transport_retries == Settings().transport_retries
