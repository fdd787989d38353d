"""User tasks (llmextract.tasks) through the real command line: examples/claims end to end
(extract, batch with resume, render, eval, compare), and bad task files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llmextract.tasks import copy_answer, load_task_files
from llmextract.testing import Reply, ScriptedServer
from tests.conftest import ROOT, clean_environment, records, run_cli

EXAMPLE = ROOT / "examples" / "claims"


@pytest.fixture
def claims(tmp_path: Path) -> Path:
    """A copy of examples/claims, its task registered in this process too (for answers)."""
    folder = tmp_path / "claims"
    shutil.copytree(EXAMPLE, folder)
    load_task_files([EXAMPLE / "tasks.py"])
    return folder


def _gold(folder: Path) -> list[dict[str, Any]]:
    return records(folder / "gold.jsonl")


def _answers(folder: Path, keep: int | None = None) -> list[Reply]:
    """One reply per gold document, in order: its claims as a perfect model copies them (the
    first ``keep`` of each, if given)."""
    replies = []
    for doc in _gold(folder):
        answer = copy_answer("claims", doc["claims"][:keep], doc["text"])
        replies.append(Reply(arguments=answer))
    return replies


def _cli(server: ScriptedServer, folder: Path, *args: str) -> Any:
    return run_cli(
        *args, "--tasks-file", str(folder / "tasks.py"), "--task", "claims",
        "--base-url", server.url, "--model", "scripted", "--no-cache", "--retries", "0",
        cwd=folder,
    )  # fmt: skip


def _articles(folder: Path) -> Path:
    """The gold documents as a batch input (id and text only)."""
    path = folder / "articles.jsonl"
    lines = [json.dumps({"id": d["id"], "text": d["text"]}) for d in _gold(folder)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _spans(record: dict[str, Any]) -> dict[str, tuple[int, int, str]]:
    return {
        name: (value["start"], value["end"], value["text"])
        for name, value in record.items()
        if isinstance(value, dict)
    }


def test_extract_grounds_every_span_at_its_gold_offsets(
    claims: Path, scripted_server: ScriptedServer
) -> None:
    doc = _gold(claims)[0]
    (claims / "article.txt").write_text(doc["text"])
    scripted_server.enqueue(_answers(claims)[0])
    done = _cli(scripted_server, claims, "extract", "article.txt", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["prompts"]["claims"].startswith("claims.v1@")
    assert result["quotes"] == [] and result["dropped"] == []
    found = result["records"]["claims"]
    assert [_spans(r) for r in found] == [
        {k: (v["start"], v["end"], v["text"]) for k, v in _spans_of_gold(g).items()}
        for g in doc["claims"]
    ]
    assert [r["checkable"] for r in found] == [g["checkable"] for g in doc["claims"]]
    assert all(s["alignment"] == "exact" for r in found for s in r.values() if isinstance(s, dict))
    # A built-in task's output has no "records" key: its JSON is as it was.
    scripted_server.enqueue(Reply(arguments={"quotes": []}))
    plain = run_cli(
        "extract", "article.txt", "--task", "quotes", "--prompt", "v1", "--base-url",
        scripted_server.url, "--model", "scripted", "--format", "jsonl", cwd=claims,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert "records" not in json.loads(plain.stdout)


def _spans_of_gold(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in record.items() if isinstance(v, dict)}


def test_an_invented_claim_is_reasked_then_dropped_with_its_reason(
    claims: Path, scripted_server: ScriptedServer
) -> None:
    doc = _gold(claims)[0]
    (claims / "article.txt").write_text(doc["text"])
    good = copy_answer("claims", doc["claims"][:1], doc["text"])["claims"]
    invented = {"claim": "the bridge is made of gold", "checkable": "yes"}
    unlabelled = {**good[0], "checkable": "maybe"}
    scripted_server.enqueue(*[Reply(arguments={"claims": [*good, invented]})] * 2)
    scripted_server.enqueue(Reply(arguments={"claims": [*good, invented, unlabelled]}))
    done = _cli(scripted_server, claims, "extract", "article.txt", "--max-reasks", "2")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    asked = [json.dumps(r.body) for r in scripted_server.requests]
    assert len(asked) == 3 and "'the bridge is made of gold' is not in the article" in asked[1]
    assert [r["claim"]["text"] for r in result["records"]["claims"]] == [good[0]["claim"]]
    reasons = [d["reason"] for d in result["dropped"]]
    assert any("claim 'the bridge is made of gold' is not in the article" in r for r in reasons)
    assert any("checkable: Input should be 'yes' or 'no'" in r for r in reasons)


def test_claims_end_to_end_batch_resume_render_eval_and_compare(
    claims: Path, scripted_server: ScriptedServer
) -> None:
    gold = _gold(claims)
    articles = _articles(claims)
    output = claims / "out.jsonl"

    # batch, then resume over a partly written output: only the missing lines are asked.
    scripted_server.enqueue(*_answers(claims))
    done = _cli(scripted_server, claims, "batch", str(articles), "-o", str(output),
                "--concurrency", "1")  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = output.read_text().splitlines(keepends=True)
    assert len(lines) == len(gold)
    output.write_text("".join(lines[:2]))
    asked = len(scripted_server.requests)
    scripted_server.enqueue(*_answers(claims)[2:])
    again = _cli(scripted_server, claims, "batch", str(articles), "-o", str(output),
                 "--concurrency", "1")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "2 already done" in again.stderr
    assert len(scripted_server.requests) - asked == len(gold) - 2
    written = records(output)
    assert [line["id"] for line in written] == [d["id"] for d in gold]
    for line, doc in zip(written, gold, strict=True):
        found = line["result"]["records"]["claims"]
        assert [_spans(r) for r in found] == [
            {k: (v["start"], v["end"], v["text"]) for k, v in _spans_of_gold(g).items()}
            for g in doc["claims"]
        ]

    # render: every span highlighted, coloured by its field.
    page = claims / "view.html"
    shown = run_cli("render", str(output), "--source", str(articles), "-o", str(page))
    assert shown.returncode == 0, shown.stderr
    data = json.loads(page.read_text().split('id="data">')[1].split("</script>")[0])
    assert data["tasks"][-1] == "claims"
    assert data["fields"] == {"claims": ["claimant", "claim"]}
    first = data["documents"][0]["records"]
    assert {s["css"] for r in first for s in r["spans"]} == {"u-f0", "u-f1"}
    assert sum(len(r["spans"]) for r in first) == sum(len(_spans(g)) for g in gold[0]["claims"])

    # eval with answers made from the gold: every field perfect.
    run_a = claims / "a.json"
    scripted_server.enqueue(*_answers(claims))
    scored = _cli(scripted_server, claims, "eval", "gold.jsonl", "--concurrency", "1",
                  "-o", str(run_a), "--html", "report.html")  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    report = (claims / "report.html").read_text()
    report_data = json.loads(report.split('id="data">')[1].split("</script>")[0])
    marks = [m for d in report_data["documents"] for m in d["gold"] + d["pred"]]
    assert {(m["task"], m["status"]) for m in marks} == {("claims", "match")}
    assert len(marks) == 2 * sum(len(d["claims"]) for d in gold)
    record = json.loads(run_a.read_text())
    fields = {k: v for k, v in record["metrics"].items() if k.startswith("claims.")}
    assert set(fields) == {"claims.claim", "claims.claimant", "claims.checkable"}
    assert all(m["f1"] >= 0.99 for m in fields.values()), fields
    assert fields["claims.claim"]["tp"] == sum(len(d["claims"]) for d in gold)
    assert record["ungrounded"] == {"claims": 0}
    assert record["labels"]["claims.checkable"]["macro_f1"] == 1.0

    # a second prompt version, copied and edited; its answers keep only each first claim.
    new = run_cli("prompts", "new", "claims.v2", "--from", "claims.v1", "--dir", "prompts",
                  "--tasks-file", "tasks.py", cwd=claims)  # fmt: skip
    assert new.returncode == 0, new.stderr
    edited = claims / "prompts" / "claims.v2.jinja"
    edited.write_text(edited.read_text().replace("List the claims", "List every claim"))
    run_b = claims / "b.json"
    scripted_server.enqueue(*_answers(claims, keep=1))
    second = _cli(scripted_server, claims, "eval", "gold.jsonl", "--concurrency", "1",
                  "--prompt", "claims.v2", "-o", str(run_b))  # fmt: skip
    assert second.returncode == 0, second.stderr
    b = json.loads(run_b.read_text())
    assert b["prompts"]["claims"].startswith("claims.v2@")
    assert b["prompts"]["claims"] != record["prompts"]["claims"]
    assert b["metrics"]["claims.claim"]["recall"] == pytest.approx(len(gold) / 11)
    compared = run_cli("compare", str(run_a), str(run_b))
    assert compared.returncode == 0, compared.stderr
    row = next(line for line in compared.stdout.splitlines() if "| claims.claim |" in line)
    assert "| 1.000 |" in row and row.split("|")[4].strip().startswith("-")


BAD_TASK_FILES = {
    "does not import": ("import nowhere_to_be_found\n", "does not import (ModuleNotFoundError"),
    "no span field": (
        "from pydantic import BaseModel\nfrom llmextract.tasks import task\n"
        "class Note(BaseModel):\n    text: str\n"
        "task('notes', Note, key='text')\n",
        "Note has no SpanText field to match records on: mark the text copied from the "
        "article as SpanText",
    ),
    "key not a span": (
        "from pydantic import BaseModel\nfrom llmextract.tasks import SpanText, task\n"
        "class Note(BaseModel):\n    text: SpanText\n    kind: str = ''\n"
        "task('notes', Note, key='kind')\n",
        "key 'kind' is not a required SpanText field of Note: use one of text",
    ),
    "optional key": (
        "from pydantic import BaseModel\nfrom llmextract.tasks import SpanText, task\n"
        "class Note(BaseModel):\n    text: SpanText\n    who: SpanText | None = None\n"
        "task('notes', Note, key='who')\n",
        "key 'who' is not a required SpanText field of Note: use one of text",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TASK_FILES))
def test_a_bad_task_file_is_one_line_saying_what_to_fix(tmp_path: Path, case: str) -> None:
    source, said = BAD_TASK_FILES[case]
    (tmp_path / "bad.py").write_text(source)
    (tmp_path / "a.txt").write_text("Ann said the river rose.")
    done = run_cli(
        "extract", "a.txt", "--tasks-file", "bad.py", "--base-url", "http://127.0.0.1:9/v1",
        "--model", "m", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert said in done.stderr, done.stderr
    assert "bad.py" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_two_tasks_with_one_name_and_a_template_with_an_unknown_variable(
    claims: Path,
) -> None:
    shutil.copy(claims / "tasks.py", claims / "more.py")
    (claims / "a.txt").write_text("Ann said the river rose.")
    unreachable = ("--base-url", "http://127.0.0.1:9/v1", "--model", "m")
    twice = run_cli("extract", "a.txt", "--tasks-file", "tasks.py", "--tasks-file", "more.py",
                    *unreachable, cwd=claims)  # fmt: skip
    assert twice.returncode == 1
    assert "two tasks named 'claims'" in twice.stderr and "rename one" in twice.stderr
    assert len(twice.stderr.strip().splitlines()) == 1

    template = claims / "prompts" / "claims.v1.jinja"
    template.write_text(template.read_text().replace("{{ max_items }}", "{{ limit }}"))
    broken = run_cli("extract", "a.txt", "--tasks-file", "tasks.py", "--task", "claims",
                     *unreachable, cwd=claims)  # fmt: skip
    assert broken.returncode == 1
    assert "claims.v1.jinja: unknown variable 'limit'" in broken.stderr
    assert "Traceback" not in broken.stderr and len(broken.stderr.strip().splitlines()) == 1


def test_an_unknown_task_names_the_user_tasks_too(claims: Path) -> None:
    (claims / "x.txt").write_text("Ann said the river rose.")
    done = run_cli("extract", "x.txt", "--tasks-file", "tasks.py", "--task", "claim",
                   "--base-url", "http://127.0.0.1:9/v1", "--model", "m", cwd=claims)  # fmt: skip
    assert done.returncode == 1
    assert "unknown task 'claim': use quotes, events, stances, claims or all" in done.stderr


def test_prompts_list_shows_the_task_files_prompts(claims: Path) -> None:
    done = run_cli("prompts", "list", "--tasks-file", "tasks.py", cwd=claims)
    assert done.returncode == 0, done.stderr
    row = next(line.split() for line in done.stdout.splitlines() if line.startswith("claims."))
    assert row[1:] == ["copy", "default", str(claims / "prompts")]


@pytest.mark.parametrize("system", ["rules", "naive"])
def test_the_baselines_refuse_a_user_task_before_any_document(claims: Path, system: str) -> None:
    done = run_cli("eval", "gold.jsonl", "--tasks-file", "tasks.py", "--task", "claims",
                   "--system", system, "-o", "run.json", cwd=claims)  # fmt: skip
    assert done.returncode == 1
    assert "baselines find quotes, events, stances only, not claims" in done.stderr
    assert not (claims / "run.json").exists()
    (claims / "a.txt").write_text("Ann said the river rose.")
    rules = run_cli("extract", "a.txt", "--tasks-file", "tasks.py", "--system", "rules",
                    "--format", "jsonl", cwd=claims)  # fmt: skip
    assert rules.returncode == 0, rules.stderr  # "all" means the built-in tasks here
    assert "records" not in json.loads(rules.stdout)


def test_records_of_overlapping_chunks_are_merged_on_the_key_span(
    claims: Path, scripted_server: ScriptedServer
) -> None:
    from llmextract import extract
    from llmextract.chunking import make_chunks
    from tests.conftest import settings_for

    first, second = _gold(claims)[:2]
    text = first["text"] + "\n\n" + second["text"]
    shift = len(first["text"]) + 2
    moved = [
        {k: {**v, "start": v["start"] + shift, "end": v["end"] + shift} if isinstance(v, dict)
         else v for k, v in claim.items()}
        for claim in second["claims"]
    ]  # fmt: skip
    gold = first["claims"] + moved
    chunks = make_chunks(text, max_chars=300, overlap_chars=100)
    assert len(chunks) > 2
    for chunk in chunks:  # each chunk's answer holds every gold claim inside it
        answer = copy_answer("claims", gold, text[chunk.start : chunk.end], chunk.start)
        scripted_server.enqueue(Reply(arguments=answer))
    settings = settings_for(scripted_server.url, chunk_chars=300, chunk_overlap_chars=100)
    result = extract(text, tasks=["claims"], settings=settings)
    found = [(c["claim"]["start"], c["claim"]["end"]) for c in result.records["claims"]]
    assert found == [(g["claim"]["start"], g["claim"]["end"]) for g in gold]
    assert result.dropped == []


def test_a_gold_line_listing_an_unknown_task_is_refused(tmp_path: Path) -> None:
    line = {"id": "a", "text": "Ann said the river rose.", "tasks": ["quotse"]}
    (tmp_path / "gold.jsonl").write_text(json.dumps(line) + "\n")
    done = run_cli("eval", "gold.jsonl", "--system", "rules", "-o", "run.json", cwd=tmp_path)
    assert done.returncode == 1
    assert "gold.jsonl: a: tasks: unknown task 'quotse': use quotes, events, stances" in (
        done.stderr
    )
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_user_tasks_gold_read_without_its_task_file_says_to_give_it(claims: Path) -> None:
    for command in (
        ["eval", "gold.jsonl", "--system", "rules", "-o", "run.json"],
        ["-m", "llmextract.testing.server", "--oracle", "gold.jsonl"],
    ):
        if command[0] == "-m":
            done = subprocess.run(
                [sys.executable, *command], cwd=claims, capture_output=True, text=True,
                env=clean_environment(), timeout=60, check=False,
            )  # fmt: skip
        else:
            done = run_cli(*command, cwd=claims)
        assert done.returncode != 0
        said = done.stderr.strip().splitlines()
        if command[0] == "eval":  # the server command prints its usage first, as argparse does
            assert len(said) == 1, done.stderr
        assert "gold.jsonl:1: 'claims' is not a built-in task or gold field" in said[-1]
        assert "(--tasks-file)" in said[-1]


# --- the oracle server answers a user task from its gold ------------------------------------


def _gold_spans(doc: dict[str, Any]) -> list[dict[str, tuple[int, int, str]]]:
    return [
        {k: (v["start"], v["end"], v["text"]) for k, v in _spans_of_gold(g).items()}
        for g in doc["claims"]
    ]


@pytest.mark.parametrize("mode", ["tools", "json"])
def test_the_oracle_answers_the_claims_task_from_its_gold(claims: Path, mode: str) -> None:
    gold = {doc["id"]: doc for doc in _gold(claims)}
    # The task file this process registered (the fixture's): a second file declaring
    # "claims" would be refused as a second task of that name.
    with ScriptedServer(oracle=claims / "gold.jsonl", tasks_files=[EXAMPLE / "tasks.py"]) as server:
        done = run_cli(
            "eval", "gold.jsonl", "--tasks-file", "tasks.py", "--task", "claims",
            "--base-url", server.url, "--model", "oracle", "--api-key", "x", "--mode", mode,
            "--no-cache", "-o", "run.json", cwd=claims,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads((claims / "run.json").read_text())
    fields = {k: v for k, v in record["metrics"].items() if k.startswith("claims.")}
    assert set(fields) == {"claims.claim", "claims.claimant", "claims.checkable"}
    assert all(m["f1"] >= 0.99 for m in fields.values()), fields
    assert [d["id"] for d in record["documents"]] == list(gold)
    for document in record["documents"]:
        doc, found = gold[document["id"]], document["result"]["records"]["claims"]
        assert [_spans(r) for r in found] == _gold_spans(doc)
        assert all(
            doc["text"][s["start"] : s["end"]] == s["text"]
            for r in found
            for s in r.values()
            if isinstance(s, dict)
        )
        assert [r["checkable"] for r in found] == [g["checkable"] for g in doc["claims"]]


def test_the_oracle_server_command_takes_a_tasks_file(claims: Path) -> None:
    doc = _gold(claims)[0]
    (claims / "article.txt").write_text(doc["text"])
    command = [sys.executable, "-m", "llmextract.testing.server", "--oracle", "gold.jsonl",
               "--tasks-file", "tasks.py", "--noise", "json", "--seed", "1"]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, cwd=claims, env=clean_environment()
    )
    assert process.stdout is not None
    with process.stdout:
        try:
            url = process.stdout.readline().split()[-1]
            said = process.stdout.readline()
            done = run_cli(
                "extract", "article.txt", "--tasks-file", "tasks.py", "--task", "claims",
                "--base-url", url, "--model", "oracle", "--api-key", "x", "--mode", "json",
                "--no-cache", "--max-reasks", "3", "--format", "jsonl", cwd=claims,
            )  # fmt: skip
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert "4 gold documents, noise json" in said
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)["records"]["claims"]
    assert [_spans(r) for r in found] == _gold_spans(doc)


def test_the_oracle_server_refuses_a_bad_task_file_in_one_line(claims: Path) -> None:
    (claims / "bad.py").write_text(BAD_TASK_FILES["does not import"][0])
    command = [sys.executable, "-m", "llmextract.testing.server", "--oracle", "gold.jsonl",
               "--tasks-file", "bad.py"]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=claims, env=clean_environment(), timeout=60
    )
    assert done.returncode == 1
    assert "bad.py:1 does not import (ModuleNotFoundError" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_oracle_server_says_a_missing_task_file_does_not_exist(claims: Path) -> None:
    command = [sys.executable, "-m", "llmextract.testing.server", "--oracle", "gold.jsonl",
               "--tasks-file", "missing.py"]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=claims, env=clean_environment(), timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "error: task file missing.py does not exist: fix the path"


def test_task_files_without_an_oracle_gold_are_refused(claims: Path) -> None:
    with pytest.raises(ValueError, match="tasks_files are read with the oracle's gold"):
        ScriptedServer(tasks_files=[claims / "tasks.py"])
    done = subprocess.run(
        [sys.executable, "-m", "llmextract.testing.server", "--tasks-file", "tasks.py"],
        capture_output=True, text=True, cwd=claims, env=clean_environment(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "--tasks-file is read with the oracle's gold" in done.stderr


def test_few_shot_examples_of_a_user_task_reach_the_prompt(
    claims: Path, scripted_server: ScriptedServer
) -> None:
    doc = _gold(claims)[0]
    (claims / "article.txt").write_text(doc["text"])
    scripted_server.enqueue(_answers(claims)[0])
    plain = _cli(scripted_server, claims, "extract", "article.txt", "--format", "jsonl")
    assert plain.returncode == 0, plain.stderr
    asked = len(scripted_server.requests)
    scripted_server.enqueue(_answers(claims)[0])
    shown = _cli(
        scripted_server, claims, "extract", "article.txt", "--format", "jsonl",
        "--examples", "gold.jsonl", "--shots", "2",
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    ids = [json.loads(done.stdout)["prompts"]["claims"] for done in (plain, shown)]
    assert ids[0].startswith("claims.v1@") and ids[1].startswith("claims.v1@")
    assert ids[0] != ids[1]  # the examples are part of the prompt id
    # The examples were asked with, and the answers were the same: so are the records.
    assert json.loads(shown.stdout)["records"] == json.loads(plain.stdout)["records"]
    [request] = scripted_server.requests[asked:]
    assert request.body is not None
    messages = request.body["messages"]
    assert [m["role"] for m in messages][-5:] == ["user", "assistant", "user", "assistant", "user"]
    assert doc["text"] in messages[-1]["content"]
    gold_claims = {c["claim"]["text"] for d in _gold(claims) for c in d["claims"]}
    for passage, answer in ((messages[-5], messages[-4]), (messages[-3], messages[-2])):
        items = json.loads(answer["content"])["claims"]
        assert items, answer
        for item in items:  # each a gold claim, copied as text, found in its passage
            assert item["claim"] in gold_claims and item["claim"] in passage["content"]
            assert item["checkable"] in ("yes", "no")
