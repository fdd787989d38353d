"""Defect probes of `llmextract batch`: poison input lines, hostile folders and output paths,
two runs on one output, a full disk, SIGTERM, file modes, and resuming with other settings.

Every probe runs the real CLI in its own process (or, for a full disk, the real CLI in this
process with writes made to fail) and is counted in the fault suite's summary.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmextract.testing import ScriptedServer
from tests import reliability
from tests.conftest import SAMPLE, batch, interrupt_midway, records, run_cli, write_articles

pytestmark = pytest.mark.faults
INPUT, OUTPUT = "batch input", "batch output"
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


def test_ctrl_c_while_counting_the_input_is_the_short_message(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl.gz"
    member = gzip.compress(b"\n" * (1 << 20))  # 8 GB of blank lines take a while to count
    with source.open("wb") as handle:
        for _ in range(8000):
            handle.write(member)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMEXTRACT_", "OPENAI_"))}
    env["LLMEXTRACT_CONFIG"] = os.devnull + ".absent"
    output = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "llmextract", "batch", str(source), "-o", str(output),
               "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]  # fmt: skip
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    fds = Path(f"/proc/{process.pid}/fd")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if any(os.readlink(fd) == str(source) for fd in fds.iterdir()):
                break
        except OSError:
            pass  # a descriptor closed while it was listed
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    lines = stderr.strip().splitlines()
    handled = (
        process.returncode == 130
        and len(lines) == 1
        and "interrupted" in lines[0]
        and "Traceback" not in stderr
    )
    assert reliability.probe(INPUT, "Ctrl-C during start-up", handled), stderr[-2000:]


# --- the output ---------------------------------------------------------------------------


def test_a_second_batch_on_the_same_output_is_refused_at_once(tmp_path: Path) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 20)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMEXTRACT_", "OPENAI_"))}
    env["LLMEXTRACT_CONFIG"] = os.devnull + ".absent"
    with ScriptedServer(latency_ms=200) as server:
        args = ["batch", str(source), "-o", str(output), "--base-url", server.url, "--model",
                "scripted", "--task", "quotes", "--concurrency", "1", "--no-cache"]  # fmt: skip
        first = subprocess.Popen(
            [sys.executable, "-m", "llmextract", *args], env=env, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and first.poll() is None:
            if output.exists() and output.read_bytes().count(b"\n") >= 1:
                break
            time.sleep(0.01)
        second = run_cli(*args)
        _, first_stderr = first.communicate(timeout=120)
    says = f"is being written by another llmextract batch (pid {first.pid})"
    handled = one_clear_line(second, says) and "another --output" in second.stderr
    assert reliability.probe(OUTPUT, "a second batch on the same output", handled), second.stderr
    ids = [r["id"] for r in records(output)]
    assert first.returncode == 0, first_stderr
    assert ids == [f"a{i}" for i in range(20)]


def test_kill_9_releases_the_output_for_the_rerun(tmp_path: Path) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 60)
    with ScriptedServer(latency_ms=20) as server:
        _, _, command, env = interrupt_midway(
            server, source, output, signal.SIGKILL, "--concurrency", "2", after_lines=5
        )
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    ids = [r["id"] for r in records(output)]
    handled = done.returncode == 0 and ids == [f"a{i}" for i in range(60)]
    assert reliability.probe(OUTPUT, "kill -9 leaves no lock behind", handled), done.stderr


def made_beside(output: str) -> list[Path]:
    """Files a batch run would have made beside ``output`` (ledger, lock, temporary)."""
    path = Path(output)
    stem = path.name.removesuffix(".jsonl")
    if not path.parent.is_dir():
        return []
    return [p for p in path.parent.glob(f"*{stem}*") if p.name.startswith((".", f"{stem}.l"))]


@pytest.mark.parametrize(
    ("name", "output", "says"),
    [
        ("/dev/full", "/dev/full", "not a regular file"),
        ("/dev/null", "/dev/null", "not a regular file"),
        ("/dev/stdout into a pipe", "/dev/stdout", "not a regular file"),
        ("a folder", "{tmp}/folder", "is a folder"),
        ("a path under /proc", "/proc/self/out.jsonl", "cannot be created"),
        ("a path under a file", "{tmp}/in.jsonl/out.jsonl", "cannot be created"),
    ],
)
def test_a_batch_output_must_be_a_regular_file_in_a_writable_folder(
    tmp_path: Path, name: str, output: str, says: str
) -> None:
    source = tmp_path / "in.jsonl"
    write_articles(source, 2)
    (tmp_path / "folder").mkdir()
    target = output.format(tmp=tmp_path)
    # A run that reads /dev/full back would grow without end: cap it well below harm.
    done = run_in_shell("ulimit -v 4000000", "batch", str(source), "-o", target, "--base-url",
                        "http://127.0.0.1:9/v1", "--model", "m", timeout=300)  # fmt: skip
    left = made_beside(target)
    for path in left:  # what the run left in /dev must not stay there
        path.unlink()
    handled = one_clear_line(done, says) and target in done.stderr and not left
    assert reliability.probe(OUTPUT, f"batch -o {name}", handled), (done.stderr[-2000:], left)


def test_the_input_is_never_its_own_output(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    write_articles(source, 2)
    before = source.read_bytes()
    done = run_cli("batch", str(source), "-o", str(source), "--restart", "--base-url",
                   "http://127.0.0.1:9/v1", "--model", "m")  # fmt: skip
    handled = one_clear_line(done, "is the input") and source.read_bytes() == before
    assert reliability.probe(OUTPUT, "batch -o INPUT --restart", handled), done.stderr


def test_extract_writes_to_devices_and_links_in_place_and_refuses_a_folder(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    device = tmp_path / "null-device"
    try:
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        pytest.skip("making a device node needs CAP_MKNOD")
    stdout = tmp_path / "stdout-link"
    stdout.symlink_to("/dev/stdout")
    common = ["--base-url", scripted_server.url, "--model", "m", "--task", "quotes"]
    to_device = run_cli("extract", str(SAMPLE), "-o", str(device), *common)
    handled = to_device.returncode == 0 and stat.S_ISCHR(device.stat().st_mode)
    assert reliability.probe(OUTPUT, "extract -o a device", handled), to_device.stderr
    to_stdout = run_cli("extract", str(SAMPLE), "-o", str(stdout), *common)
    handled = (
        to_stdout.returncode == 0
        and stdout.is_symlink()
        and json.loads(to_stdout.stdout)["quotes"] != []
    )
    assert reliability.probe(OUTPUT, "extract -o /dev/stdout into a pipe", handled), to_stdout
    to_folder = run_cli("extract", str(SAMPLE), "-o", str(tmp_path), *common)
    handled = one_clear_line(to_folder, "is a folder") and str(tmp_path) in to_folder.stderr
    assert reliability.probe(OUTPUT, "extract -o a folder", handled), to_folder.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_write_that_fails_mid_batch_stops_with_one_line_and_a_ledger_entry(
    tmp_path: Path,
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 20)
    with ScriptedServer() as server:
        args = ["batch", str(source), "-o", str(output), "--base-url", server.url, "--model",
                "scripted", "--task", "quotes", "--no-cache"]  # fmt: skip
        # Files over 8 KB cannot grow: writes past it fail as on a full disk.
        done = run_in_shell("ulimit -f 16; trap '' XFSZ", *args)
        runs = json.loads((tmp_path / "out.ledger.json").read_text())["runs"]
        temporary = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
        handled = (
            one_clear_line(done, f"cannot write {output}")
            and "rerun to continue" in done.stderr
            and runs[-1]["outcome"].startswith(f"stopped: cannot write {output}")
            and temporary == []
        )
        assert reliability.probe(OUTPUT, "a write fails mid-batch (file too large)", handled), (
            done.stderr,
            temporary,
        )
        rerun = run_cli(*args)
    assert rerun.returncode == 0, rerun.stderr
    assert [r["id"] for r in records(output)] == [f"a{i}" for i in range(20)]


def fail_writes(monkeypatch: pytest.MonkeyPatch, failing: Callable[[str], bool]) -> None:
    """``os.write`` to a file whose path ``failing`` accepts raises ENOSPC, as on a full disk."""
    real_write = os.write

    def write(fd: int, data: bytes) -> int:  # type: ignore[type-arg]
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            path = ""
        if failing(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("ledger_fails_too", [False, True])
def test_a_full_disk_is_one_clear_line_and_leaves_no_temporary_files(
    scripted_server: ScriptedServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ledger_fails_too: bool,
) -> None:
    from llmextract.cli import app

    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 3)
    for name in [k for k in os.environ if k.startswith(("LLMEXTRACT_", "OPENAI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LLMEXTRACT_CONFIG", os.devnull + ".absent")
    if ledger_fails_too:
        fail_writes(monkeypatch, lambda path: path.startswith(str(tmp_path)))
    else:
        fail_writes(monkeypatch, lambda path: path == str(output))
    args = ["batch", str(source), "-o", str(output), "--base-url", scripted_server.url,
            "--model", "m", "--no-cache"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    says = f"no space left on device writing {output}; free space and rerun to continue"
    lines = result.stderr.strip().splitlines()
    temporary = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    ledger = tmp_path / "out.ledger.json"
    if ledger_fails_too:
        ledger_ok = not ledger.exists() and len(lines) == 2 and "ledger" in lines[1]
    else:
        runs = json.loads(ledger.read_text())["runs"]
        ledger_ok = len(lines) == 1 and runs[-1]["outcome"] == f"stopped: {says}"
    handled = (
        result.exit_code == 1
        and isinstance(result.exception, SystemExit)  # not a traceback
        and says in (lines or [""])[0]
        and ledger_ok
        and temporary == []
    )
    name = "a full disk (output and ledger)" if ledger_fails_too else "a full disk (output)"
    assert reliability.probe(OUTPUT, name, handled), (result.stderr, temporary)


def test_sigterm_stops_like_ctrl_c_with_a_ledger_entry(tmp_path: Path) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 200)
    with ScriptedServer(latency_ms=20) as server:
        code, stderr, command, env = interrupt_midway(
            server, source, output, signal.SIGTERM, "--concurrency", "4"
        )
        ledger = tmp_path / "out.ledger.json"
        runs = json.loads(ledger.read_text())["runs"] if ledger.exists() else [{}]
        handled = (
            code == 143
            and "rerun the same command to go on" in stderr
            and "Traceback" not in stderr
            and output.read_bytes().endswith(b"\n")
            and runs[-1].get("outcome") == "interrupted"
        )
        assert reliability.probe(OUTPUT, "SIGTERM mid-batch", handled), (code, stderr[-2000:])
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in records(output)] == [f"a{i}" for i in range(200)]


def test_output_and_ledger_are_private_and_a_resume_keeps_the_mode_it_finds(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    from llmextract.testing import Reply

    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ledger = tmp_path / "out.ledger.json"
    write_articles(source, 3)
    assert batch(scripted_server, source, output).returncode == 0
    modes = {stat.S_IMODE(output.stat().st_mode), stat.S_IMODE(ledger.stat().st_mode)}
    assert reliability.probe(OUTPUT, "new output and ledger are 0600", modes == {0o600}), modes
    shared, other = tmp_path / "shared.jsonl", tmp_path / "shared.ledger.json"
    scripted_server.enqueue(Reply(status=503))
    assert batch(scripted_server, source, shared, "--concurrency", "1").returncode == 0
    shared.chmod(0o644)
    other.chmod(0o640)
    done = batch(scripted_server, source, shared, "--retry-errors")  # rewrites the output
    assert done.returncode == 0, done.stderr
    kept = (stat.S_IMODE(shared.stat().st_mode), stat.S_IMODE(other.stat().st_mode))
    assert reliability.probe(OUTPUT, "a resume keeps the modes it finds", kept == (0o644, 0o640))
    assert [r["status"] for r in records(shared)] == ["ok"] * 3


def test_a_resume_with_another_model_or_other_tasks_is_refused(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 3)
    url = ["--base-url", scripted_server.url]
    first = run_cli("batch", str(source), "-o", str(output), *url, "--model", "x", "-t", "quotes")
    assert first.returncode == 0, first.stderr
    output.write_bytes(b"".join(output.read_bytes().splitlines(keepends=True)[:2]))
    before, asked = output.read_bytes(), len(scripted_server.requests)
    cases = {
        "another model": (["--model", "y", "-t", "quotes"], "model 'y', tasks quotes"),
        "other tasks": (["--model", "x", "-t", "quotes,events"], "model 'x', tasks quotes,events"),
    }
    for name, (args, uses) in cases.items():
        done = run_cli("batch", str(source), "-o", str(output), *url, *args)
        says = f"{output} was written with model 'x', tasks quotes; this run uses {uses}:"
        handled = (
            one_clear_line(done, says)
            and "pass --restart to start over or give another --output" in done.stderr
            and output.read_bytes() == before
            and len(scripted_server.requests) == asked
        )
        assert reliability.probe(OUTPUT, f"resume with {name}", handled), done.stderr
    same = run_cli("batch", str(source), "-o", str(output), *url, "--model", "x", "-t", "quotes")
    assert same.returncode == 0 and "2 already done" in same.stderr, same.stderr
    over = run_cli("batch", str(source), "-o", str(output), *url, "--model", "y", "--restart")
    assert over.returncode == 0, over.stderr
    assert {r["result"]["model"] for r in records(output)} == {"y"}
