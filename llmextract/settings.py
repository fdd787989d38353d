"""Settings: the only place that reads environment variables and the config file.

Where an endpoint comes from, lowest to highest precedence:

1. the config file's ``default_profile``
2. ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``
3. ``LLMEXTRACT_PROFILE``, ``LLMEXTRACT_BASE_URL``, ``LLMEXTRACT_MODEL``,
   ``LLMEXTRACT_API_KEY``, ``LLMEXTRACT_MODE``
4. explicit arguments (the CLI's ``--profile``, ``--base-url``, ``--model``, ``--api-key``,
   ``--mode``)

A profile named at one level fills every field it has at that level; explicit values at the
same level win over it. With no base URL anywhere, the embedded model is used.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from llmextract.errors import ConfigError

__all__ = [
    "BUILTIN_PROFILES",
    "MODES",
    "Capability",
    "Endpoint",
    "Mode",
    "Price",
    "Settings",
    "cache_path",
    "choose_mode",
    "config_path",
    "load_prices",
    "load_profiles",
    "resolve_endpoint",
]

Capability = Literal["tools", "json_schema", "json_object", "md_json"]
Mode = Literal["tools", "json_schema", "json", "md_json"]
# Best first: a forced tool call or a JSON schema lets the server constrain decoding to the
# schema; json_object only promises JSON; md_json asks politely and parses a code block.
_MODE_FOR_CAPABILITY: dict[Capability, Mode] = {
    "tools": "tools",
    "json_schema": "json_schema",
    "json_object": "json",
    "md_json": "md_json",
}
MODES: tuple[Mode, ...] = ("tools", "json_schema", "json", "md_json")

EMBEDDED = "embedded"


def choose_mode(supports: tuple[Capability, ...]) -> Mode:
    """The best instructor mode an endpoint supports (md_json needs nothing)."""
    for capability, mode in _MODE_FOR_CAPABILITY.items():
        if capability in supports:
            return mode
    return "md_json"


@dataclass(frozen=True)
class Endpoint:
    """A model behind an OpenAI-compatible API, and what it supports."""

    name: str
    base_url: str | None  # None: the embedded model, started on demand
    model: str
    api_key: str | None = field(default=None, repr=False)
    supports: tuple[Capability, ...] = ("tools",)
    mode: Mode | None = None  # None: chosen from `supports`
    # copy: the model copies spans out of the article (capable models); choose: it decides
    # about candidates the code found (small models, which copy badly).
    prompt_style: Literal["copy", "choose"] = "copy"
    max_tokens: int = 1024
    chunk_chars: int = 12000
    timeout_s: float = 120.0  # one request attempt, from sending it to its last byte
    # The largest answer accepted, counted after gzip/deflate decoding: a bigger one is no
    # chat completion worth holding in memory (a compressed "bomb" expands a thousandfold).
    max_response_bytes: int = 16 * 2**20
    # A server that runs one request at a time (None: unknown, trust --concurrency). Sending
    # it more only interleaves prompts, so each one evicts the article the next one shares.
    max_in_flight: int | None = None

    @property
    def is_embedded(self) -> bool:
        return self.base_url is None

    @property
    def instructor_mode(self) -> Mode:
        return self.mode or choose_mode(self.supports)

    @property
    def display_url(self) -> str:
        """The base URL without credentials or query, safe to write into outputs."""
        if self.base_url is None:
            return EMBEDDED
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))


BUILTIN_PROFILES: dict[str, Endpoint] = {
    EMBEDDED: Endpoint(
        name=EMBEDDED,
        base_url=None,
        model="smollm2-135m-instruct",
        supports=("tools", "json_object"),
        prompt_style="choose",
        max_tokens=768,
        chunk_chars=6000,
        timeout_s=300.0,
        max_in_flight=1,
    ),
    "openai": Endpoint(
        name="openai",
        base_url="https://api.openai.com/v1",
        model="gpt-4o-mini",
        supports=("tools", "json_schema", "json_object"),
        chunk_chars=40000,
    ),
    "ollama": Endpoint(
        name="ollama",
        base_url="http://localhost:11434/v1",
        model="llama3.2",
        supports=("json_schema", "json_object"),
        timeout_s=300.0,
    ),
    "vllm": Endpoint(
        name="vllm",
        base_url="http://localhost:8000/v1",
        model="Qwen/Qwen2.5-7B-Instruct",
        supports=("json_schema", "json_object", "tools"),
    ),
    "llamacpp": Endpoint(
        name="llamacpp",
        base_url="http://localhost:8080/v1",
        model="default",
        supports=("json_schema", "json_object"),
        timeout_s=300.0,
    ),
}
_PROFILE_KEYS = {
    "base_url",
    "model",
    "api_key",
    "api_key_env",
    "supports",
    "mode",
    "prompt_style",
    "max_tokens",
    "chunk_chars",
    "timeout_s",
    "max_response_bytes",
}


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        spent = prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok
        return spent / 1e6


@dataclass(frozen=True)
class Settings:
    """Everything a run needs besides the article: the endpoint and how hard to try."""

    endpoint: Endpoint = field(default_factory=lambda: BUILTIN_PROFILES[EMBEDDED])
    max_reasks: int = 2
    transport_retries: int = 5
    retry_initial_wait_s: float = 1.0
    retry_max_wait_s: float = 30.0
    chunk_overlap_chars: int = 400
    temperature: float = 0.0
    embedded_model_path: str | None = None
    concurrency: int = 8  # requests in flight at once
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    cache_dir: Path | None = None  # None: no response cache
    # The longest one document may take, not counting time its requests wait behind other
    # documents' for a request slot or the rate limits; None: no limit.
    document_timeout_s: float | None = 900.0
    prices: Mapping[str, Price] = field(default_factory=dict)  # model -> price

    @property
    def in_flight(self) -> int:
        """Requests to keep in flight: ``concurrency``, capped by what the server runs."""
        cap = self.endpoint.max_in_flight
        return max(1, self.concurrency if cap is None else min(self.concurrency, cap))

    @property
    def documents_ahead(self) -> int:
        """Documents to start at once: enough to keep ``in_flight`` requests busy, but one
        at a time for a one-request server, whose prompt cache then serves every request of
        a document (the article comes first in each) from the article read once."""
        return 1 if self.in_flight == 1 else 4 * self.in_flight

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **explicit: Any) -> Settings:
        """Settings from the environment, the config file and explicit endpoint fields.

        ``explicit`` takes ``profile``, ``base_url``, ``model``, ``api_key`` and ``mode``
        (None means not given), ``use_cache`` (default True: the cache folder is
        ``LLMEXTRACT_CACHE_DIR`` or the user cache folder) and any other field of this class.
        """
        env = os.environ if env is None else env
        config = _read_config(env)
        endpoint_keys = ("profile", "base_url", "model", "api_key", "mode")
        endpoint = resolve_endpoint(
            env, config=config, **{k: explicit.pop(k, None) for k in endpoint_keys}
        )
        use_cache = explicit.pop("use_cache", None) is not False
        knobs = {k: v for k, v in explicit.items() if v is not None}
        return cls(
            endpoint=endpoint,
            embedded_model_path=env.get("LLMEXTRACT_EMBEDDED_MODEL"),
            cache_dir=cache_path(env) if use_cache else None,
            prices=_prices(config, config_path(env)),
            **knobs,
        )

    @property
    def price(self) -> Price | None:
        """The price of this run's model, if the config or --prices names it."""
        return self.prices.get(self.endpoint.model)


def cache_path(env: Mapping[str, str] | None = None) -> Path:
    """The response cache folder: ``LLMEXTRACT_CACHE_DIR`` or the user cache folder."""
    env = os.environ if env is None else env
    return Path(env.get("LLMEXTRACT_CACHE_DIR") or platformdirs.user_cache_path("llmextract"))


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("LLMEXTRACT_CONFIG"):
        return Path(env["LLMEXTRACT_CONFIG"])
    return platformdirs.user_config_path("llmextract") / "config.toml"


def _read_config(env: Mapping[str, str]) -> dict[str, Any]:
    path = config_path(env)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"config file {path}: {error}; fix it or set LLMEXTRACT_CONFIG") from None


def _prices(config: dict[str, Any], source: Path) -> dict[str, Price]:
    table = config.get("prices") or {}
    prices: dict[str, Price] = {}
    for model, entry in table.items():
        try:
            prices[model] = Price(float(entry["input_per_mtok"]), float(entry["output_per_mtok"]))
        except (KeyError, TypeError, ValueError):
            raise ConfigError(
                f"{source}: [prices.{model!r}] needs input_per_mtok and output_per_mtok "
                "(US dollars per million tokens)"
            ) from None
    return prices


def load_prices(path: Path) -> dict[str, Price]:
    """A price table file: TOML with one [prices."MODEL"] table per model."""
    try:
        with path.open("rb") as handle:
            return _prices(tomllib.load(handle), path)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"price table {path}: {error}") from None


def load_profiles(env: Mapping[str, str] | None = None) -> dict[str, Endpoint]:
    """Built-in profiles, overridden and extended by the config file's [profiles.NAME]."""
    env = os.environ if env is None else env
    return _profiles(_read_config(env), env)


def _profiles(config: dict[str, Any], env: Mapping[str, str]) -> dict[str, Endpoint]:
    profiles = dict(BUILTIN_PROFILES)
    for name, table in (config.get("profiles") or {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"{config_path(env)}: [profiles.{name}] must be a table")
        unknown = set(table) - _PROFILE_KEYS
        if unknown:
            raise ConfigError(
                f"{config_path(env)}: [profiles.{name}] has unknown keys {sorted(unknown)}; "
                f"allowed: {sorted(_PROFILE_KEYS)}"
            )
        values = dict(table)
        key_env = values.pop("api_key_env", None)
        if key_env:
            values["api_key"] = env.get(key_env)
        if "supports" in values:
            values["supports"] = tuple(values["supports"])
        base = profiles.get(name, Endpoint(name=name, base_url=None, model=""))
        profiles[name] = replace(base, name=name, **values)
    return profiles


def _profile(profiles: dict[str, Endpoint], name: str) -> Endpoint:
    if name not in profiles:
        raise ConfigError(
            f"unknown endpoint profile {name!r}: use one of {', '.join(sorted(profiles))} "
            f"or add [profiles.{name}] to {config_path()}"
        )
    return profiles[name]


def resolve_endpoint(
    env: Mapping[str, str],
    *,
    config: dict[str, Any] | None = None,
    profile: str | None = None,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    mode: str | None = None,
) -> Endpoint:
    """Merge the levels described in this module's docstring into one endpoint.

    ``config`` is the config file already read, if the caller has it.
    """
    config = _read_config(env) if config is None else config
    profiles = _profiles(config, env)
    levels: list[dict[str, str | None]] = [
        {"profile": config.get("default_profile")},
        {"base_url": env.get("OPENAI_BASE_URL"), "api_key": env.get("OPENAI_API_KEY")},
        {
            "profile": env.get("LLMEXTRACT_PROFILE"),
            "base_url": env.get("LLMEXTRACT_BASE_URL"),
            "model": env.get("LLMEXTRACT_MODEL"),
            "api_key": env.get("LLMEXTRACT_API_KEY"),
            "mode": env.get("LLMEXTRACT_MODE"),
        },
        {
            "profile": profile,
            "base_url": base_url,
            "model": model,
            "api_key": api_key,
            "mode": mode,
        },
    ]
    chosen: Endpoint | None = None
    fields: dict[str, Any] = {}
    for level in levels:
        if level.get("profile"):
            chosen = _profile(profiles, str(level["profile"]))
            fields = {"base_url": chosen.base_url, "model": chosen.model}
            if chosen.api_key:
                fields["api_key"] = chosen.api_key
        fields.update({k: v for k, v in level.items() if k != "profile" and v})
    if not fields.get("base_url"):
        if chosen is not None and not chosen.is_embedded:
            raise ConfigError(f"profile {chosen.name!r} has no base_url: add one to its table")
        embedded = profiles[EMBEDDED]
        if fields.get("model") and fields["model"] != embedded.model:
            raise ConfigError(
                f"model {fields['model']!r} given without an endpoint: add --base-url URL or "
                "--profile NAME (the embedded model needs neither)"
            )
        # The embedded model never gets an API key: one from the environment is for elsewhere.
        return replace(embedded, mode=_check_mode(fields.get("mode")))
    if chosen is None:
        chosen = Endpoint(name="custom", base_url=fields["base_url"], model="")
    if not fields.get("model"):
        raise ConfigError(
            f"no model named for {fields['base_url']}: pass --model NAME or set LLMEXTRACT_MODEL"
        )
    return replace(
        chosen,
        base_url=fields["base_url"],
        model=fields["model"],
        api_key=fields.get("api_key"),
        mode=_check_mode(fields.get("mode")),
    )


def _check_mode(mode: str | None) -> Mode | None:
    if mode is None:
        return None
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    return mode
