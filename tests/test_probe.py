"""``llmextract endpoints check`` and the checks made before the first request, through the
real CLI: the probe works against the scripted server in every mode and says why a mode
fails; an endpoint that needs a key and has none fails at once, without a request."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from llmextract.testing import Reply, ScriptedServer
from tests import reliability
from tests.conftest import SAMPLE, run_cli

pytestmark = pytest.mark.faults
MODES = ("tools", "json_schema", "json", "md_json")


def mode_lines(stdout: str) -> dict[str, str]:
    """``endpoints check`` output: mode -> its line."""
    return {
        line.split()[0]: line
        for line in stdout.splitlines()
        if line.startswith("  ") and line.split()[0] in MODES
    }


def test_endpoints_check_works_against_the_scripted_server_in_every_mode(
    scripted_server: ScriptedServer,
) -> None:
    done = run_cli("endpoints", "check", "--base-url", scripted_server.url, "--model", "m")
    lines = mode_lines(done.stdout)
    handled = (
        done.returncode == 0
        and set(lines) == set(MODES)
        and all(" works " in line for line in lines.values())
    )
    assert reliability.probe("endpoints", "check works against the test server", handled), (
        done.stdout + done.stderr
    )


def test_a_failing_mode_names_the_fields_and_their_errors_on_one_line(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.enqueue(Reply(arguments={"city": "Paris"}), Reply(arguments={}))
    done = run_cli("endpoints", "check", "--base-url", scripted_server.url, "--model", "m")
    lines = mode_lines(done.stdout)
    tools, json_schema = lines.get("tools", ""), lines.get("json_schema", "")
    handled = (
        "FAILS" in tools
        and "country" in tools
        and "Field required" in tools
        and "FAILS" in json_schema
        and "city" in json_schema
        and "country" in json_schema
        and "works" in lines.get("json", "")
    )
    assert reliability.probe("endpoints", "failing mode names fields and errors", handled), (
        done.stdout + done.stderr
    )


@contextmanager
def counting_proxy() -> Iterator[tuple[str, list[int]]]:
    """A TCP listener on 127.0.0.1 to point HTTPS_PROXY at: it counts connections made to it
    (a request to a remote endpoint would connect here first) and closes each at once."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    connections: list[int] = []
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connections.append(1)
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", connections
    finally:
        stopping.set()
        thread.join()
        listener.close()


@pytest.mark.parametrize(
    "command",
    [
        ("extract", str(SAMPLE), "--profile", "openai", "--no-cache"),
        ("extract", str(SAMPLE), "--profile", "openai", "--no-cache", "--retries", "0"),
        ("endpoints", "check", "--profile", "openai"),
    ],
    ids=["extract", "extract-no-retries", "endpoints-check"],
)
def test_an_endpoint_that_needs_a_key_fails_at_once_without_one(command: tuple[str, ...]) -> None:
    with counting_proxy() as (proxy, connections):
        started = time.monotonic()
        done = run_cli(*command, HTTPS_PROXY=proxy, HTTP_PROXY=proxy, NO_PROXY="")
        seconds = time.monotonic() - started
    handled = (
        done.returncode == 1
        and "OPENAI_API_KEY" in done.stderr
        and "--api-key" in done.stderr
        and not connections
        and seconds < 60
    )
    assert reliability.probe("endpoints", f"no key for a keyed endpoint: {command[0]}", handled), (
        done.stdout + done.stderr + f" ({len(connections)} connections, {seconds:.1f} s)"
    )


def test_a_failed_request_is_counted_in_good_grammar_with_one_full_stop() -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/v1"
    done = run_cli("extract", str(SAMPLE), "--base-url", url, "--model", "m", "--retries", "0")
    handled = (
        done.returncode == 1
        and "after 1 request:" in done.stderr
        and ".." not in done.stderr
        and "--retries" in done.stderr
    )
    assert reliability.probe("endpoints", "unreachable endpoint message", handled), done.stderr
