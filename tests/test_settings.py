from __future__ import annotations

from pathlib import Path

import pytest

from llmextract import ConfigError, Settings
from llmextract.settings import InsecureKeyWarning, choose_mode, resolve_endpoint


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
    # The OpenAI key is for OpenAI: a custom base URL does not get it.
    assert (endpoint.base_url, endpoint.model, endpoint.api_key) == ("http://h:1/v1", "m", None)


@pytest.mark.parametrize(
    ("values", "explicit", "key"),
    [
        ({"OPENAI_API_KEY": "o"}, {"profile": "openai"}, "o"),
        ({"OPENAI_API_KEY": "o"}, {"base_url": "https://api.openai.com/v1/", "model": "m"}, "o"),
        ({"OPENAI_API_KEY": "o", "OPENAI_BASE_URL": "https://proxy.test/v1"}, {"model": "m"}, "o"),
        ({"OPENAI_API_KEY": "o", "OPENAI_BASE_URL": "https://proxy.test/v1"},
         {"base_url": "https://other.test/v1", "model": "m"}, None),
        ({"OPENAI_API_KEY": "o"}, {"profile": "vllm"}, None),
        ({"OPENAI_API_KEY": "o", "LLMEXTRACT_API_KEY": "l"}, {"profile": "vllm"}, "l"),
        ({"LLMEXTRACT_API_KEY": "l"}, {"profile": "openai"}, "l"),
        ({"LLMEXTRACT_API_KEY": "l"}, {"profile": "vllm", "api_key": "flag"}, "flag"),
        ({"LLMEXTRACT_API_KEY": "l"}, {}, None),  # the embedded model never gets one
    ],
)  # fmt: skip
def test_each_key_goes_only_where_it_belongs(
    tmp_path: Path, values: dict[str, str], explicit: dict[str, str], key: str | None
) -> None:
    assert resolve_endpoint(env(tmp_path, **values), **explicit).api_key == key


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
    with pytest.warns(InsecureKeyWarning, match="plain http to gpu-box; use https"):
        endpoint = resolve_endpoint(env(tmp_path, BOX_KEY="secret"))
    assert (endpoint.name, endpoint.model, endpoint.api_key) == ("box", "qwen", "secret")
    assert endpoint.instructor_mode == "json"
    assert endpoint.max_tokens == 2048
    assert "secret" not in repr(endpoint)
    # The key belongs to the profile's URL: replaced by another, the key stays behind.
    moved = resolve_endpoint(env(tmp_path, BOX_KEY="secret"), base_url="https://elsewhere/v1")
    assert moved.name == "box" and moved.api_key is None


def test_a_profile_mode_survives_resolution(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[profiles.box]\nbase_url = "http://127.0.0.1:8000/v1"\nmodel = "q"\nmode = "json"\n'
        '[profiles.embedded]\nmode = "md_json"\n'
    )
    assert resolve_endpoint(env(tmp_path), profile="box").instructor_mode == "json"
    assert resolve_endpoint(env(tmp_path), profile="box", mode="tools").instructor_mode == "tools"
    assert resolve_endpoint(env(tmp_path)).instructor_mode == "md_json"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[profiles.x]\nbase_url = 1\nbogus = 2\n", r"\[profiles\.x\] has unknown keys"),
        ("not toml [", "config file"),
        ('[profiles."a b"]\nmax_tokens = 1.5\n', r'\[profiles\."a b"\] max_tokens: must be an'),
        ('[profiles.x]\nbase_url = "ftp://h/v1"\nmodel = "m"\n', "base_url: must be an http"),
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
    with pytest.raises(ConfigError, match="'localhost:11434/v1' is not an http or https URL: give"):
        resolve_endpoint(env(tmp_path), base_url="localhost:11434/v1", model="m")


def test_display_url_hides_credentials(tmp_path: Path) -> None:
    endpoint = resolve_endpoint(
        env(tmp_path), base_url="https://user:pw@example.test:8443/v1?key=abc", model="m"
    )
    assert endpoint.display_url == "https://example.test:8443/v1"


def test_settings_from_env_takes_knobs(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path), max_reasks=0, transport_retries=None)
    assert settings.max_reasks == 0
    assert settings.transport_retries == Settings().transport_retries


def test_the_embedded_model_threads_come_from_the_environment() -> None:
    env = {"LLMEXTRACT_CONFIG": "/nonexistent/config.toml", "LLMEXTRACT_EMBEDDED_THREADS": "1"}
    assert Settings.from_env(env).embedded_threads == 1
    assert Settings.from_env({"LLMEXTRACT_CONFIG": "/nonexistent/c.toml"}).embedded_threads is None
    for bad in ("0", "two", "-3"):
        with pytest.raises(ConfigError, match="LLMEXTRACT_EMBEDDED_THREADS"):
            Settings.from_env({**env, "LLMEXTRACT_EMBEDDED_THREADS": bad})
