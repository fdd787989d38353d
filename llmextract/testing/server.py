"""A real local HTTP server that speaks the OpenAI chat-completions protocol.

Use it in tests, demos, benchmarks and fault-injection runs the way httpx's
``MockTransport`` is used: point any OpenAI-compatible client at
:attr:`ScriptedServer.url` and script what the "model" answers::

    with ScriptedServer([Reply(arguments={"quotes": []})]) as server:
        client = openai.OpenAI(base_url=server.url, api_key="x")
        ...

Each ``POST /v1/chat/completions`` consumes the next :class:`Reply`; once the
script is used up the server answers with a deterministic default derived from
the request (see :mod:`llmextract.testing.answers`): the candidates that
:mod:`llmextract.candidates` finds in the article, as a model that accepts each
one would answer.  With ``chaos``, some unscripted requests get a fault instead
(:mod:`llmextract.testing.faults`).  With ``oracle`` (a gold JSONL file), unscripted requests
are answered from the gold annotations instead, spoiled by a seeded ``noise`` profile
(:mod:`llmextract.testing.oracle`, :mod:`llmextract.testing.noise`); ``tasks_files`` declare
user tasks (:mod:`llmextract.tasks`) whose gold records the oracle answers too.

Run it standalone with ``python -m llmextract.testing.server --port 8080``, or as an oracle
with ``--oracle GOLD.jsonl --noise realistic --seed 1`` (and ``--tasks-file tasks.py`` for
the user tasks of the gold).
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import json
import random
import signal
import socket
import socketserver
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from llmextract.errors import ConfigError, LLMExtractError
from llmextract.testing.answers import (
    JSONDict,
    chosen_tool,
    default_arguments,
    message_text,
    messages,
)
from llmextract.testing.faults import FAULTS, fault_reply
from llmextract.testing.noise import PROFILES
from llmextract.testing.oracle import Oracle

__all__ = ["FAULTS", "Reply", "RequestRecord", "ScriptedServer", "main"]

_CHAT_PATH = "/v1/chat/completions"
_MODELS_PATH = "/v1/models"
_MODELS_BODY: JSONDict = {
    "object": "list",
    "data": [{"id": "scripted", "object": "model", "created": 0, "owned_by": "llmextract"}],
}
# Trickled bodies are cut into at most this many writes; enough to look slow
# to a client without turning a long body into thousands of syscalls.
_TRICKLE_PIECES = 50


@dataclass
class Reply:
    """One scripted answer to one chat-completion request."""

    arguments: JSONDict | None = None
    """JSON object the model "returns"; ``None`` means the default answer."""
    content: str | None = None
    """Raw assistant content sent verbatim (e.g. broken JSON); overrides ``arguments``."""
    raw: str | None = None
    """Raw answer text sent verbatim where the answer goes (the tool call's arguments in
    tools mode, else the content), e.g. an answer cut off at max_tokens."""
    status: int = 200
    """HTTP status; anything but 200 sends an OpenAI-style error body."""
    error_message: str = "scripted error"
    headers: dict[str, str] = field(default_factory=dict)
    """Extra response headers, e.g. ``{"Retry-After": "0"}``."""
    delay_s: float = 0.0
    """Sleep before answering, e.g. to trigger client timeouts."""
    finish_reason: str = "stop"
    """``"length"`` simulates truncation; ``"stop"`` becomes ``"tool_calls"`` for tool calls."""
    no_tool_call: bool = False
    """In tools mode, answer with plain content and no ``tool_calls``."""
    empty_choices: bool = False
    """Answer with ``"choices": []``."""
    drop_connection: bool = False
    """Close the socket without sending any response."""
    trickle_s: float = 0.0
    """Send the response body slowly, spread over this many seconds."""

    def __post_init__(self) -> None:
        if not 200 <= self.status <= 599:
            raise ValueError(f"Reply.status must be 200..599, got {self.status}")
        if self.delay_s < 0 or self.trickle_s < 0:
            raise ValueError("Reply.delay_s and Reply.trickle_s must not be negative")

    @classmethod
    def from_dict(cls, data: JSONDict) -> Reply:
        """Build a reply from a JSON object whose keys are :class:`Reply` field names."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown Reply field(s): {', '.join(unknown)}")
        arguments = data.get("arguments")
        if arguments is not None and not isinstance(arguments, dict):
            raise ValueError("Reply.arguments must be a JSON object or null")
        headers = data.get("headers", {})
        if not isinstance(headers, dict):
            raise ValueError("Reply.headers must be a JSON object")
        try:
            return cls(**{**data, "headers": {str(k): str(v) for k, v in headers.items()}})
        except TypeError as exc:  # e.g. a string where a number belongs
            raise ValueError(str(exc)) from exc


@dataclass(frozen=True)
class RequestRecord:
    """One logged POST request."""

    path: str
    headers: dict[str, str]
    """Request headers with lower-case names."""
    body: JSONDict | None
    """The body parsed as a JSON object, or ``None`` when it is not one."""


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its :class:`ScriptedServer`."""

    daemon_threads = True
    # The stdlib default of 5 resets connections when a benchmark or a
    # concurrency test opens many at once.
    request_queue_size = 128
    owner: ScriptedServer

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall for
        # seconds on machines with slow DNS; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up (timeouts, dropped connections) are expected in
        # fault-injection runs and must not spray tracebacks over test output.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _IPv6HTTPServer(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    """Routes requests to the owning :class:`ScriptedServer`."""

    protocol_version = "HTTP/1.1"
    server_version = "llmextract-scripted"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the request log lives in :attr:`ScriptedServer.requests`."""

    def do_GET(self) -> None:
        """Serve the model list; everything else is 404."""
        if self._route() == _MODELS_PATH:
            self._send_json(200, self.server.owner._models())
        else:
            self._send_not_found()

    def do_POST(self) -> None:
        """Log the request, then answer chat completions or 404."""
        raw = self._read_body()
        body = _parse_json_object(raw)
        owner = self.server.owner
        owner._log(RequestRecord(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        if self._route() != _CHAT_PATH:
            self._send_not_found()
            return
        if body is None:
            self._send_json(400, _error_body(400, "request body must be a JSON object"))
            return
        if body.get("stream"):
            self._send_json(400, _error_body(400, "stream=true is not supported by ScriptedServer"))
            return
        reply, number = owner._next_reply(body)
        status = reply.status
        # The answer is made before the latency passes, so that the latency is what a
        # client waits, however many requests the server answers at once.
        payload = (
            _error_body(status, reply.error_message)
            if status != 200
            else _completion(body, reply, number)
        )
        with owner._answering():
            waited = owner._sleep(owner.latency_ms / 1000 + reply.delay_s)
        if not waited or reply.drop_connection:
            self.close_connection = True
            return
        extra = {"x-request-id": f"req_{number}", **reply.headers}
        self._send_json(status, payload, extra, reply.trickle_s)

    def _unknown_method(self) -> None:
        self._read_body()
        self._send_not_found()

    do_PUT = do_PATCH = do_DELETE = _unknown_method

    def _route(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # Trailer section ends with an empty line.
                while self.rfile.readline().strip():
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _send_not_found(self) -> None:
        method = self.command
        self._send_json(404, _error_body(404, f"Unknown request URL: {method} {self.path}"))

    def _send_json(
        self,
        status: int,
        payload: JSONDict,
        extra_headers: dict[str, str] | None = None,
        trickle_s: float = 0.0,
    ) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            # One request per connection: the server can then stop without
            # waiting on idle keep-alive sockets.
            self.send_header("Connection", "close")
            for name, value in (extra_headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if trickle_s <= 0 or not data:
                self.wfile.write(data)
                return
            self.wfile.flush()
            pieces = min(len(data), _TRICKLE_PIECES)
            step = -(-len(data) // pieces)
            pause = trickle_s / pieces
            for start in range(0, len(data), step):
                if not self.server.owner._sleep(pause):
                    return
                self.wfile.write(data[start : start + step])
                self.wfile.flush()
        except (ConnectionError, TimeoutError):
            self.close_connection = True


class ScriptedServer:
    """A local OpenAI-compatible chat-completions server that answers from a script."""

    def __init__(
        self,
        script: Iterable[Reply] = (),
        *,
        latency_ms: float = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        chaos: float = 0.0,
        seed: int = 0,
        fault_delay_s: float = 2.0,
        oracle: str | Path | Oracle | None = None,
        noise: str = "clean",
        tasks_files: Iterable[str | Path] = (),
    ) -> None:
        if latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if not _is_loopback(host):
            raise ValueError(f"ScriptedServer binds to loopback only, not {host!r}")
        if not 0.0 <= chaos <= 1.0:
            raise ValueError("chaos must be between 0 and 1")
        self.latency_ms = float(latency_ms)
        # With chaos > 0, that share of unscripted requests gets a fault from FAULTS, drawn
        # by a generator seeded with `seed`; a "timeout" fault waits `fault_delay_s`.
        self.chaos = chaos
        self.fault_delay_s = fault_delay_s
        self._rng = random.Random(seed)  # noqa: S311 - a test schedule, not a secret
        # With an oracle, unscripted requests are answered from gold, spoiled by `noise`; the
        # task files declare the user tasks whose records the gold holds.
        tasks_files = list(tasks_files)
        if tasks_files and not isinstance(oracle, str | Path):
            raise ValueError(
                "tasks_files are read with the oracle's gold: give oracle=GOLD (a path) too, "
                "or build the oracle with Oracle.from_file(GOLD, tasks_files=...)"
            )
        if oracle is not None and not isinstance(oracle, Oracle):
            oracle = Oracle.from_file(oracle, noise=noise, seed=seed, tasks_files=tasks_files)
        self.oracle = oracle
        self._injected: list[tuple[str, JSONDict]] = []
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque(script)
        self._log_records: list[RequestRecord] = []
        self._count = 0
        self._in_flight = 0
        self._peak = 0
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL for OpenAI clients, e.g. ``http://127.0.0.1:PORT/v1``."""
        if self._httpd is None:
            raise RuntimeError("ScriptedServer is not running; call start() first")
        host, port = self._httpd.server_name, self._httpd.server_port
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/v1"

    @property
    def requests(self) -> list[RequestRecord]:
        """Snapshot of every POST received so far, oldest first."""
        with self._lock:
            return list(self._log_records)

    @property
    def injected(self) -> list[tuple[str, JSONDict]]:
        """Every fault chaos injected, with the request body it answered, oldest first."""
        with self._lock:
            return list(self._injected)

    @property
    def peak_in_flight(self) -> int:
        """The most chat completions the server was answering at the same moment."""
        with self._lock:
            return self._peak

    @property
    def pending(self) -> int:
        """How many scripted replies are still queued."""
        with self._lock:
            return len(self._queue)

    def enqueue(self, *replies: Reply) -> None:
        """Append replies to the end of the script."""
        with self._lock:
            self._queue.extend(replies)

    def start(self) -> ScriptedServer:
        """Bind the port and serve in a background daemon thread."""
        if self._httpd is not None:
            return self
        server_cls = _IPv6HTTPServer if ":" in self.host else _HTTPServer
        httpd = server_cls((self.host, self.port), _Handler)
        httpd.owner = self
        self._stopping.clear()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"ScriptedServer:{httpd.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        # Wakes handlers sleeping in delay_s/latency/trickle so they drop out.
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._httpd is not None else "stopped"
        return f"<ScriptedServer {where} pending={self.pending}>"

    # Called from handler threads.

    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self._log_records.append(record)

    def _next_reply(self, body: JSONDict) -> tuple[Reply, int]:
        with self._lock:
            self._count += 1
            if self._queue:
                return self._queue.popleft(), self._count
            if self.chaos and self._rng.random() < self.chaos:
                fault = self._rng.choice(FAULTS)
                self._injected.append((fault, body))
                answer = default_arguments(body)
                return Reply.from_dict(fault_reply(fault, answer, self.fault_delay_s)), self._count
            if self.oracle is not None:
                fields = self.oracle.reply(body)
                if fields is not None:
                    return Reply.from_dict(fields), self._count
            return Reply(), self._count

    def _models(self) -> JSONDict:
        """The model list; with an oracle, its description too."""
        if self.oracle is None:
            return _MODELS_BODY
        model = {**_MODELS_BODY["data"][0], "id": "oracle", "oracle": self.oracle.describe()}
        return {**_MODELS_BODY, "data": [model]}

    @contextmanager
    def _answering(self) -> Iterator[None]:
        with self._lock:
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server stops first; return False if it stopped."""
        if seconds > 0:
            return not self._stopping.wait(seconds)
        return not self._stopping.is_set()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_json_object(raw: bytes) -> JSONDict | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


_ERROR_KINDS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", "permission_denied"),
    404: ("invalid_request_error", "not_found"),
    408: ("timeout_error", "timeout"),
    409: ("invalid_request_error", "conflict"),
    422: ("invalid_request_error", "unprocessable_entity"),
    429: ("requests", "rate_limit_exceeded"),
}


def _error_body(status: int, message: str) -> JSONDict:
    kind, code = _ERROR_KINDS.get(
        status,
        ("server_error", "server_error") if status >= 500 else ("invalid_request_error", "error"),
    )
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}


def _completion(body: JSONDict, reply: Reply, number: int) -> JSONDict:
    """Build a chat.completion object for ``reply`` answering ``body``."""
    tool = chosen_tool(body)
    if reply.content is not None:
        text, tool_call = reply.content, False
    elif reply.raw is not None:
        text, tool_call = reply.raw, tool is not None and not reply.no_tool_call
    else:
        arguments = reply.arguments if reply.arguments is not None else default_arguments(body)
        text, tool_call = (
            json.dumps(arguments, ensure_ascii=False),
            tool is not None and not reply.no_tool_call,
        )
    if tool_call and tool is not None:
        message: JSONDict = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{number}",
                    "type": "function",
                    "function": {"name": str(tool.get("name", "")), "arguments": text},
                }
            ],
        }
        finish = "tool_calls" if reply.finish_reason == "stop" else reply.finish_reason
    else:
        message = {"role": "assistant", "content": text}
        finish = reply.finish_reason
    prompt_tokens = max(1, sum(len(message_text(m)) for m in messages(body)) // 4)
    completion_tokens = max(1, len(text) // 4)
    choices = (
        []
        if reply.empty_choices
        else [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}]
    )
    model = body.get("model")
    return {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model if isinstance(model, str) else "scripted",
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _load_script(path: str) -> list[Reply]:
    replies: list[Reply] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError("expected a JSON object")
                replies.append(Reply.from_dict(data))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from exc
    return replies


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m llmextract.testing.server",
        description=(
            "Serve the OpenAI chat-completions protocol on loopback from a script of "
            "replies, falling back to a deterministic default answer. Stops on SIGINT/SIGTERM."
        ),
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="TCP port to listen on (default: 0 = pick a free port; the URL is printed)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="loopback address to bind, e.g. 127.0.0.1 or ::1 (default: 127.0.0.1)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="extra delay added to every chat completion, in milliseconds (default: 0)",
    )
    parser.add_argument(
        "--chaos",
        type=float,
        default=0.0,
        metavar="P",
        help="share of unscripted requests answered with a random fault (429, 5xx, reset, "
        "timeout, truncation, invalid JSON, ...; default: 0)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the fault schedule (default: 0)"
    )
    parser.add_argument(
        "--script",
        metavar="FILE",
        help="JSONL file, one reply per line as a JSON object with Reply field names "
        '(e.g. {"arguments": {...}}, {"status": 429, "headers": {"Retry-After": "0"}}); '
        "answered in order, then the default answer",
    )
    parser.add_argument(
        "--oracle",
        metavar="GOLD",
        help="gold JSONL file: answer every unscripted request from its annotations, as a "
        "model that copies the gold records of the passage it is shown (any model name)",
    )
    parser.add_argument(
        "--noise",
        default="clean",
        choices=list(PROFILES),
        help="with --oracle: the errors a real model makes, seeded by --seed (default: clean)",
    )
    parser.add_argument(
        "--tasks-file",
        action="append",
        default=[],
        metavar="FILE",
        help="with --oracle: a Python file declaring your own tasks (llmextract.tasks.task), "
        "whose records in the gold are answered too; repeatable",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until SIGINT or SIGTERM; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.tasks_file and not args.oracle:
        parser.error("--tasks-file is read with the oracle's gold: give --oracle GOLD too")
    try:
        script = _load_script(args.script) if args.script else []
        server = ScriptedServer(
            script, latency_ms=args.latency_ms, host=args.host, port=args.port,
            chaos=args.chaos, seed=args.seed, oracle=args.oracle, noise=args.noise,
            tasks_files=args.tasks_file,
        )  # fmt: skip
    except ConfigError as exc:  # a task file to fix: one line, as the llmextract CLI says it
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, LLMExtractError) as exc:
        parser.error(str(exc))
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server.start()
        except OSError as exc:
            print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
        print(f"llmextract scripted server on {server.url}", flush=True)
        if server.oracle is not None:
            print(f"oracle: {server.oracle.describe()}", flush=True)
        # Poll rather than block forever so the signal handler gets to run.
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
