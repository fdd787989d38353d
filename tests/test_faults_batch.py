"""Defect probes of `llmextract batch`: poison input lines and hostile folders.

Every probe runs the real CLI in its own process and is counted in the fault suite's summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmextract.testing import ScriptedServer
from tests import reliability
from tests.conftest import SAMPLE, run_cli
from tests.test_batch import batch, records, write_articles

pytestmark = pytest.mark.faults
INPUT = "batch input"
TEXT = SAMPLE.read_text(encoding="utf-8")


def one_clear_line(done: subprocess.CompletedProcess[str], says: str) -> bool:
    """Exit 1 with one stderr line that says ``says``, and no traceback."""
    lines = done.stderr.strip().splitlines()
    return (
        done.returncode == 1
        and len(lines) == 1
        and says in lines[0]
        and "Traceback" not in done.stderr
    )


def run_in_shell(setup: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``llmextract ARGS`` after the shell commands ``setup`` (limits, closed descriptors)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMEXTRACT_", "OPENAI_"))}
    env["LLMEXTRACT_CONFIG"] = os.devnull + ".absent"
    command = ["sh", "-c", f'{setup}; exec "$@"', "sh", sys.executable, "-m", "llmextract", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


# --- poison input lines -------------------------------------------------------------------

POISON = {
    # name: (JSONL line, what its error message must say)
    "100,000 nested arrays": ("[" * 100_000, "nested too deeply"),
    "a 5,000-digit integer": (
        '{"id": "n", "text": "Ann said hi.", "count": ' + "7" * 5000 + "}",
        "5000 digits",
    ),
    "a number beyond a double": ('{"id": "f", "text": "Ann said hi.", "f": 1e999}', "too large"),
    "a lone surrogate in the id": ('{"id": "\\udc80", "text": "Ann said hi."}', "surrogate"),
    "a lone surrogate in metadata": (
        '{"id": "m", "text": "Ann said hi.", "desk": ["\\udc80"]}',
        'field "desk" holds a lone surrogate',
    ),
    "a lone surrogate in the text": (
        '{"id": "t", "text": "Ann said \\ud800 hi."}',
        'field "text" holds a lone surrogate',
    ),
    "a NUL byte after 8 KB": ('{"id": "z", "text": "' + "a" * 9000 + '\x00"}', "looks binary"),
    "a line break inside a string": (
        '{"id": "u", "text": "abc',
        "Invalid control character at column 25",
    ),
}


def test_poison_lines_become_error_records_and_the_batch_goes_on(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 3, extra_lines=tuple(line for line, _ in POISON.values()))
    with source.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "last", "text": TEXT}) + "\n")
    done = batch(scripted_server, source, output)
    got = records(output) if output.exists() else []
    assert [r["line"] for r in got] == list(range(1, 5 + len(POISON))), done.stderr[-2000:]
    poisoned = dict(zip(POISON, got[3:-1], strict=True))
    for name, (_, says) in POISON.items():
        record = poisoned[name]
        handled = (
            record["status"] == "error"
            and record["error"]["type"] == "InputError"
            and says in record["error"]["message"]
            and "at at" not in record["error"]["message"]
        )
        assert reliability.probe(INPUT, name, handled), record
    assert done.returncode == 0, done.stderr
    assert [r["status"] for r in got[:3] + got[-1:]] == ["ok"] * 4
    again = batch(scripted_server, source, output)  # a rerun finds every line done
    assert again.returncode == 0 and f"{len(got)} already done" in again.stderr, again.stderr


def test_invalid_json_messages_say_at_once(tmp_path: Path) -> None:
    from llmextract.sources import iter_source

    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "u", "text": "abc')  # the last line, without a line break
    [item] = iter_source(source)
    handled = item.error is not None and item.error.endswith(
        "invalid JSON (Unterminated string starting at column 21)"
    )
    assert reliability.probe(INPUT, "invalid JSON wording", handled), item.error


def test_a_nul_byte_after_8_kb_is_refused_in_an_article_and_a_folder(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "late.txt").write_bytes(b"Mayor Ann said hi. " * 500 + b"\x00")
    single = run_cli("extract", str(folder / "late.txt"), "--base-url", scripted_server.url,
                     "--model", "m")  # fmt: skip
    output = tmp_path / "out.jsonl"
    done = batch(scripted_server, folder, output)
    [record] = records(output)
    handled = (
        one_clear_line(single, "looks binary")
        and done.returncode == 0
        and "looks binary" in record["error"]["message"]
    )
    assert reliability.probe(INPUT, "a NUL byte after 8 KB of an article file", handled)
    assert scripted_server.requests == []


def test_a_folder_never_follows_links_out_and_never_reads_pipes(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT, encoding="utf-8")
    (folder / "b-alias.txt").symlink_to("a.txt")  # inside the folder: read
    (tmp_path / "outside.txt").write_text('Mayor Nobody said, "Private words."\n')
    (folder / "c-outside.txt").symlink_to(tmp_path / "outside.txt")
    (folder / "d-passwd.txt").symlink_to("/etc/passwd")
    (folder / "e-dangling.txt").symlink_to(folder / "missing.txt")
    os.mkfifo(folder / "f-pipe.txt")
    expected = {
        "a": "ok",
        "b-alias": "ok",
        "c-outside": "links outside the folder; copy the file in",
        "d-passwd": "links outside the folder; copy the file in",
        "e-dangling": "a link to a missing file",
        "f-pipe": "not a regular file",
    }
    output = tmp_path / "out.jsonl"
    done = batch(scripted_server, folder, output)
    assert done.returncode == 0, done.stderr
    got = {r["id"]: r for r in records(output)}
    sent = json.dumps([r.body for r in scripted_server.requests])
    for name, says in expected.items():
        record = got.get(name)
        if says == "ok":
            handled = record is not None and record["status"] == "ok"
        else:
            handled = record is not None and says in record["error"]["message"]
        assert reliability.probe(INPUT, f"folder entry: {name}", handled), (name, record)
    assert sorted(got) == sorted(expected)
    leaked = "Private words" in sent or "root:x:" in sent
    assert reliability.probe(INPUT, "folder: nothing outside it is sent", not leaked)


def test_closed_standard_input_is_one_clear_line(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    done = run_in_shell("exec 0<&-", "batch", "-", "-o", str(output), "--base-url",
                        "http://127.0.0.1:9/v1", "--model", "m")  # fmt: skip
    handled = one_clear_line(done, "standard input is closed") and not output.exists()
    assert reliability.probe(INPUT, "closed standard input", handled), done.stderr
