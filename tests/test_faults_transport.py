"""The model transport under attack: bad 200 answers, secrets in URLs and error bodies,
servers that never answer or trickle, and answers too large to hold.

Real HTTP throughout: the scripted OpenAI-protocol server, or a tiny stdlib server on
127.0.0.1 for what the scripted one cannot send (HTML, gzip bombs, endless trickles).
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import resource
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from llmextract import aextract, errors, extract
from llmextract.batch import arun_batch
from llmextract.client import ModelClient
from llmextract.schemas import TASKS
from llmextract.settings import Settings
from llmextract.sources import iter_source
from llmextract.testing import Reply, ScriptedServer
from tests import reliability
from tests.conftest import MAYOR, SAMPLE, records, run_cli, settings_for, write_articles

pytestmark = pytest.mark.faults
TEXT = SAMPLE.read_text(encoding="utf-8")
MiB = 1 << 20
Answer = Callable[[BaseHTTPRequestHandler, int, threading.Event], None]


# A stdlib server, for answers the scripted server cannot give -----------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hang up on purpose here (timeouts, caps): no tracebacks."""


@contextmanager
def raw_server(answer: Answer) -> Iterator[str]:
    """A server on 127.0.0.1 whose n-th POST gets ``answer(handler, n, stopping)``; yields its
    base URL. ``stopping`` is set when the test is done, for answers that would never end."""
    stopping = threading.Event()
    numbers = itertools.count(1)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                number = next(numbers)
            with suppress(ConnectionError, TimeoutError):  # the client hung up: on purpose
                answer(self, number, stopping)
            self.close_connection = True

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def send(
    handler: BaseHTTPRequestHandler,
    body: bytes,
    *,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    chunked: bool = False,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Connection", "close")
    if chunked:
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for start in range(0, len(body), 65536):
            piece = body[start : start + 65536]
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        handler.wfile.write(b"0\r\n\r\n")
        return
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def completion(arguments: dict[str, Any] | None, *, padding: int = 0) -> bytes:
    """A chat completion answering in JSON mode (``None``: with no choices at all)."""
    choices = (
        []
        if arguments is None
        else [
            {
                "index": 0,
                "message": {"role": "assistant", "content": json.dumps(arguments)},
                "finish_reason": "stop",
            }
        ]
    )
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": choices,
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return json.dumps(body).encode()[:-1] + b" " * padding + b"}"


def gzip_bomb(size: int) -> bytes:
    """``size`` spaces, gzip-compressed a block at a time (the test never holds them)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * MiB
    parts = [packer.compress(block) for _ in range(size // MiB)]
    return b"".join([*parts, packer.flush()])


def json_mode(url: str, **overrides: Any) -> Settings:
    return settings_for(url, supports=("json_object",), **overrides)


# 1. A bad 200 answer is a transient fault, and a task with no usable answer fails its document


def _rate_limited(retry_after: str) -> Callable[[BaseHTTPRequestHandler], None]:
    error = json.dumps({"error": {"message": "slow down", "type": "requests"}}).encode()
    return lambda h: send(h, error, status=429, headers={"Retry-After": retry_after})


BAD_ANSWERS: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {
    "no choices": lambda h: send(h, completion(None)),
    "HTML with status 200": lambda h: send(
        h, b"<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
    ),
    "not JSON, labelled JSON": lambda h: send(h, b"upstream connect error"),
    "gzip body that is not JSON": lambda h: send(
        h, gzip.compress(b"<html>oops</html>"), headers={"Content-Encoding": "gzip"}
    ),
    "429 with Retry-After 'soon'": _rate_limited("soon"),
    "429 with Retry-After 'nan'": _rate_limited("nan"),
    "429 with a broken date": _rate_limited("Fri, 99 Foo 2015 07:28:00 GMT"),
}


@pytest.mark.parametrize("kind", list(BAD_ANSWERS))
def test_a_bad_answer_is_retried_like_any_transient_fault(kind: str) -> None:
    def answer(handler: BaseHTTPRequestHandler, number: int, _: threading.Event) -> None:
        if number == 1:
            BAD_ANSWERS[kind](handler)
        else:
            send(handler, completion({"quotes": [MAYOR]}))

    with raw_server(answer) as url:
        result = extract(TEXT, tasks=["quotes"], settings=json_mode(url))
    usage = result.usage
    handled = (
        [q.content.text for q in result.quotes] == [MAYOR["content"]]
        and (usage.requests, usage.transport_retries, usage.reasks) == (2, 1, 0)
        and result.dropped == []
    )
    assert reliability.probe("transport", f"bad answer retried: {kind}", handled), result


def test_a_bad_answer_every_time_fails_the_task_with_a_clear_error() -> None:
    def answer(handler: BaseHTTPRequestHandler, number: int, _: threading.Event) -> None:
        send(handler, completion(None))

    with raw_server(answer) as url, pytest.raises(errors.EndpointError) as caught:
        extract(TEXT, tasks=["quotes"], settings=json_mode(url, transport_retries=2))
    message = str(caught.value)
    handled = (
        type(caught.value).__name__ == "EndpointAnswerError"
        and "no usable answer" in message
        and "after 3 requests" in message
        and "--retry-errors" in message
    )
    assert reliability.probe("transport", "no choices every time: clear error", handled), message


def test_a_wait_that_cannot_be_computed_falls_back_to_backoff(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.enqueue(
        Reply(status=429, headers={"Retry-After": "-1e999"}),
        Reply(status=429, headers={"Retry-After": "Mon, 01 Jan 99999 00:00:00 GMT"}),
        Reply(status=503, headers={"retry-after-ms": "inf"}),
        Reply(arguments={"quotes": [MAYOR]}),
    )
    result = extract(TEXT, tasks=["quotes"], settings=settings_for(scripted_server.url))
    handled = len(result.quotes) == 1 and result.usage.transport_retries == 3
    assert reliability.probe("transport", "uncomputable Retry-After", handled), result


NO_USABLE_ANSWER = {
    "no choices": [Reply(empty_choices=True)],
    # Every re-ask of the passage, then of its first half (a garbled passage is tried again).
    "not the task's JSON after every re-ask": [Reply(content="PWNED", no_tool_call=True)] * 6,
    "429 with an unparsable Retry-After": [Reply(status=429, headers={"Retry-After": "soon"})],
}


@pytest.mark.parametrize("kind", list(NO_USABLE_ANSWER))
def test_a_batch_line_with_an_unanswered_task_is_an_error_that_retry_errors_extracts(
    kind: str, scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 2)
    scripted_server.enqueue(*NO_USABLE_ANSWER[kind])
    command = ("batch", str(source), "-o", str(output), "--base-url", scripted_server.url,
               "--model", "m", "--task", "quotes", "--retries", "0",
               "--concurrency", "1")  # fmt: skip
    first = run_cli(*command)
    got = records(output)
    failed = (
        first.returncode == 0
        and [r["status"] for r in got] == ["error", "ok"]
        and got[0]["error"]["type"] in {"EndpointAnswerError", "EndpointUnavailableError"}
    )
    again = run_cli(*command, "--retry-errors")
    got = sorted(records(output), key=lambda r: r["line"])
    extracted = (
        again.returncode == 0
        and [r["status"] for r in got] == ["ok", "ok"]
        and bool(got[0]["result"]["quotes"])
    )
    handled = failed and extracted
    assert reliability.probe("transport", f"batch error, then retried: {kind}", handled), (
        first.stderr,
        again.stderr,
        got,
    )


def test_a_chaos_batch_has_no_ok_document_with_a_task_unanswered(tmp_path: Path) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 40)
    with ScriptedServer(chaos=0.5, seed=7, fault_delay_s=1.0) as server:
        settings = settings_for(server.url, timeout_s=0.5, transport_retries=4, concurrency=8)
        run = arun_batch(iter_source(source), output, settings=settings, tasks=TASKS)
        asyncio.run(asyncio.wait_for(run, timeout=300))
    got = records(output)
    unanswered = [
        (r["id"], d["reason"])
        for r in got
        if r["status"] == "ok"
        for d in r["result"]["dropped"]
        if d["reason"].startswith(("no answer", "answer unusable"))
    ]
    kinds = {r["error"]["type"] for r in got if r["status"] == "error"}
    handled = (
        [r["id"] for r in got] == [f"a{i}" for i in range(40)]
        and not unanswered
        and kinds <= {"EndpointAnswerError", "EndpointUnavailableError"}
    )
    assert reliability.probe("transport", "chaos batch: no ok line unanswered", handled), (
        unanswered,
        kinds,
    )


# 2. Secrets stay out of every message ------------------------------------------------------


def test_credentials_in_the_url_and_echoed_by_the_server_reach_no_output(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    key, password, token = "sk-echoed-key-4f2a9", "pw-in-url-9c1e7", "query-token-77aa3"
    source = tmp_path / "in.jsonl"
    write_articles(source, 3)
    scripted_server.enqueue(
        Reply(status=500, error_message=f"upstream rejected Bearer {key} from {password}"),
        Reply(status=400, error_message=f"bad request; your key is {key}"),
    )
    with_password = scripted_server.url.replace("http://", f"http://reader:{password}@")
    runs = [
        run_cli("batch", str(source), "-o", str(tmp_path / "a.jsonl"), "--base-url",
                with_password, "--model", "m", "--task", "quotes", "--retries", "0",
                "--concurrency", "1", LLMEXTRACT_API_KEY=key),
        run_cli("batch", str(source), "-o", str(tmp_path / "b.jsonl"), "--base-url",
                f"{scripted_server.url}?api_key={token}", "--model", "m", "--task", "quotes",
                "--retries", "0", LLMEXTRACT_API_KEY=key),
    ]  # fmt: skip
    written = [p.read_text(encoding="utf-8") for p in tmp_path.glob("[ab].*")]
    shown = [s for done in runs for s in (done.stdout, done.stderr)] + written
    leaks = [
        (secret, text) for secret in (key, password, token) for text in shown if secret in text
    ]
    first = records(tmp_path / "a.jsonl")
    handled = (
        not leaks
        and runs[0].returncode == 1  # the 400 stops the batch, after the 500's error record
        and first[0]["status"] == "error"
        and "***" in first[0]["error"]["message"]
        and runs[1].returncode == 1
        and "127.0.0.1" in runs[1].stderr
    )
    reliability.LEAKS.append(("credentials in URLs, echoed keys", len(shown), len(leaks)))
    assert reliability.probe("transport", "no secret in messages", handled), (leaks, runs)


def test_redact_removes_every_known_secret() -> None:
    from llmextract.transport import redact, secrets_in

    secrets = secrets_in("http://reader:p%40ss-word@h:8/v1?api_key=tok-123&x=y2", "sk-abc123")
    text = "Bearer sk-abc123 for p@ss-word and p%40ss-word via api_key=tok-123 (sk-abc123)"
    redacted = redact(text, secrets)
    handled = not any(s in redacted for s in ("sk-abc123", "p@ss-word", "p%40ss", "tok-123"))
    assert reliability.probe("transport", "redact helper", handled), redacted
    assert redact("nothing to hide", ()) == "nothing to hide"


# 3. Deadlines: per attempt, per document, and an endpoint that is down ---------------------


def trickle(handler: BaseHTTPRequestHandler, _: int, stopping: threading.Event) -> None:
    """Headers at once, then one byte of a long body every half second, until told to stop."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    handler.wfile.flush()
    while not stopping.wait(0.5):
        handler.wfile.write(b" ")
        handler.wfile.flush()


def never_answer(handler: BaseHTTPRequestHandler, _: int, stopping: threading.Event) -> None:
    stopping.wait()


def test_a_trickling_answer_ends_at_the_attempts_timeout() -> None:
    with raw_server(trickle) as url:
        settings = json_mode(url, timeout_s=2.0, transport_retries=0)
        started = time.monotonic()
        with pytest.raises(errors.EndpointUnavailableError) as caught:
            # A hang fails the test instead of stalling it.
            asyncio.run(asyncio.wait_for(aextract(TEXT, tasks=["quotes"], settings=settings), 60))
        seconds = time.monotonic() - started
    handled = seconds < 20 and "timeout_s" in str(caught.value)
    assert reliability.probe("transport", "trickle ends at timeout_s", handled), (seconds, caught)


def test_a_document_past_its_deadline_fails_naming_the_limit(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.enqueue(Reply(delay_s=3.0, arguments={"quotes": [MAYOR]}))
    settings = settings_for(scripted_server.url, timeout_s=30.0, document_timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(errors.EndpointUnavailableError) as caught:
        extract(TEXT, tasks=["quotes"], settings=settings)
    seconds = time.monotonic() - started
    handled = seconds < 2.5 and "document_timeout_s=1" in str(caught.value)
    assert reliability.probe("transport", "document deadline", handled), (seconds, caught)


def test_time_queued_behind_other_documents_does_not_count_against_the_deadline() -> None:
    with ScriptedServer([Reply(delay_s=1.8)] * 2) as server:
        settings = settings_for(server.url, concurrency=1, document_timeout_s=3.0)

        async def two_documents() -> list[Any]:
            client = ModelClient(settings)
            try:
                return await asyncio.gather(
                    aextract(TEXT, tasks=["quotes"], settings=settings, client=client),
                    aextract(TEXT + " ", tasks=["quotes"], settings=settings, client=client),
                )
            finally:
                await client.aclose()

        results = asyncio.run(two_documents())
    assert reliability.probe("transport", "queued time not counted", len(results) == 2)


def write_profile(tmp_path: Path, url: str, **fields: Any) -> Path:
    lines = ["[profiles.local]", f'base_url = "{url}"', 'model = "m"']
    lines += [f"{name} = {value}" for name, value in fields.items()]
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def test_a_batch_against_a_server_that_never_answers_stops_within_a_minute(
    tmp_path: Path,
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_articles(source, 40)
    with raw_server(never_answer) as url:
        config = write_profile(tmp_path, url, timeout_s=15)
        started = time.monotonic()
        done = run_cli("batch", str(source), "-o", str(output), "--profile", "local", "--task",
                       "quotes", "--retries", "2", LLMEXTRACT_CONFIG=str(config))  # fmt: skip
        seconds = time.monotonic() - started
    handled = (
        done.returncode == 1
        and "documents in a row" in done.stderr
        and seconds < 90
        and 8 <= len(records(output)) < 40
    )
    assert reliability.probe("transport", "silent server stops the batch", handled), (
        seconds,
        done.stderr,
    )


# 4. The size of an answer is capped, decoded --------------------------------------------


def padded(handler: BaseHTTPRequestHandler, *, chunked: bool) -> None:
    send(handler, completion({"quotes": [MAYOR]}, padding=4 * MiB), chunked=chunked)


OVERSIZE: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {
    "gzip bomb, 64 MiB from 64 KiB": lambda h: send(
        h, gzip_bomb(64 * MiB), headers={"Content-Encoding": "gzip"}
    ),
    "deflate bomb": lambda h: send(
        h, zlib.compress(b" " * 8 * MiB, 9), headers={"Content-Encoding": "deflate"}
    ),
    "4 MiB, Content-Length given": lambda h: padded(h, chunked=False),
    "4 MiB, chunked": lambda h: padded(h, chunked=True),
}


@pytest.mark.parametrize("kind", list(OVERSIZE))
def test_an_answer_over_the_size_cap_fails_fast_with_the_cap_named(kind: str) -> None:
    requests = 0

    def answer(handler: BaseHTTPRequestHandler, number: int, _: threading.Event) -> None:
        nonlocal requests
        requests = number
        OVERSIZE[kind](handler)

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with raw_server(answer) as url:
        settings = json_mode(url)
        settings = replace(settings, endpoint=replace(settings.endpoint, max_response_bytes=MiB))
        with pytest.raises(errors.EndpointError) as caught:
            extract(TEXT, tasks=["quotes"], settings=settings)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    handled = (
        "max_response_bytes=1048576" in str(caught.value)
        and requests == 1  # not retried: the same answer would come again
        and grown_mib < 32
    )
    assert reliability.probe("transport", f"size cap: {kind}", handled), (caught, grown_mib)


def test_a_compressed_answer_under_the_cap_is_decoded() -> None:
    def answer(handler: BaseHTTPRequestHandler, number: int, _: threading.Event) -> None:
        body = completion({"quotes": [MAYOR]}, padding=100_000)
        send(handler, gzip.compress(body), headers={"Content-Encoding": "gzip"})

    with raw_server(answer) as url:
        settings = json_mode(url)
        settings = replace(settings, endpoint=replace(settings.endpoint, max_response_bytes=MiB))
        result = extract(TEXT, tasks=["quotes"], settings=settings)
    handled = [q.content.text for q in result.quotes] == [MAYOR["content"]]
    assert reliability.probe("transport", "gzip answer under the cap", handled), result
