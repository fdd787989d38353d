"""Settings: the only place that reads environment variables and the config file.

Where an endpoint comes from, lowest to highest precedence:

1. the config file's ``default_profile``
2. ``OPENAI_BASE_URL``
3. ``LLMEXTRACT_PROFILE``, ``LLMEXTRACT_BASE_URL``, ``LLMEXTRACT_MODEL``,
   ``LLMEXTRACT_API_KEY``, ``LLMEXTRACT_MODE``
4. explicit arguments (the CLI's ``--profile``, ``--base-url``, ``--model``, ``--api-key``,
   ``--mode``)

A profile named at one level fills every field it has at that level; explicit values at the
same level win over it. With no base URL anywhere, the embedded model is used.

Which API key goes where (a key never travels to a server it was not meant for):

- ``LLMEXTRACT_API_KEY`` and ``--api-key`` go to whatever endpoint is chosen, the later level
  winning as above;
- a profile's key (``api_key_env`` or ``api_key``) goes only to that profile's own base URL;
- ``OPENAI_API_KEY`` goes only to ``OPENAI_BASE_URL`` or to https://api.openai.com (the
  ``openai`` profile), never to a custom base URL;
- otherwise no key (``Endpoint.api_key`` is None) and the embedded model never gets one.

Where prompts are looked up, first found wins (see :func:`prompt_folders`):
``--prompts-dir`` (repeatable), ``LLMEXTRACT_PROMPTS_DIR`` (folders separated by
``os.pathsep``), the config file's ``prompt_dirs``, the ``prompts`` folder of the user config
folder, then the prompts packaged with llmextract. Task files (:mod:`llmextract.tasks`) come
from ``--tasks-file``, ``LLMEXTRACT_TASKS_FILE`` and the config file's ``tasks_files``.

A key about to travel over plain http to a host other than this machine raises an
:class:`InsecureKeyWarning`. The config file is checked as it is read: an unknown key or a
value of the wrong type or range is a :class:`~llmextract.errors.ConfigError` naming it.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from llmextract.errors import ConfigError

__all__ = [
    "BUILTIN_PROFILES",
    "MODES",
    "Capability",
    "Endpoint",
    "InsecureKeyWarning",
    "Mode",
    "Price",
    "Settings",
    "cache_path",
    "choose_mode",
    "config_path",
    "load_prices",
    "load_profiles",
    "prompt_folders",
    "resolve_endpoint",
    "task_files",
    "user_prompts_path",
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
OPENAI_URL = "https://api.openai.com/v1"


class InsecureKeyWarning(UserWarning):
    """An API key is about to travel unencrypted to another machine."""


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
        return EMBEDDED if self.base_url is None else _without_secrets(self.base_url)


def _without_secrets(url: str) -> str:
    """``url`` without user, password or query: what may be printed or written."""
    parts = urlsplit(url)
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
        base_url=OPENAI_URL,
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


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint's base URL, or None when it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check: "h:abc" raises
    except ValueError:
        return "the base URL cannot be parsed (check its host, port and brackets)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"base URL {_without_secrets(url)!r} is not an http or https URL"
    return None


class _Checked(BaseModel):
    """A table of the config file. Each field's description says what its value must be;
    TOML values are typed, so a string where a number belongs is refused, not converted."""

    model_config = ConfigDict(strict=True, extra="forbid")


class _ProfileTable(_Checked):
    """One ``[profiles.NAME]`` table: the keys a profile may set."""

    base_url: str | None = Field(None, description="an http or https URL")
    model: str | None = Field(None, description="a model name")
    api_key: str | None = Field(None, description="a string (better: api_key_env)")
    api_key_env: str | None = Field(None, description="the name of an environment variable")
    supports: list[Capability] | None = Field(
        None, description=f"a list of {', '.join(_MODE_FOR_CAPABILITY)}"
    )
    mode: Mode | None = Field(None, description=f"one of {', '.join(MODES)}")
    prompt_style: Literal["copy", "choose"] | None = Field(None, description="copy or choose")
    max_tokens: int | None = Field(None, ge=1, description="an integer >= 1")
    # A chunk holds a few sentences and more than the overlap between chunks.
    chunk_chars: int | None = Field(None, ge=1000, description="an integer >= 1000")
    timeout_s: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="a number of seconds > 0"
    )
    max_response_bytes: int | None = Field(None, ge=1024, description="an integer >= 1024")

    @field_validator("base_url")
    @classmethod
    def _a_url(cls, url: str | None) -> str | None:
        if url is not None and _url_problem(url):
            raise ValueError("not an http or https URL")
        return url


class _PriceTable(_Checked):
    """One ``[prices."MODEL"]`` table."""

    input_per_mtok: float = Field(
        ge=0, allow_inf_nan=False, description="US dollars per million tokens, a number >= 0"
    )
    output_per_mtok: float = Field(
        ge=0, allow_inf_nan=False, description="US dollars per million tokens, a number >= 0"
    )


class _ConfigFile(_Checked):
    """The config file's top level (a price table file is one with only ``[prices]``)."""

    default_profile: str | None = Field(None, description="a profile name")
    profiles: dict[str, Any] = Field({}, description="a table of [profiles.NAME] tables")
    prices: dict[str, Any] = Field({}, description='a table of [prices."MODEL"] tables')
    prompt_dirs: list[str] = Field([], description="a list of folder paths")
    tasks_files: list[str] = Field([], description="a list of task file paths")


# Values never echoed in an error: a key, or a URL that may carry credentials.
_UNECHOED = {"api_key", "base_url"}
_Table = TypeVar("_Table", bound=_Checked)


def _check(model: type[_Table], data: Any, where: str, section: str = "") -> _Table:
    """``data`` as ``model``, or a one-line ConfigError naming the wrong key in ``where``."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = error.errors()
    unknown = sorted(str(p["loc"][0]) for p in problems if p["type"] == "extra_forbidden")
    first = problems[0]
    if unknown:
        what = f"{' has' if section else ''} unknown keys {unknown}; allowed: "
        what += str(sorted(model.model_fields))
    elif not first["loc"]:
        what = f": must be a table (got {_clipped(data)})"
    else:
        key = str(first["loc"][0])
        must = model.model_fields[key].description
        if first["type"] == "missing":
            what = f" {key}: missing: add it ({must})"
        elif key in _UNECHOED:
            what = f" {key}: must be {must}"
        else:
            what = f" {key}: must be {must} (got {_clipped(data[key])})"
    raise ConfigError(f"{where}:{' ' + section if section else ''}{what}")


def _clipped(value: Any, limit: int = 60) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _section(table: str, name: str) -> str:
    """``[table.name]`` as TOML writes it: a name other than a bare key is quoted."""
    bare = name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)
    return f"[{table}.{name}]" if bare else f'[{table}."{name}"]'


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
    # Threads of the embedded model's server; None: one per core. Fewer leave cores to other
    # work (on a shared machine fewer were faster: see the README, "Sharing the machine").
    embedded_threads: int | None = None
    concurrency: int = 8  # requests in flight at once
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    cache_dir: Path | None = None  # None: no response cache
    # The longest one document may take, not counting time its requests wait behind other
    # documents' for a request slot or the rate limits; None: no limit.
    document_timeout_s: float | None = 900.0
    prices: Mapping[str, Price] = field(default_factory=dict)  # model -> price
    # Folders of the user's prompts, looked up before the packaged ones (first found wins).
    prompt_dirs: tuple[Path, ...] = ()
    # Python files that declare the user's tasks (see llmextract.tasks).
    tasks_files: tuple[Path, ...] = ()

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
        ``LLMEXTRACT_CACHE_DIR`` or the user cache folder) and any other field of this class;
        ``prompt_dirs`` and ``tasks_files`` come before those the environment and the
        config file name.
        """
        env = os.environ if env is None else env
        config = _read_config(env)
        for kind in _USER_PATHS:
            explicit[kind] = _user_paths(kind, explicit.pop(kind, None), env, config)
        endpoint_keys = ("profile", "base_url", "model", "api_key", "mode")
        endpoint = resolve_endpoint(
            env, config=config, **{k: explicit.pop(k, None) for k in endpoint_keys}
        )
        use_cache = explicit.pop("use_cache", None) is not False
        knobs = {k: v for k, v in explicit.items() if v is not None}
        return cls(
            endpoint=endpoint,
            embedded_model_path=env.get("LLMEXTRACT_EMBEDDED_MODEL"),
            embedded_threads=_threads(env.get("LLMEXTRACT_EMBEDDED_THREADS")),
            cache_dir=cache_path(env) if use_cache else None,
            prices=_prices(config, f"config file {config_path(env)}"),
            **knobs,
        )

    @property
    def price(self) -> Price | None:
        """The price of this run's model, if the config or --prices names it."""
        return self.prices.get(self.endpoint.model)


def _threads(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ConfigError(
            f"LLMEXTRACT_EMBEDDED_THREADS={value!r}: give a whole number of threads >= 1, "
            "or unset it to use one per core"
        )
    return threads


def cache_path(env: Mapping[str, str] | None = None) -> Path:
    """The response cache folder: ``LLMEXTRACT_CACHE_DIR`` or the user cache folder."""
    env = os.environ if env is None else env
    return Path(env.get("LLMEXTRACT_CACHE_DIR") or platformdirs.user_cache_path("llmextract"))


def user_prompts_path() -> Path:
    """The user's own prompts folder: ``prompts`` in the user config folder."""
    return platformdirs.user_config_path("llmextract") / "prompts"


def prompt_folders(
    explicit: Sequence[Path] | None = None, env: Mapping[str, str] | None = None
) -> tuple[Path, ...]:
    """The user's prompt folders in lookup order (see this module's docstring); a folder
    named that does not exist is a ConfigError."""
    env = os.environ if env is None else env
    return _user_paths("prompt_dirs", explicit, env, _read_config(env))


def task_files(
    explicit: Sequence[Path] | None = None, env: Mapping[str, str] | None = None
) -> tuple[Path, ...]:
    """The task files to load: ``explicit``, ``LLMEXTRACT_TASKS_FILE``, the config file's."""
    env = os.environ if env is None else env
    return _user_paths("tasks_files", explicit, env, _read_config(env))


_UserPaths = Literal["prompt_dirs", "tasks_files"]
# For each kind: its variable, its option, the check a path must pass, what to say if not.
_USER_PATHS: dict[_UserPaths, tuple[str, str, Callable[[Path], bool], str]] = {
    "prompt_dirs": (
        "LLMEXTRACT_PROMPTS_DIR",
        "--prompts-dir",
        Path.is_dir,
        "prompts folder {path} ({where}) is not a folder: create it, or fix the path",
    ),
    "tasks_files": (
        "LLMEXTRACT_TASKS_FILE",
        "--tasks-file",
        Path.is_file,
        "task file {path} ({where}) does not exist: fix the path",
    ),
}


def _user_paths(
    kind: _UserPaths,
    explicit: Sequence[Path] | None,
    env: Mapping[str, str],
    config: dict[str, Any],
) -> tuple[Path, ...]:
    """The user's prompt folders or task files, first found first: named on the command
    line, in the variable, in the config file's ``kind`` (relative to the config file),
    then (prompt folders) the user prompts folder; one named that is not there is a
    ConfigError saying how it was named."""
    variable, option, exists, problem = _USER_PATHS[kind]
    named = [(Path(p), option) for p in explicit or ()]
    named += [(Path(p), variable) for p in env.get(variable, "").split(os.pathsep) if p]
    folder = config_path(env).parent
    named += [(folder / p, f"{kind} in {config_path(env)}") for p in config.get(kind) or ()]
    for path, where in named:
        if not exists(path):
            raise ConfigError(problem.format(path=path, where=where))
    paths = [path for path, _ in named]
    if kind == "prompt_dirs" and user_prompts_path().is_dir():
        paths.append(user_prompts_path())
    return tuple(dict.fromkeys(paths))


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("LLMEXTRACT_CONFIG"):
        return Path(env["LLMEXTRACT_CONFIG"])
    return platformdirs.user_config_path("llmextract") / "config.toml"


def _read_config(env: Mapping[str, str]) -> dict[str, Any]:
    path = config_path(env)
    try:
        with path.open("rb") as handle:
            config = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"config file {path}: {error}; fix it or set LLMEXTRACT_CONFIG") from None
    where = f"config file {path}"
    _check(_ConfigFile, config, where)
    _prices(config, where)  # a wrong price is found now, not when a batch ends
    return config


def _prices(config: dict[str, Any], where: str) -> dict[str, Price]:
    prices: dict[str, Price] = {}
    for model, entry in (config.get("prices") or {}).items():
        checked = _check(_PriceTable, entry, where, _section("prices", model))
        prices[model] = Price(checked.input_per_mtok, checked.output_per_mtok)
    return prices


def load_prices(path: Path) -> dict[str, Price]:
    """A price table file: TOML with one [prices."MODEL"] table per model."""
    where = f"price table {path}"
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{where}: {error}") from None
    _check(_ConfigFile, table, where)
    return _prices(table, where)


def load_profiles(env: Mapping[str, str] | None = None) -> dict[str, Endpoint]:
    """Built-in profiles, overridden and extended by the config file's [profiles.NAME]."""
    env = os.environ if env is None else env
    return _profiles(_read_config(env), env)


def _profiles(config: dict[str, Any], env: Mapping[str, str]) -> dict[str, Endpoint]:
    profiles = dict(BUILTIN_PROFILES)
    where = f"config file {config_path(env)}"
    for name, table in (config.get("profiles") or {}).items():
        checked = _check(_ProfileTable, table, where, _section("profiles", name))
        values = checked.model_dump(exclude_unset=True)
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

    ``config`` is the config file already read, if the caller has it. Warns with
    :class:`InsecureKeyWarning` when the key would travel over plain http to another host.
    """
    config = _read_config(env) if config is None else config
    profiles = _profiles(config, env)
    levels: list[dict[str, str | None]] = [
        {"profile": config.get("default_profile")},
        {"base_url": env.get("OPENAI_BASE_URL")},
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
    # Candidate keys, lowest precedence first, each with the only base URLs it may go to
    # (None: whichever endpoint is chosen).
    keys: list[tuple[str, tuple[str, ...] | None]] = []
    chosen: Endpoint | None = None
    fields: dict[str, Any] = {}
    for number, level in enumerate(levels):
        if level.get("profile"):
            chosen = _profile(profiles, str(level["profile"]))
            fields = {"base_url": chosen.base_url, "model": chosen.model}
            if chosen.mode:
                fields["mode"] = chosen.mode
            if chosen.api_key and chosen.base_url:
                keys.append((chosen.api_key, (chosen.base_url,)))
        if number == 1 and env.get("OPENAI_API_KEY"):
            openai_urls = (OPENAI_URL, env.get("OPENAI_BASE_URL", OPENAI_URL))
            keys.append((env["OPENAI_API_KEY"], openai_urls))
        if level.get("api_key"):
            keys.append((str(level["api_key"]), None))
        fields.update({k: v for k, v in level.items() if k not in ("profile", "api_key") and v})
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
        return replace(embedded, mode=_check_mode(fields.get("mode")) or embedded.mode)
    url = str(fields["base_url"])
    problem = _url_problem(url)
    if problem:
        raise ConfigError(f"{problem}: give one like http://localhost:11434/v1")
    if chosen is None:
        chosen = Endpoint(name="custom", base_url=url, model="")
    if not fields.get("model"):
        raise ConfigError(
            f"no model named for {_without_secrets(url)}: pass --model NAME or set LLMEXTRACT_MODEL"
        )
    key = next(
        (k for k, only in reversed(keys) if only is None or any(_same(url, u) for u in only)),
        None,
    )
    if key is not None:
        _warn_if_exposed(url)
    return replace(
        chosen,
        base_url=url,
        model=fields["model"],
        api_key=key,
        mode=_check_mode(fields.get("mode")),
    )


def _same(url: str, other: str) -> bool:
    return url.rstrip("/") == other.rstrip("/")


def _warn_if_exposed(url: str) -> None:
    """Warn when an API key would cross the network unencrypted."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or host == "localhost" or host.endswith(".localhost"):
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass  # a host name, not an address
    warnings.warn(
        f"sending the API key over plain http to {host}; use https or a loopback address",
        InsecureKeyWarning,
        stacklevel=3,
    )


def _check_mode(mode: str | None) -> Mode | None:
    if mode is None:
        return None
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    return mode
