"""The batch on a local Ray instance: same lines, same order, same resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmextract.testing import Reply, ScriptedServer
from tests.conftest import records, run_cli, write_articles

pytest.importorskip("ray", reason="needs the [ray] extra: pip install 'llmextract[ray]'")
pytestmark = pytest.mark.ray


def test_a_batch_on_ray_writes_one_line_per_item_in_order_and_resumes(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 20, extra_lines=("not json",))
    scripted_server.enqueue(Reply(status=400))  # one document fails (any of them)
    command = (
        "batch", str(source), "-o", str(output), "--base-url", scripted_server.url,
        "--model", "scripted", "--task", "quotes", "--retries", "0", "--ray",
        "--ray-actors", "2", "--concurrency", "4",
    )  # fmt: skip
    done = run_cli(*command, RAY_USAGE_STATS_ENABLED="0")
    assert done.returncode == 1, done.stderr  # a 400 is a request error: it stops the batch
    assert "rejected the request" in done.stderr
    written = records(output)
    assert len(written) < 21
    done = run_cli(*command, RAY_USAGE_STATS_ENABLED="0")
    assert done.returncode == 0, done.stderr
    got = records(output)
    assert sorted(r["line"] for r in got) == list(range(1, 22))
    assert [r["id"] for r in got[: len(written)]] == [r["id"] for r in written]
    assert [r["status"] for r in got].count("error") == 1  # the line that is not JSON
    assert all(r["result"]["quotes"] for r in got if r["status"] == "ok")
    ledger = json.loads((tmp_path / "out.ledger.json").read_text())
    assert ledger["total"]["usage"]["requests"] == len(scripted_server.requests)


def test_an_extractor_closes_its_client_when_ray_deletes_it(
    scripted_server: ScriptedServer,
) -> None:
    import gc

    from llmextract.batch import Job
    from llmextract.distributed import Extractor
    from tests.conftest import settings_for

    extractor = Extractor(Job(settings_for(scripted_server.url), ("quotes",)))
    row = {"line": [1], "id": ["a"], "text": ["Ann said, \"We will build it.\""],
           "metadata": ["{}"], "error": [""]}  # fmt: skip
    assert extractor(row)["outcome"] == ["ok"]
    connection = extractor.client._openai
    del extractor
    gc.collect()
    assert connection.is_closed()
