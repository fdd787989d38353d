"""ScriptedServer driven by the real openai client and by raw HTTP for faults."""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from llmextract.candidates import find_events, find_quotes, find_stances
from llmextract.drafts import (
    DraftList,
    EventList,
    QuoteList,
    StanceList,
    grounding_context,
)
from llmextract.testing import Reply, ScriptedServer
from llmextract.testing.answers import default_arguments
from llmextract.testing.faults import FAULTS, fault_reply
from llmextract.testing.pytest_plugin import scripted_server  # noqa: F401 - fixture

pytest_plugins = ["pytester"]

ARTICLE = """Ministers meet in Oslo

Foreign Minister Anna Berg said on Monday that "the talks were honest and useful," adding more.

"We will never sign a deal that ignores our borders," Karl Weiss told reporters after the meeting.

The European Union backed the Oslo Plan. Karl Weiss dismissed the proposal as naive."""

QUOTES_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "QuoteList",
        "description": "Quotes in the article",
        "parameters": {
            "type": "object",
            "properties": {"quotes": {"type": "array", "items": {"type": "object"}}},
            "required": ["quotes"],
        },
    },
}


def user_message(article: str = ARTICLE) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Extract.\n<article>\n{article}\n</article>\n"}]


def schema_request(task: str) -> dict[str, Any]:
    """A JSON-mode request whose system message carries the schema, like instructor's."""
    schema = {"type": "object", "properties": {task: {"type": "array"}}, "required": [task]}
    system = f"Answer with JSON that matches this schema:\n{json.dumps(schema, indent=2)}"
    return {"model": "m", "messages": [{"role": "system", "content": system}, *user_message()]}


@pytest.fixture
def client(scripted_server: ScriptedServer) -> Iterator[openai.OpenAI]:  # noqa: F811
    with openai.OpenAI(base_url=scripted_server.url, api_key="x", max_retries=0) as c:
        yield c


def create(client: openai.OpenAI, **kwargs: Any) -> Any:
    kwargs.setdefault("model", "test-model")
    kwargs.setdefault("messages", user_message())
    return client.chat.completions.create(**kwargs)


def raw_request(
    server: ScriptedServer, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, str], bytes]:
    host, port = server.url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


# --- scripted replies through the openai client -----------------------------


def test_tool_call_reply_reaches_client_and_request_is_logged(
    scripted_server: ScriptedServer,  # noqa: F811
    client: openai.OpenAI,
) -> None:
    arguments = {"quotes": [{"content": "We will win", "speaker": "Ann Lee"}]}
    scripted_server.enqueue(Reply(arguments=arguments))
    messages = user_message('Ann Lee said: "We will win."')

    completion = create(client, messages=messages, tools=[QUOTES_TOOL])

    call = completion.choices[0].message.tool_calls[0]
    assert call.function.name == "QuoteList"
    assert json.loads(call.function.arguments) == arguments
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.model == "test-model"
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    [record] = scripted_server.requests
    assert record.path == "/v1/chat/completions"
    assert record.headers["authorization"] == "Bearer x"
    assert record.body is not None
    assert record.body["model"] == "test-model"
    assert record.body["messages"] == messages
    assert record.body["tools"] == [QUOTES_TOOL]


def test_json_mode_reply_is_message_content(
    scripted_server: ScriptedServer,  # noqa: F811
    client: openai.OpenAI,
) -> None:
    scripted_server.enqueue(Reply(arguments={"events": []}))

    completion = create(client, response_format={"type": "json_object"})

    message = completion.choices[0].message
    assert json.loads(message.content) == {"events": []}
    assert message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"


def test_raw_content_is_sent_verbatim_even_in_tools_mode(
    scripted_server: ScriptedServer,  # noqa: F811
    client: openai.OpenAI,
) -> None:
    scripted_server.enqueue(Reply(content='{"quotes": [', arguments={"quotes": []}))

    completion = create(client, tools=[QUOTES_TOOL])

    assert completion.choices[0].message.content == '{"quotes": ['
    assert completion.choices[0].message.tool_calls is None


def test_no_tool_call_answers_tools_request_with_plain_content(
    scripted_server: ScriptedServer,  # noqa: F811
    client: openai.OpenAI,
) -> None:
    scripted_server.enqueue(Reply(arguments={"quotes": []}, no_tool_call=True))

    completion = create(client, tools=[QUOTES_TOOL])

    assert completion.choices[0].message.tool_calls is None
    assert json.loads(completion.choices[0].message.content) == {"quotes": []}


def test_replies_are_used_in_order_then_default(
    scripted_server: ScriptedServer,  # noqa: F811
    client: openai.OpenAI,
) -> None:
    scripted_server.enqueue(Reply(arguments={"n": 1}), Reply(arguments={"n": 2}))

    answers = [create(client).choices[0].message.content for _ in range(3)]

    assert [json.loads(a) for a in answers] == [{"n": 1}, {"n": 2}, {}]
    assert scripted_server.pending == 0
    assert len(scripted_server.requests) == 3


def test_rate_limit_with_retry_after(
    scripted_server: ScriptedServer,  # noqa: F811
    client: openai.OpenAI,
) -> None:
    scripted_server.enqueue(
        Reply(status=429, error_message="slow down", headers={"Retry-After": "0"})
    )

    with pytest.raises(openai.RateLimitError) as caught:
        create(client)

    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "0"
    assert "slow down" in caught.value.message


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, openai.InternalServerError), (401, openai.AuthenticationError)],
)
def test_error_status_maps_to_openai_error(
    scripted_server: ScriptedServer,  # noqa: F811
    client: openai.OpenAI,
    status: int,
    error: type[openai.APIStatusError],
) -> None:
    scripted_server.enqueue(Reply(status=status))

    with pytest.raises(error) as caught:
        create(client)

    assert caught.value.status_code == status


def test_delay_beyond_client_timeout_is_a_timeout(
    scripted_server: ScriptedServer,  # noqa: F811
    client: openai.OpenAI,
) -> None:
    scripted_server.enqueue(Reply(delay_s=1.0))

    with pytest.raises(openai.APITimeoutError):
        create(client.with_options(timeout=0.3))


def test_dropped_connection_is_a_connection_error(
    scripted_server: ScriptedServer,  # noqa: F811
    client: openai.OpenAI,
) -> None:
    scripted_server.enqueue(Reply(drop_connection=True))

    with pytest.raises(openai.APIConnectionError) as caught:
        create(client)

    assert not isinstance(caught.value, openai.APITimeoutError)


def test_finish_reason_length_is_passed_through(
    scripted_server: ScriptedServer,  # noqa: F811
    client: openai.OpenAI,
) -> None:
    scripted_server.enqueue(
        Reply(arguments={"quotes": []}, finish_reason="length"),
        Reply(arguments={"quotes": []}, finish_reason="length"),
    )

    plain = create(client)
    tools = create(client, tools=[QUOTES_TOOL])

    assert plain.choices[0].finish_reason == "length"
    assert tools.choices[0].finish_reason == "length"


def test_empty_choices(
    scripted_server: ScriptedServer,  # noqa: F811
    client: openai.OpenAI,
) -> None:
    scripted_server.enqueue(Reply(arguments={"quotes": []}, empty_choices=True))

    assert create(client).choices == []


def test_models_endpoint(client: openai.OpenAI) -> None:
    assert [model.id for model in client.models.list()] == ["scripted"]


def test_latency_is_added_to_every_completion() -> None:
    with (
        ScriptedServer(latency_ms=300) as server,
        openai.OpenAI(base_url=server.url, api_key="x", max_retries=0) as client,
    ):
        for _ in range(2):
            started = time.perf_counter()
            create(client)
            assert time.perf_counter() - started >= 0.3


def test_concurrent_requests_each_consume_one_reply(scripted_server: ScriptedServer) -> None:  # noqa: F811
    scripted_server.enqueue(*(Reply(arguments={"n": n}) for n in range(20)))
    answers: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        status, _, body = raw_request(
            scripted_server, "POST", "/v1/chat/completions", {"model": "m", "messages": []}
        )
        assert status == 200
        value = json.loads(json.loads(body)["choices"][0]["message"]["content"])["n"]
        with lock:
            answers.append(value)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(answers) == list(range(20))
    assert len(scripted_server.requests) == 20


# --- default answer ---------------------------------------------------------

DRAFT_LISTS: dict[str, type[DraftList]] = {
    "quotes": QuoteList,
    "events": EventList,
    "stances": StanceList,
}


def assert_grounded_and_valid(task: str, answer: dict[str, Any], article: str) -> None:
    """The answer fits the task's draft schema and every item grounds in the article."""
    items = answer[task]
    assert len(items) > 0
    # strict: an ungrounded span fails validation
    grounded = DRAFT_LISTS[task].model_validate(answer, context=grounding_context(article))
    assert len(grounded.records) == len(items)
    assert grounded.dropped == []


def test_default_answer_quotes_through_client(client: openai.OpenAI) -> None:
    completion = create(client, tools=[QUOTES_TOOL])

    arguments = json.loads(completion.choices[0].message.tool_calls[0].function.arguments)
    assert_grounded_and_valid("quotes", arguments, ARTICLE)
    candidates = {(q.text, q.kind) for q in find_quotes(ARTICLE)}
    assert {(q["content"], q["kind"]) for q in arguments["quotes"]} <= candidates
    said = {q["content"]: q["speaker_name"] for q in arguments["quotes"]}
    assert said["We will never sign a deal that ignores our borders"] == "Karl Weiss"


def test_default_quote_speaker_is_found_in_the_quotes_own_sentence() -> None:
    article = (
        'Anna Berg arrived late. "No deal," said Karl Weiss. '
        'Later Maria Lopez said "we can wait" in Oslo.'
    )
    request = {"model": "m", "messages": user_message(article), "tools": [QUOTES_TOOL]}

    answer = default_arguments(request)

    assert_grounded_and_valid("quotes", answer, article)
    speakers = {q["speaker"] for q in answer["quotes"] if "No deal" in q["content"]}
    assert speakers == {"Karl Weiss"}
    speakers = {q["speaker"] for q in answer["quotes"] if "we can wait" in q["content"]}
    assert speakers == {"Maria Lopez"}


def test_default_answer_events_from_schema_in_system_message() -> None:
    answer = default_arguments(schema_request("events"))

    assert_grounded_and_valid("events", answer, ARTICLE)
    triggers = [e.text for e in find_events(ARTICLE)]
    assert [e["trigger"] for e in answer["events"]] == triggers[: len(answer["events"])]
    backed = next(e for e in answer["events"] if e["trigger"] == "backed")
    assert (backed["type"], backed["actor"]) == ("SUPPORT", "European Union")


def test_default_answer_stances() -> None:
    answer = default_arguments(schema_request("stances"))

    assert_grounded_and_valid("stances", answer, ARTICLE)
    assert [(s["holder"], s["polarity"]) for s in answer["stances"]] == [
        (s.holder.text, s.polarity_hint) for s in find_stances(ARTICLE) if s.holder is not None
    ]


def test_default_answer_lists_every_candidate() -> None:
    article = " ".join(f'"The plan number {i} is ready," said Ann Reyes.' for i in range(20))
    article = "Ann Reyes said that " + "the wall will rise and " * 40 + "stand. " + article
    request = {"model": "m", "messages": user_message(article), "tools": [QUOTES_TOOL]}

    answer = default_arguments(request)

    assert_grounded_and_valid("quotes", answer, article)
    assert len(answer["quotes"]) == len(find_quotes(article)) > 8


def test_default_answer_json_mode_through_server(
    scripted_server: ScriptedServer,  # noqa: F811
    client: openai.OpenAI,
) -> None:
    request = schema_request("stances")

    completion = create(client, messages=request["messages"])

    stances = json.loads(completion.choices[0].message.content)["stances"]
    assert [s["polarity"] for s in stances] == ["support", "oppose"]


def test_default_answer_is_empty_when_task_unknown() -> None:
    assert default_arguments({"model": "m", "messages": user_message()}) == {}


def test_every_fault_is_a_valid_reply_and_an_unknown_one_is_refused() -> None:
    answer = default_arguments(schema_request("quotes"))
    replies = [Reply.from_dict(fault_reply(fault, answer, 1.0)) for fault in FAULTS]
    assert len(replies) == len(FAULTS)
    assert any(reply.delay_s == 1.0 for reply in replies)
    with pytest.raises(ValueError, match="unknown fault 'bogus'"):
        fault_reply("bogus", answer, 1.0)


# --- raw HTTP faults ----------------------------------------------------------


def test_unknown_path_is_json_404(scripted_server: ScriptedServer) -> None:  # noqa: F811
    status, headers, body = raw_request(scripted_server, "GET", "/v1/nothing")

    assert status == 404
    assert headers["content-type"] == "application/json"
    assert "error" in json.loads(body)


def test_drop_connection_sends_nothing(scripted_server: ScriptedServer) -> None:  # noqa: F811
    scripted_server.enqueue(Reply(drop_connection=True))

    with pytest.raises(http.client.RemoteDisconnected):
        raw_request(scripted_server, "POST", "/v1/chat/completions", {"messages": []})


def test_trickle_spreads_body_over_time(scripted_server: ScriptedServer) -> None:  # noqa: F811
    scripted_server.enqueue(Reply(arguments={"text": "x" * 400}, trickle_s=0.5))

    started = time.perf_counter()
    status, _, body = raw_request(scripted_server, "POST", "/v1/chat/completions", {"messages": []})

    assert time.perf_counter() - started >= 0.4
    assert status == 200
    assert json.loads(json.loads(body)["choices"][0]["message"]["content"]) == {"text": "x" * 400}


def test_stop_does_not_wait_for_delayed_reply() -> None:
    server = ScriptedServer([Reply(delay_s=30)]).start()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            raw_request(server, "POST", "/v1/chat/completions", {"messages": []})
        except (OSError, http.client.HTTPException) as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)

    started = time.perf_counter()
    server.stop()
    thread.join(timeout=5)

    assert time.perf_counter() - started < 2
    assert not thread.is_alive()
    assert errors, "the delayed request must not get an answer after stop()"


def test_binding_beyond_loopback_is_refused() -> None:
    with pytest.raises(ValueError, match="loopback"):
        ScriptedServer(host="0.0.0.0")


# --- pytest plugin --------------------------------------------------------------


def test_fixture_serves_during_test_and_stops_after(pytester: pytest.Pytester) -> None:
    url_file = pytester.path / "url.txt"
    pytester.makeconftest("from llmextract.testing.pytest_plugin import scripted_server\n")
    pytester.makepyfile(
        f"""
        import pathlib
        import urllib.request

        def test_uses_server(scripted_server):
            with urllib.request.urlopen(scripted_server.url + "/models") as response:
                assert response.status == 200
            pathlib.Path({str(url_file)!r}).write_text(scripted_server.url)
        """
    )

    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)

    host, port = url_file.read_text().split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=2).close()


# --- command line -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def package_env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": root if not path else f"{root}{os.pathsep}{path}"}
    # Buffered stdout, as under a supervisor: the ready line must still be flushed.
    env.pop("PYTHONUNBUFFERED", None)
    return env


def test_command_line_serves_script_and_stops_on_sigterm(tmp_path: Path) -> None:
    script = tmp_path / "script.jsonl"
    script.write_text('{"arguments": {"scripted": true}}\n\n{"status": 503}\n', encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "llmextract.testing.server", "--port", str(port)]
    command += ["--script", str(script), "--latency-ms", "1"]

    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=package_env()
    ) as proc:
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], 15)
            assert ready, "server did not print its URL"
            line = proc.stdout.readline().strip()
            assert line == f"llmextract scripted server on http://127.0.0.1:{port}/v1"

            with openai.OpenAI(base_url=line.rsplit(" ", 1)[1], api_key="x", max_retries=0) as c:
                assert [m.id for m in c.models.list()] == ["scripted"]
                answer = create(c).choices[0].message.content
                assert json.loads(answer) == {"scripted": True}
                with pytest.raises(openai.InternalServerError):
                    create(c)

            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=5) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.stderr is not None
        assert proc.stderr.read() == ""


def test_command_line_help_describes_every_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "llmextract.testing.server", "--help"],
        capture_output=True,
        text=True,
        env=package_env(),
        timeout=30,
        check=True,
    )

    for option in ("--port", "--host", "--latency-ms", "--script"):
        assert option in result.stdout


def test_command_line_rejects_bad_script(tmp_path: Path) -> None:
    script = tmp_path / "bad.jsonl"
    script.write_text('{"stauts": 500}\n', encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "llmextract.testing.server", "--script", str(script)],
        capture_output=True,
        text=True,
        env=package_env(),
        timeout=30,
    )

    assert result.returncode == 2
    assert "stauts" in result.stderr
