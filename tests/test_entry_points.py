"""Tasks from installed packages (the ``llmextract.tasks`` entry-point group) through the real
command line: a distribution that importlib.metadata finds (a package and its
``NAME-0.1.dist-info`` on the subprocess's PYTHONPATH), its task run against the oracle
server, listed with its packaged prompts, and the ways an entry point goes wrong."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from llmextract.testing import Reply, ScriptedServer
from tests.conftest import ROOT, clean_environment, records, run_cli

EXAMPLE = ROOT / "examples" / "claims"
UNREACHABLE = ("--base-url", "http://127.0.0.1:9/v1", "--model", "m")


def plugin(site: Path, entry_points: dict[str, str], modules: dict[str, str]) -> dict[str, str]:
    """A distribution ``claims-plugin 0.1`` in ``site``: ``modules`` (path -> source) and
    ``entry_points`` (name -> value) in the llmextract.tasks group; the environment that
    puts it on a subprocess's path (this checkout's llmextract too)."""
    for name, source in modules.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    info = site / "claims_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: claims-plugin\nVersion: 0.1\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[llmextract.tasks]\n{lines}")
    path = [str(site), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(path)}


def claims_package(site: Path, entry_point: str = "claims_plugin") -> dict[str, str]:
    """examples/claims as an installed package: the task module and its prompts folder."""
    env = plugin(
        site,
        {"claims": entry_point},
        {"claims_plugin/__init__.py": (EXAMPLE / "tasks.py").read_text()},
    )
    shutil.copytree(EXAMPLE / "prompts", site / "claims_plugin" / "prompts")
    return env


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def _spans(record: dict[str, Any]) -> dict[str, tuple[int, int, str]]:
    return {k: (v["start"], v["end"], v["text"]) for k, v in record.items() if isinstance(v, dict)}


def test_an_installed_packages_task_runs_with_its_packaged_prompt(tmp_path: Path) -> None:
    env = claims_package(tmp_path / "site")
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(EXAMPLE / "gold.jsonl", work)
    gold = records(work / "gold.jsonl")
    (work / "article.txt").write_text(gold[0]["text"])

    # Listed with no --tasks-file, its prompt from the package's prompts folder.
    listed = run_cli("prompts", "list", cwd=work, **env)
    assert listed.returncode == 0, listed.stderr
    row = next(line.split() for line in listed.stdout.splitlines() if line.startswith("claims."))
    assert row[0].startswith("claims.v1@")
    assert row[1:] == ["copy", "default", str(tmp_path / "site" / "claims_plugin" / "prompts")]
    # The help says where tasks come from; an unknown task's message lists the package's.
    helped = " ".join(run_cli("extract", "--help", cwd=work, **env).stdout.split())
    assert "a task of a --tasks-file or of an installed package" in helped
    unknown = run_cli("extract", "article.txt", "--task", "claim", *UNREACHABLE, cwd=work, **env)
    assert "unknown task 'claim': use quotes, events, stances, claims or all" in _one_line(unknown)

    # The oracle server finds the task the same way (its gold names "claims").
    server = subprocess.Popen(
        [sys.executable, "-m", "llmextract.testing.server", "--oracle", "gold.jsonl"],
        stdout=subprocess.PIPE, text=True, cwd=work, env={**clean_environment(), **env},
    )  # fmt: skip
    assert server.stdout is not None
    with server.stdout:
        try:
            url = server.stdout.readline().split()[-1]
            done = run_cli(
                "extract", "article.txt", "--task", "claims", "--base-url", url, "--model",
                "oracle", "--api-key", "x", "--no-cache", "--format", "jsonl", cwd=work, **env,
            )  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=10)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["prompts"]["claims"].startswith("claims.v1@")
    assert [_spans(r) for r in result["records"]["claims"]] == [
        {k: (v["start"], v["end"], v["text"]) for k, v in g.items() if isinstance(v, dict)}
        for g in gold[0]["claims"]
    ]
    assert [r["checkable"] for r in result["records"]["claims"]] == [
        g["checkable"] for g in gold[0]["claims"]
    ]


def test_an_entry_point_whose_module_raises_is_one_line_naming_it(tmp_path: Path) -> None:
    env = plugin(
        tmp_path / "site",
        {"broken": "broken_plugin.tasks"},
        {
            "broken_plugin/__init__.py": "",
            "broken_plugin/tasks.py": "raise RuntimeError('no database configured')\n",
        },
    )
    (tmp_path / "a.txt").write_text("Ann said the river rose.")
    for command in (["prompts", "list"], ["extract", "a.txt", *UNREACHABLE]):
        said = _one_line(run_cli(*command, cwd=tmp_path, **env))
        assert "entry point broken = broken_plugin.tasks (llmextract.tasks)" in said
        assert "RuntimeError: no database configured" in said
        assert "fix or uninstall the package" in said


def test_an_entry_point_declaring_a_task_wrongly_names_the_entry_point(tmp_path: Path) -> None:
    source = (EXAMPLE / "tasks.py").read_text().replace('key="claim"', 'key="checkable"')
    env = plugin(tmp_path / "site", {"claims": "bad_claims"}, {"bad_claims.py": source})
    said = _one_line(run_cli("prompts", "list", cwd=tmp_path, **env))
    assert said.startswith("error: entry point claims = bad_claims (llmextract.tasks): "), said
    assert "key 'checkable' is not a required SpanText field of Claim: use one of claim" in said
    assert "task()" not in said


def test_an_entry_point_that_declares_no_task_says_so(tmp_path: Path) -> None:
    # The model class named instead of the module that declares the task.
    env = plugin(
        tmp_path / "site",
        {"claims": "quiet_claims:Claim"},
        {"quiet_claims.py": (EXAMPLE / "tasks.py").read_text().split("\n\ntask(")[0]},
    )
    said = _one_line(run_cli("prompts", "list", cwd=tmp_path, **env))
    assert "entry point claims = quiet_claims:Claim (llmextract.tasks) declares no task" in said
    assert "a list of task() declarations" in said


LIST_MODULE = '''"""Two tasks, declared as a list."""
from pydantic import BaseModel
from llmextract.tasks import SpanText, task


class Pledge(BaseModel):
    pledge: SpanText


class Denial(BaseModel):
    denied: SpanText
    who: SpanText | None = None


TASKS = [task("pledges", Pledge, key="pledge"), task("denials", Denial, key="denied")]
'''
PROMPT = """{% block system %}
Copy every {{ what }} in the article exactly, at most {{ max_items }}.
{% endblock %}
{% block user %}
<article>
{{ article }}
</article>
{% endblock %}
"""
ARTICLE = "The mayor promised a new bridge by May. Her aide denied any delay."


def test_an_entry_point_giving_a_list_of_tasks_registers_each(
    tmp_path: Path, scripted_server: ScriptedServer
) -> None:
    site = tmp_path / "site"
    env = plugin(
        site,
        {"bundle": "bundle_plugin.tasks:TASKS"},
        {
            "bundle_plugin/__init__.py": "",
            "bundle_plugin/tasks.py": LIST_MODULE,
            "bundle_plugin/prompts/pledges.v1.jinja": PROMPT.replace("{{ what }}", "pledge"),
            "bundle_plugin/prompts/denials.v1.jinja": PROMPT.replace("{{ what }}", "denial"),
        },
    )
    (tmp_path / "a.txt").write_text(ARTICLE)
    said = _one_line(run_cli("extract", "a.txt", "--task", "x", *UNREACHABLE, cwd=tmp_path, **env))
    assert "unknown task 'x': use quotes, events, stances, pledges, denials or all" in said
    answers = {
        "pledges": {"pledge": "promised a new bridge by May"},
        "denials": {"denied": "denied any delay", "who": "Her aide"},
    }
    for name, answer in answers.items():
        scripted_server.enqueue(Reply(arguments={name: [answer]}))
        done = run_cli(
            "extract", "a.txt", "--task", name, "--base-url", scripted_server.url, "--model",
            "scripted", "--no-cache", "--retries", "0", "--format", "jsonl", cwd=tmp_path, **env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["prompts"][name].startswith(f"{name}.v1@")
        [record] = result["records"][name]
        assert {k: v["text"] for k, v in record.items()} == answer
        assert all(ARTICLE[v["start"] : v["end"]] == v["text"] for v in record.values())
    sent = json.dumps(scripted_server.requests[-1].body)
    assert "Copy every denial in the article" in sent


def test_an_entry_points_task_and_a_task_files_of_one_name_is_one_line(tmp_path: Path) -> None:
    env = claims_package(tmp_path / "site")
    work = tmp_path / "work"
    shutil.copytree(EXAMPLE, work)
    (work / "a.txt").write_text("Ann said the river rose.")
    for command in (
        ["prompts", "list", "--tasks-file", "tasks.py"],
        ["extract", "a.txt", "--tasks-file", "tasks.py", "--task", "claims", *UNREACHABLE],
    ):
        said = _one_line(run_cli(*command, cwd=work, **env))
        assert "two tasks named 'claims'" in said and "rename one" in said
        assert str(work / "tasks.py") in said and "entry point claims" in said
