"""The user's prompt folders: --prompts-dir, LLMEXTRACT_PROMPTS_DIR, the config file's
prompt_dirs and the user prompts folder, looked up before the packaged prompts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmextract import Settings, extract, load_prompt
from llmextract.errors import ConfigError, PromptError
from llmextract.prompts import find_prompts
from llmextract.testing import Reply, ScriptedServer
from tests.conftest import GOLD, MAYOR, SAMPLE, run_cli, settings_for

MARK = "Answer as a careful reader of local news."


def _edited(folder: Path, name: str = "quotes.v1", new: str = "quotes.v1") -> Path:
    """``name`` copied to ``folder`` as ``new`` with one line added to its system block."""
    folder.mkdir(parents=True, exist_ok=True)
    source = load_prompt(name.split(".")[0], name).source
    path = folder / f"{new}.jinja"
    path.write_text(source.replace("{% block system %}", "{% block system %}" + MARK, 1))
    return path


def _rows(stdout: str) -> dict[str, list[str]]:
    """``prompts list`` as prompt name -> [id, style, (default,) from]."""
    rows = [line.split(maxsplit=3) for line in stdout.splitlines()[1:]]
    return {row[0].split("@")[0]: row for row in rows}


def test_a_user_folder_prompt_wins_over_the_packaged_one_and_says_where_it_is_from(
    tmp_path: Path,
) -> None:
    mine = tmp_path / "mine"
    _edited(mine)
    _edited(mine, new="quotes.v9")
    done = run_cli("prompts", "list", "--prompts-dir", str(mine))
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)
    assert rows["quotes.v1"][-1] == str(mine) and rows["quotes.v9"][-1] == str(mine)
    assert rows["quotes.v2"][-1] == "packaged"
    packaged = load_prompt("quotes", "v1").id
    assert rows["quotes.v1"][0] != packaged  # edited: a new hash under the same name
    assert rows["quotes.v9"][2:] == ["default", str(mine)]  # the newest copy prompt


def test_lookup_order_is_option_then_variable_then_config_then_user_folder(
    tmp_path: Path,
) -> None:
    option, variable, configured, user = (tmp_path / n for n in ("o", "v", "c", "u"))
    for folder in (option, variable, configured):
        _edited(folder, new="quotes.v9")
    _edited(user / "llmextract" / "prompts", new="quotes.v9")
    config = tmp_path / "config.toml"
    config.write_text('prompt_dirs = ["c"]\n')  # relative to the config file
    env = {"LLMEXTRACT_CONFIG": str(config), "XDG_CONFIG_HOME": str(user)}

    def origin(*args: str, **more: str) -> str:
        done = run_cli("prompts", "list", *args, **env, **more)
        assert done.returncode == 0, done.stderr
        return _rows(done.stdout)["quotes.v9"][-1]

    assert origin("--prompts-dir", str(option), LLMEXTRACT_PROMPTS_DIR=str(variable)) == str(option)
    assert origin(LLMEXTRACT_PROMPTS_DIR=str(variable)) == str(variable)
    assert origin() == str(configured)
    config.write_text("")
    assert origin() == str(user / "llmextract" / "prompts")


def test_prompts_new_copies_with_the_same_hash_and_never_overwrites(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = run_cli("prompts", "new", "quotes.v8", "--from", "quotes.v4", **env)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "config" / "llmextract" / "prompts" / "quotes.v8.jinja"
    assert written.read_text() == load_prompt("quotes", "v4").source
    rows = _rows(run_cli("prompts", "list", **env).stdout)
    assert rows["quotes.v8"][0].split("@")[1] == rows["quotes.v4"][0].split("@")[1]
    assert rows["quotes.v8"][-1] == str(written.parent)

    again = run_cli("prompts", "new", "quotes.v8", "--from", "quotes.v1", **env)
    assert again.returncode == 1
    assert "quotes.v8.jinja exists: edit it, or give a new version" in again.stderr
    assert "Traceback" not in again.stderr and len(again.stderr.strip().splitlines()) == 1
    assert written.read_text() == load_prompt("quotes", "v4").source  # untouched

    elsewhere = run_cli(
        "prompts", "new", "quotes.v9", "--from", "quotes.v8", "--dir", str(tmp_path / "d"), **env
    )
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert (tmp_path / "d" / "quotes.v9.jinja").read_text() == written.read_text()
    wrong_task = run_cli("prompts", "new", "events.v9", "--from", "quotes.v1", **env)
    assert wrong_task.returncode == 1 and "copy a prompt of the same task" in wrong_task.stderr


def test_extract_uses_the_prompt_from_the_folder(
    tmp_path: Path, scripted_server: ScriptedServer
) -> None:
    mine = tmp_path / "mine"
    _edited(mine)
    scripted_server.enqueue(Reply(arguments={"quotes": [MAYOR]}))
    done = run_cli(
        "extract", str(SAMPLE), "--task", "quotes", "--prompt", "v1", "--prompts-dir", str(mine),
        "--base-url", scripted_server.url, "--model", "scripted", "--format", "jsonl",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["prompts"]["quotes"] == load_prompt("quotes", "v1", dirs=[mine]).id
    assert result["prompts"]["quotes"] != load_prompt("quotes", "v1").id
    (request,) = scripted_server.requests
    assert MARK in json.dumps(request.body)
    assert result["quotes"][0]["content"]["text"] == MAYOR["content"]


def test_the_library_takes_the_folders_through_settings(
    tmp_path: Path, scripted_server: ScriptedServer
) -> None:
    mine = tmp_path / "mine"
    _edited(mine)
    settings = Settings.from_env(
        {"LLMEXTRACT_CONFIG": str(tmp_path / "absent.toml")}, prompt_dirs=[mine]
    )
    assert settings.prompt_dirs[0] == mine
    local = settings_for(scripted_server.url, prompt_dirs=settings.prompt_dirs)
    scripted_server.enqueue(Reply(arguments={"quotes": []}))
    result = extract(SAMPLE.read_text(), tasks=["quotes"], prompts="v1", settings=local)
    assert result.prompts["quotes"] == load_prompt("quotes", "v1", dirs=[mine]).id
    env = {"LLMEXTRACT_CONFIG": str(tmp_path / "absent.toml"), "LLMEXTRACT_PROMPTS_DIR": "nope"}
    with pytest.raises(ConfigError, match=r"prompts folder nope \(LLMEXTRACT_PROMPTS_DIR\)"):
        Settings.from_env(env)


def test_eval_batch_and_sweep_take_the_folder(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    _edited(mine)
    run = tmp_path / "run.json"
    # The rules system asks no model; the option must still be taken and checked.
    done = run_cli(
        "eval", str(GOLD), "--task", "quotes", "--prompts-dir", str(mine), "--system", "rules",
        "-o", str(run),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for command in (
        ["eval", str(GOLD)],
        ["sweep", str(GOLD), "--prompt", "v1", "--metric", "quotes.content"],
        ["batch", str(GOLD), "-o", str(tmp_path / "out.jsonl")],
        ["extract", str(SAMPLE)],
    ):
        bad = run_cli(*command, "--prompts-dir", str(tmp_path / "absent"))
        assert bad.returncode == 1, (command, bad.stderr)
        assert "is not a folder: create it, or fix the path" in bad.stderr
        assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("{% block system %}{{ article }{% endblock %}", "quotes.v9.jinja:1: unexpected '}'"),
        (
            "{% block system %}{{ artcle }}{% endblock %}{% block user %}x{% endblock %}",
            "quotes.v9.jinja: unknown variable 'artcle'; a copy prompt is given article, "
            "max_items: fix the template",
        ),
        (
            "{# llmextract: choose #}\n{% block system %}{% for c in candidate %}{% endfor %}"
            "{% endblock %}{% block user %}{{ article }}{% endblock %}",
            "unknown variable 'candidate'; a choose prompt is given article, max_items, candidates",
        ),
    ],
)
def test_a_broken_template_is_one_line_saying_what_to_fix(
    tmp_path: Path, body: str, said: str
) -> None:
    (tmp_path / "quotes.v9.jinja").write_text(body)
    done = run_cli(
        "extract", str(SAMPLE), "--task", "quotes", "--prompt", "v9", "--prompts-dir",
        str(tmp_path), "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
    )  # fmt: skip
    assert done.returncode == 1
    assert said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    with pytest.raises(PromptError):
        load_prompt("quotes", "v9", dirs=[tmp_path])
    listed = run_cli("prompts", "list", "--prompts-dir", str(tmp_path))
    assert listed.returncode == 1 and said in listed.stderr


def test_find_prompts_takes_the_first_folder_that_has_a_name(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _edited(first, new="quotes.v9")
    _edited(second, new="quotes.v9")
    _edited(second, new="quotes.v8")
    found = find_prompts("quotes", [first, second])
    assert found["quotes.v9"].parent == first and found["quotes.v8"].parent == second
    assert list(found)[-2:] == ["quotes.v8", "quotes.v9"]
