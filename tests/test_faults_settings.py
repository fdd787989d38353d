"""Defect probes on settings, prompt templates and CLI messages, tried from outside.

- Keys: which API key travels to which endpoint, seen in the headers the local server got.
- Config: a profile's values are type-checked and its mode is used at run time.
- Prompts: a template that would exhaust memory, CPU or the stack, or reach for another
  template, is refused with a PromptError before any request.
- Messages: paths, names and server text are printed as they are, never as Rich markup.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llmextract.testing import Reply, ScriptedServer
from tests import reliability
from tests.conftest import SAMPLE, run_cli, write_articles

pytestmark = pytest.mark.faults

OPENAI_KEY = "sk-openai-only-4c1d"
OWN_KEY = "sk-llmextract-9e2b"


def bearers(server: ScriptedServer) -> set[str]:
    return {r.headers.get("authorization", "") for r in server.requests}


def extract_quotes(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli("extract", str(SAMPLE), "--task", "quotes", *args, **env)


# Keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["--base-url", "LLMEXTRACT_BASE_URL"])
def test_the_openai_key_is_not_sent_to_a_custom_base_url(
    scripted_server: ScriptedServer, how: str
) -> None:
    url = scripted_server.url
    flags = ["--base-url", url] if how == "--base-url" else []
    env = {} if flags else {"LLMEXTRACT_BASE_URL": url}
    done = extract_quotes(*flags, "--model", "m", OPENAI_API_KEY=OPENAI_KEY, **env)
    assert done.returncode == 0, done.stderr
    sent = bearers(scripted_server)
    assert sent, "the run made requests"
    kept = f"Bearer {OPENAI_KEY}" not in sent
    assert reliability.probe("keys", f"OPENAI_API_KEY kept from {how}", kept), sent


def test_the_openai_key_goes_with_openai_base_url(scripted_server: ScriptedServer) -> None:
    done = extract_quotes(
        "--model", "m", OPENAI_BASE_URL=scripted_server.url, OPENAI_API_KEY=OPENAI_KEY
    )
    assert done.returncode == 0, done.stderr
    assert bearers(scripted_server) == {f"Bearer {OPENAI_KEY}"}


@pytest.mark.parametrize("how", ["LLMEXTRACT_API_KEY", "--api-key"])
def test_the_own_key_goes_to_a_custom_base_url(scripted_server: ScriptedServer, how: str) -> None:
    flags = ["--api-key", OWN_KEY] if how == "--api-key" else []
    env = {} if flags else {"LLMEXTRACT_API_KEY": OWN_KEY}
    done = extract_quotes(
        "--base-url", scripted_server.url, "--model", "m", *flags, OPENAI_API_KEY=OPENAI_KEY, **env
    )
    assert done.returncode == 0, done.stderr
    assert bearers(scripted_server) == {f"Bearer {OWN_KEY}"}


def test_a_profile_key_goes_to_its_own_url_and_nowhere_else(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    profiles = (
        f'[profiles.box]\nbase_url = "{scripted_server.url}"\nmodel = "m"\n'
        'api_key_env = "BOX_KEY"\n'
        '[profiles.elsewhere]\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
        'api_key_env = "ELSEWHERE_KEY"\n'
    )
    env = {"LLMEXTRACT_CONFIG": str(config), "BOX_KEY": "box-key", "ELSEWHERE_KEY": "far-key"}
    runs = [
        ("box", ["--no-cache"]),
        # Another profile named, its URL replaced: that profile's key stays home.
        ("box", ["--profile", "elsewhere", "--base-url", scripted_server.url, "--no-cache"]),
        ("elsewhere", ["--base-url", scripted_server.url, "--no-cache"]),
    ]
    sent = []
    for default, flags in runs:
        config.write_text(f'default_profile = "{default}"\n{profiles}')
        before = len(scripted_server.requests)
        done = extract_quotes(*flags, **env)
        assert done.returncode == 0, done.stderr
        sent.append({r.headers.get("authorization") for r in scripted_server.requests[before:]})
    assert sent[0] == {"Bearer box-key"}
    kept = all("Bearer far-key" not in keys for keys in sent[1:])
    assert reliability.probe("keys", "a profile's key kept from another base URL", kept), sent


def test_a_key_over_plain_http_to_another_host_is_warned_about(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    missing = str(tmp_path / "missing.txt")  # the run stops before any request
    remote = ["--base-url", "http://gpu-box.invalid:8000/v1", "--model", "m"]
    done = run_cli("extract", missing, *remote, LLMEXTRACT_API_KEY=OWN_KEY)
    lines = done.stderr.strip().splitlines()
    warned = (
        done.returncode == 1
        and len(lines) == 2
        and "sending the API key over plain http to gpu-box.invalid" in lines[0]
        and "no such file" in lines[1]
        and OWN_KEY not in done.stderr
    )
    assert reliability.probe("keys", "a key over plain http is warned about", warned), done.stderr
    quiet = [
        ["--base-url", "https://gpu-box.invalid/v1", "--model", "m"],  # https
        ["--base-url", scripted_server.url, "--model", "m"],  # loopback
        remote,  # no key
    ]
    for flags in quiet:
        env = {} if flags is remote else {"LLMEXTRACT_API_KEY": OWN_KEY}
        done = run_cli("extract", missing, *flags, **env)
        assert "plain http" not in done.stderr, (flags, done.stderr)


# Config -----------------------------------------------------------------------------------


def test_a_profile_mode_is_used_at_run_time(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profiles.box]\nbase_url = "{scripted_server.url}"\nmodel = "m"\nmode = "json"\n'
    )
    listed = run_cli("endpoints", "list", LLMEXTRACT_CONFIG=str(config))
    assert any(line.split()[:2] == ["box", "json"] for line in listed.stdout.splitlines())
    done = extract_quotes("--profile", "box", LLMEXTRACT_CONFIG=str(config))
    assert done.returncode == 0, done.stderr
    bodies = [r.body or {} for r in scripted_server.requests]
    used = bool(bodies) and all(
        "tools" not in b and b.get("response_format") == {"type": "json_object"} for b in bodies
    )
    assert reliability.probe("config", "a profile's mode is used", used), bodies


BAD_VALUES = [
    ("max_tokens", '"abc"', "must be an integer >= 1 (got 'abc')"),
    ("max_tokens", "0", "must be an integer >= 1 (got 0)"),
    ("max_tokens", "true", "must be an integer >= 1 (got True)"),
    ("chunk_chars", "0", "must be an integer >= 1000 (got 0)"),
    ("timeout_s", '"soon"', "must be a number of seconds > 0 (got 'soon')"),
    ("timeout_s", "-1", "must be a number of seconds > 0 (got -1)"),
    ("timeout_s", "nan", "must be a number of seconds > 0 (got nan)"),
    ("supports", "5", "must be a list of tools, json_schema, json_object, md_json (got 5)"),
    ("supports", '["tools", "telepathy"]', "(got ['tools', 'telepathy'])"),
    ("mode", '"xml"', "must be one of tools, json_schema, json, md_json (got 'xml')"),
    ("prompt_style", '"paste"', "must be copy or choose (got 'paste')"),
    ("base_url", "5", "must be an http or https URL"),
    ("base_url", '"gpu-box:8000/v1"', "must be an http or https URL"),
    ("api_key_env", "[1]", "must be the name of an environment variable (got [1])"),
    ("bogus", "1", "unknown keys ['bogus']; allowed: "),
]


@pytest.mark.parametrize(("key", "value", "says"), BAD_VALUES)
def test_a_wrong_config_value_is_one_line_naming_the_key(
    scripted_server: ScriptedServer, tmp_path: Path, key: str, value: str, says: str
) -> None:
    config = tmp_path / "config.toml"
    table = {"base_url": f'"{scripted_server.url}"', "model": '"m"', key: value}
    config.write_text("[profiles.x]\n" + "".join(f"{k} = {v}\n" for k, v in table.items()))
    done = extract_quotes("--profile", "x", LLMEXTRACT_CONFIG=str(config))
    lines = done.stderr.strip().splitlines()
    where = f"config file {config}: [profiles.x] "
    clear = (
        done.returncode == 1
        and len(lines) == 1
        and lines[0].startswith(f"error: {where}")
        and key in lines[0]
        and says in lines[0]
        and not scripted_server.requests
    )
    assert reliability.probe("config", f"{key} = {value}", clear), done.stderr


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('[prices."m"]\ninput_per_mtok = "cheap"\noutput_per_mtok = 1\n',
         "[prices.m] input_per_mtok: must be US dollars per million tokens, a number >= 0 "
         "(got 'cheap')"),
        ('[prices."m"]\ninput_per_mtok = 1\n',
         "[prices.m] output_per_mtok: missing: add it (US dollars per million tokens, "
         "a number >= 0)"),
        ('default_profile = 5\n', "default_profile: must be a profile name (got 5)"),
        ('default_profle = "box"\n', "unknown keys ['default_profle']; allowed: "),
        ('profiles = 5\n', "profiles: must be a table of [profiles.NAME] tables (got 5)"),
        ('[profiles]\nx = 5\n', "[profiles.x]: must be a table (got 5)"),
        ('[prices."org/model v2"]\ninput_per_mtok = 1\noutput_per_mtok = inf\n',
         '[prices."org/model v2"] output_per_mtok: must be US dollars per million tokens, '
         "a number >= 0 (got inf)"),
    ],
)  # fmt: skip
def test_wrong_prices_and_top_level_keys_are_one_line(tmp_path: Path, toml: str, says: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(toml)
    done = run_cli("endpoints", "list", LLMEXTRACT_CONFIG=str(config))
    lines = done.stderr.strip().splitlines()
    clear = done.returncode == 1 and len(lines) == 1 and f"{config}: " in lines[0]
    clear = clear and says in lines[0]
    assert reliability.probe("config", toml.strip().replace("\n", " "), clear), done.stderr


def test_a_wrong_price_table_file_is_one_line(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, prices = tmp_path / "in.jsonl", tmp_path / "prices.toml"
    write_articles(source, 1)
    prices.write_text('[prices."m"]\ninput_per_mtok = -1\noutput_per_mtok = 1\n')
    done = run_cli("batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--prices",
                   str(prices), "--base-url", scripted_server.url, "--model", "m")  # fmt: skip
    lines = done.stderr.strip().splitlines()
    clear = (
        done.returncode == 1
        and len(lines) == 1
        and f"price table {prices}: [prices.m] input_per_mtok: must be US dollars" in lines[0]
    )
    assert reliability.probe("config", "a negative price", clear), done.stderr


# Prompts ----------------------------------------------------------------------------------

RUNAWAY_TEMPLATES = {
    "a huge range": "{% for i in range(10**9) %}x{% endfor %}",
    "nested ranges": "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}"
    "{% endfor %}",
    "a huge repetition": "{{ 'x' * 10**12 }}",
    "a huge list repetition": "{{ ([1] * 10**12)|length }}",
    "a huge power": "{{ 9 ** 1000000000 }}",
    "a huge constant filter": "{{ 'x'|center(1000000000000) }}",
    "a huge filter": "{{ article|center(10**12) }}",
    "a runaway output": "{% for i in range(99999) %}{{ article }}{% endfor %}",
    "endless recursion": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "an include": "{% include 'other' %}",
    "an import": "{% import 'other' as m %}{{ m.x }}",
    "a division by zero": "{{ 1 / 0 }}",
    "a wrong type": "{{ article + 1 }}",
}

# Each template goes through the public path (load the prompt, extract against the local
# server) in its own process, so that one which hangs or eats memory on a broken build
# fails its case instead of taking the test run with it.
_RENDER = textwrap.dedent("""
    import json, pathlib, sys
    import llmextract.prompts
    from llmextract import LLMExtractError, extract
    from tests.conftest import settings_for

    folder, url = pathlib.Path(sys.argv[1]), sys.argv[2]
    llmextract.prompts.prompt_dir = lambda: folder
    try:
        extract("Ann said: 'we will build it.' " * 4, tasks=["quotes"], prompts="v9",
                settings=settings_for(url, transport_retries=0))
        print(json.dumps(["no error", ""]))
    except LLMExtractError as error:
        print(json.dumps([type(error).__name__, str(error)]))
""")


@pytest.mark.parametrize("name", list(RUNAWAY_TEMPLATES))
def test_a_runaway_template_is_a_prompt_error_before_any_request(
    scripted_server: ScriptedServer, tmp_path: Path, name: str
) -> None:
    body = RUNAWAY_TEMPLATES[name]
    (tmp_path / "quotes.v9.jinja").write_text(
        f"{{% block system %}}Find quotes.{{% endblock %}}{{% block user %}}{body}{{% endblock %}}"
    )
    root = Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run(
            [sys.executable, "-c", _RENDER, str(tmp_path), scripted_server.url],
            capture_output=True, text=True, timeout=60, cwd=root, check=False,
            env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        kind, message = json.loads(done.stdout) if done.returncode == 0 else ("crash", done.stderr)
    except subprocess.TimeoutExpired:
        kind, message = "hang", "no answer within 60 s"
    refused = (
        kind == "PromptError"
        and message.startswith("prompt quotes.v9 ")
        and "\n" not in message
        and not scripted_server.requests
    )
    assert reliability.probe("prompts", name, refused), (kind, message[-2000:])


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
