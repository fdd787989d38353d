"""`llmextract batch` as users run it: real processes against the real local test server."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from llmextract.batch import arun_batch, prepare_output
from llmextract.errors import InputError
from llmextract.schemas import TASKS
from llmextract.sources import iter_source
from llmextract.testing import Reply, ScriptedServer
from tests.conftest import (
    SAMPLE,
    batch,
    interrupt_midway,
    records,
    run_cli,
    settings_for,
    write_articles,
)

TEXT = SAMPLE.read_text(encoding="utf-8")


def test_every_input_line_yields_one_output_line_in_order(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 5, extra_lines=("not json", "", '{"id": "x", "text": "   "}'))
    done = batch(scripted_server, source, output)
    assert done.returncode == 0, done.stderr
    got = records(output)
    assert [r["line"] for r in got] == list(range(1, 9))
    assert [r["status"] for r in got] == ["ok"] * 5 + ["error"] * 3
    assert got[0]["id"] == "a0" and got[0]["metadata"] == {"desk": "city"}
    assert got[0]["result"]["quotes"], "the default answer quotes the mayor"
    assert "invalid JSON" in got[5]["error"]["message"]
    assert got[7]["id"] == "x" and got[7]["error"]["type"] == "InputError"
    assert len(scripted_server.requests) == 5
    ledger = json.loads((tmp_path / "out.ledger.json").read_text())
    [run] = ledger["runs"]
    assert run["documents"] == {"ok": 5, "failed": 3, "cached": 0, "skipped": 0}
    assert run["usage"]["requests"] == 5 and run["usage"]["prompt_tokens"] > 0
    assert "8 lines (5 ok, 3 failed" in done.stderr


def test_rerun_of_a_finished_batch_makes_no_calls_and_restart_reads_the_cache(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 4)
    assert batch(scripted_server, source, output).returncode == 0
    first = output.read_bytes()
    assert batch(scripted_server, source, output).returncode == 0  # resume: all done
    assert output.read_bytes() == first
    done = batch(scripted_server, source, output, "--restart")  # again, from the cache
    assert done.returncode == 0, done.stderr
    assert len(scripted_server.requests) == 4
    assert [r["result"]["quotes"] for r in records(output)] == [
        r["result"]["quotes"] for r in map(json.loads, first.decode().splitlines())
    ]
    runs = json.loads((tmp_path / "out.ledger.json").read_text())["runs"]
    assert [r["documents"]["skipped"] for r in runs] == [0, 4, 0]
    assert runs[2]["documents"]["cached"] == 4 and runs[2]["usage"]["requests"] == 0
    assert runs[2]["usage"]["cached"] == 4
    # --no-cache asks the model again.
    assert batch(scripted_server, source, output, "--restart", "--no-cache").returncode == 0
    assert len(scripted_server.requests) == 8


def test_a_partial_last_line_is_repaired_on_resume(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 6)
    assert batch(scripted_server, source, output).returncode == 0
    lines = output.read_bytes().splitlines(keepends=True)
    output.write_bytes(b"".join(lines[:3]) + lines[3][:40])  # a crash mid-write
    done = batch(scripted_server, source, output, "--no-cache")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in records(output)] == [f"a{i}" for i in range(6)]
    assert len(scripted_server.requests) == 6 + 3


def test_resume_refuses_an_output_written_for_another_input(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 2)
    assert batch(scripted_server, source, output).returncode == 0
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "zz", "text": TEXT}) + "\n")
    done = batch(scripted_server, other, output)
    assert done.returncode == 1
    assert "written for another input" in done.stderr and "--restart" in done.stderr


def test_retry_errors_extracts_failed_items_again(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 3)
    scripted_server.enqueue(Reply(status=503))
    done = batch(scripted_server, source, output, "--concurrency", "1")
    assert done.returncode == 0, done.stderr
    assert [r["status"] for r in records(output)] == ["error", "ok", "ok"]
    assert records(output)[0]["error"]["type"] == "EndpointUnavailableError"
    done = batch(scripted_server, source, output, "--retry-errors")
    assert done.returncode == 0, done.stderr
    got = records(output)
    assert sorted(r["line"] for r in got) == [1, 2, 3]
    assert all(r["status"] == "ok" for r in got)


def test_a_wrong_api_key_stops_the_batch_without_error_records(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 3)
    scripted_server.enqueue(*[Reply(status=401)] * 3)
    done = batch(scripted_server, source, output, "--concurrency", "1")
    assert done.returncode == 1
    assert "refused the API key" in done.stderr
    assert output.read_text() == ""  # nothing to undo: a rerun starts from the first line


def test_an_unreachable_endpoint_stops_the_batch_after_a_run_of_failures(
    tmp_path: Path,
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 30)
    with ScriptedServer() as server:
        url = server.url  # a port that nothing listens on once the server is stopped
    done = run_cli(
        "batch", str(source), "-o", str(output), "--base-url", url, "--model", "m",
        "--retries", "0", "--concurrency", "1", "--task", "quotes",
    )  # fmt: skip
    assert done.returncode == 1
    assert "documents in a row" in done.stderr and "--retry-errors" in done.stderr
    assert 8 <= len(records(output)) < 30


def test_a_one_request_server_is_sent_one_document_at_a_time(tmp_path: Path) -> None:
    """Its prompt cache holds one prompt: requests of two documents must not interleave,
    or each evicts the article the next request of the other document shares."""
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for i in range(4):  # every sentence names its document; 3 chunks per document
            text = " ".join(f"Reporter{i} said plan {k} works." for k in range(9))
            handle.write(json.dumps({"id": f"a{i}", "text": text}) + "\n")
    with ScriptedServer(latency_ms=10) as server:
        settings = settings_for(server.url, concurrency=8, chunk_chars=100, max_reasks=0)
        settings = replace(settings, endpoint=replace(settings.endpoint, max_in_flight=1))
        asyncio.run(arun_batch(iter_source(source), output, settings=settings, tasks=TASKS))
        assert server.peak_in_flight == 1
        order = [re.findall(r"Reporter(\d)", json.dumps(r.body))[-1] for r in server.requests]
    assert len(order) >= 4 * 3 * 3  # 4 documents, 3 tasks, 3 chunks
    assert order == sorted(order)  # all of a document's requests, then the next document's
    assert len(records(output)) == 4


def test_concurrency_bounds_the_requests_in_flight(tmp_path: Path) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 12)
    with ScriptedServer(latency_ms=150) as server:
        done = batch(server, source, output, "--concurrency", "3")
        assert done.returncode == 0, done.stderr
        assert server.peak_in_flight == 3
        assert len(server.requests) == 12


def test_csv_and_folder_inputs(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    table = tmp_path / "in.csv"
    body = TEXT.replace('"', '""')
    table.write_text(f'slug,body,desk\nfirst,"{body}",city\nsecond,,city\n', encoding="utf-8")
    output = tmp_path / "csv.jsonl"
    done = batch(scripted_server, table, output, "--text-field", "body", "--id-field", "slug")
    assert done.returncode == 0, done.stderr
    got = records(output)
    assert [(r["id"], r["status"]) for r in got] == [("first", "ok"), ("second", "error")]
    assert got[0]["metadata"] == {"desk": "city"}
    folder = tmp_path / "articles"
    (folder / "b").mkdir(parents=True)
    (folder / "a.txt").write_text(TEXT, encoding="utf-8")
    (folder / "b" / "c.txt").write_bytes(b"\x00\x01binary")
    done = batch(scripted_server, folder, tmp_path / "folder.jsonl")
    assert done.returncode == 0, done.stderr
    got = records(tmp_path / "folder.jsonl")
    assert [(r["id"], r["status"]) for r in got] == [("a", "ok"), ("b/c", "error")]


def test_kill_9_mid_batch_then_rerun_gives_each_line_once(tmp_path: Path) -> None:
    """The issue's acceptance test: 500 documents, kill -9, rerun, 500 lines, ids once."""
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 500)
    with ScriptedServer(latency_ms=20) as server:
        _, _, command, env = interrupt_midway(
            server, source, output, signal.SIGKILL, "--concurrency", "8", "--no-cache"
        )
        killed_at = output.read_bytes().count(b"\n")
        assert 20 <= killed_at < 500, "the batch should have been killed midway"
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    ids = [r["id"] for r in records(output)]
    assert len(ids) == 500
    assert sorted(ids) == sorted(f"a{i}" for i in range(500))
    assert all(r["status"] == "ok" for r in records(output))


def test_prepare_output_rejects_a_file_that_is_not_a_batch_output(tmp_path: Path) -> None:
    output = tmp_path / "notes.jsonl"
    output.write_text('{"hello": "world"}\n')
    with pytest.raises(InputError, match="not an llmextract batch record"):
        prepare_output(output)
    assert prepare_output(output, restart=True) == {}
    assert output.read_text() == ""


def test_the_ledger_prices_the_tokens_when_a_price_table_is_given(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 2)
    prices = tmp_path / "prices.toml"
    prices.write_text('[prices."scripted"]\ninput_per_mtok = 1.0\noutput_per_mtok = 4.0\n')
    done = batch(scripted_server, source, output, "--prices", str(prices))
    assert done.returncode == 0, done.stderr
    ledger = json.loads((tmp_path / "out.ledger.json").read_text())
    usage = ledger["total"]["usage"]
    expected = (usage["prompt_tokens"] * 1.0 + usage["completion_tokens"] * 4.0) / 1e6
    assert usage["prompt_tokens"] > 0
    assert ledger["total"]["cost_usd"] == pytest.approx(expected, abs=1e-6)
    assert f"${expected:.4f}" in done.stderr


def test_ctrl_c_stops_cleanly_and_the_rerun_finishes(tmp_path: Path) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 200)
    with ScriptedServer(latency_ms=20) as server:
        code, stderr, command, env = interrupt_midway(
            server, source, output, signal.SIGINT, "--concurrency", "4"
        )
        assert code == 130, stderr
        assert "rerun the same command" in stderr
        assert output.read_bytes().endswith(b"\n")  # whole lines only
        interrupted = json.loads((tmp_path / "out.ledger.json").read_text())["runs"]
        assert interrupted[-1]["outcome"] == "interrupted"
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert [r["id"] for r in records(output)] == [f"a{i}" for i in range(200)]


def test_a_planted_api_key_appears_nowhere_a_batch_writes(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    key = "sk-planted-batch-secret-42"
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 3)
    scripted_server.enqueue(Reply(status=503), Reply(status=500))  # error records, too
    cache = tmp_path / "cache"
    done = batch(
        scripted_server, source, output, "--api-key", key, "--concurrency", "1",
        LLMEXTRACT_CACHE_DIR=str(cache),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [r["status"] for r in records(output)] == ["error", "error", "ok"]
    assert scripted_server.requests[0].headers["authorization"] == f"Bearer {key}"
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != source]
    assert {p.name for p in written} >= {"out.jsonl", "out.ledger.json", "responses.sqlite3"}
    for path in written:
        assert key.encode() not in path.read_bytes(), path
    assert key not in done.stdout + done.stderr
