"""The real openai + instructor path against a real local OpenAI-compatible server."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from llmextract import (
    EndpointAuthError,
    EndpointRequestError,
    EndpointUnavailableError,
    extract,
)
from llmextract.errors import EndpointAnswerError
from llmextract.testing import Reply, ScriptedServer
from tests.conftest import MAYOR, settings_for

INVENTED = {
    "content": "The wall will be paid for by a lottery",
    "speaker": "Mayor Elena Ruiz",
    "speaker_name": None,
    "cue": "said",
    "kind": "direct",
}


def assert_grounded(text: str, result_json: dict) -> int:
    """Every span in the result is article[start:end]; returns how many were checked."""
    checked = 0

    def walk(node: object) -> None:
        nonlocal checked
        if isinstance(node, dict):
            if {"text", "start", "end"} <= node.keys():
                assert text[node["start"] : node["end"]] == node["text"]
                checked += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in result_json.items() if k != "dropped"})
    return checked


def quotes_only(server: ScriptedServer, text: str, **overrides: object) -> dict:
    result = extract(text, tasks=["quotes"], settings=settings_for(server.url, **overrides))
    return json.loads(result.model_dump_json())


def test_valid_answer_is_grounded_with_offsets(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    scripted_server.enqueue(Reply(arguments={"quotes": [MAYOR]}))
    result = quotes_only(scripted_server, sample_text)
    [quote] = result["quotes"]
    assert quote["content"]["text"] == MAYOR["content"]
    assert quote["content"]["alignment"] == "exact"
    assert quote["speaker"]["text"] == "Mayor Elena Ruiz"
    assert quote["cue"]["text"] == "told"
    assert assert_grounded(sample_text, result) == 3
    assert result["usage"] == {
        "requests": 1,
        "transport_retries": 0,
        "reasks": 0,
        "prompt_tokens": result["usage"]["prompt_tokens"],
        "completion_tokens": result["usage"]["completion_tokens"],
        "cached": 0,
    }
    assert result["usage"]["prompt_tokens"] > 0
    assert result["prompts"]["quotes"].startswith("quotes.v")
    # The request was a forced tool call carrying the article.
    body = scripted_server.requests[0].body
    assert body is not None
    assert body["tool_choice"]["function"]["name"] == body["tools"][0]["function"]["name"]
    assert sample_text.strip() in body["messages"][-1]["content"]


def test_invented_quote_is_reasked_then_dropped(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    scripted_server.enqueue(*[Reply(arguments={"quotes": [MAYOR, INVENTED]})] * 3)
    result = quotes_only(scripted_server, sample_text, max_reasks=2)
    assert [q["content"]["text"] for q in result["quotes"]] == [MAYOR["content"]]
    assert len(result["dropped"]) == 1
    assert "lottery" in result["dropped"][0]["reason"]
    assert result["usage"]["requests"] == 3
    assert result["usage"]["reasks"] == 2
    # The re-ask told the model what was wrong, and the conversation stayed bounded:
    # original system + user, then only the latest failed answer and its error.
    bodies = [r.body for r in scripted_server.requests]
    assert all(b is not None for b in bodies)
    second, third = bodies[1]["messages"], bodies[2]["messages"]  # type: ignore[index]
    assert "is not in the article" in json.dumps(second[-1])
    assert len(second) == len(third) == 4
    assert [m["role"] for m in third] == ["system", "user", "assistant", "tool"]


def test_reask_that_fixes_the_quote_keeps_it(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    scripted_server.enqueue(
        Reply(arguments={"quotes": [INVENTED]}), Reply(arguments={"quotes": [MAYOR]})
    )
    result = quotes_only(scripted_server, sample_text)
    assert [q["content"]["text"] for q in result["quotes"]] == [MAYOR["content"]]
    assert result["dropped"] == []
    assert result["usage"]["reasks"] == 1


def test_invalid_json_is_reasked(scripted_server: ScriptedServer, sample_text: str) -> None:
    scripted_server.enqueue(Reply(content="{not json"), Reply(arguments={"quotes": [MAYOR]}))
    result = quotes_only(scripted_server, sample_text, supports=("json_object",))
    assert len(result["quotes"]) == 1
    assert len(scripted_server.requests) == 2


def test_invalid_json_every_time_fails_the_task_clearly(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    """A task with no usable answer is no empty success: the document fails, retryably (after
    the passage was tried once more in two halves)."""
    scripted_server.enqueue(*[Reply(content="{not json")] * 9)
    with pytest.raises(EndpointAnswerError, match="no usable answer for quotes after 3 tries"):
        quotes_only(scripted_server, sample_text, supports=("json_object",))
    assert len(scripted_server.requests) == 6  # the passage, then its first half


def test_one_garbled_answer_costs_the_passage_a_new_try_not_the_document(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    scripted_server.enqueue(*[Reply(content="{not json")] * 3)
    result = quotes_only(scripted_server, sample_text, supports=("json_object",))
    assert result["quotes"]  # the halves' answers
    assert len(scripted_server.requests) == 5  # 3 garbled, then one answer per half


def test_truncated_answer_splits_the_article(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    scripted_server.enqueue(Reply(finish_reason="length", no_tool_call=True))
    scripted_server.enqueue(Reply(arguments={"quotes": [MAYOR]}), Reply(arguments={"quotes": []}))
    result = quotes_only(scripted_server, sample_text)
    assert [q["content"]["text"] for q in result["quotes"]] == [MAYOR["content"]]
    assert len(scripted_server.requests) == 3
    # Each half was sent on its own, and together they cover the article.
    halves = [r.body["messages"][-1]["content"] for r in scripted_server.requests[1:]]  # type: ignore[index]
    assert "Mayor Elena Ruiz" in halves[0] and "Construction is due" in halves[1]


def test_truncated_answer_keeps_complete_items_when_it_cannot_split(
    scripted_server: ScriptedServer,
) -> None:
    text = (
        '"We cannot wait for the next flood to take the fish market," '
        "Mayor Elena Ruiz told reporters."
    )
    partial = json.dumps({"quotes": [MAYOR, MAYOR | {"content": "This wall buys"}]})[:-20]
    scripted_server.enqueue(Reply(content=partial, finish_reason="length"))
    result = quotes_only(scripted_server, text, supports=("json_object",))
    assert [q["content"]["text"] for q in result["quotes"]] == [MAYOR["content"]]
    assert any("cut off" in d["reason"] for d in result["dropped"])


def test_429_with_retry_after_is_retried(scripted_server: ScriptedServer, sample_text: str) -> None:
    scripted_server.enqueue(
        Reply(status=429, headers={"Retry-After": "0"}, error_message="slow down"),
        Reply(arguments={"quotes": [MAYOR]}),
    )
    result = quotes_only(scripted_server, sample_text)
    assert len(result["quotes"]) == 1
    assert result["usage"]["transport_retries"] == 1
    assert result["usage"]["requests"] == 2


def test_500_is_retried_then_reported(scripted_server: ScriptedServer, sample_text: str) -> None:
    scripted_server.enqueue(*[Reply(status=500)] * 3)
    with pytest.raises(EndpointUnavailableError, match="after 3 requests"):
        quotes_only(scripted_server, sample_text, transport_retries=2)
    assert len(scripted_server.requests) == 3


def test_timeout_is_retried(scripted_server: ScriptedServer, sample_text: str) -> None:
    scripted_server.enqueue(
        Reply(delay_s=1.5, arguments={"quotes": []}), Reply(arguments={"quotes": [MAYOR]})
    )
    result = quotes_only(scripted_server, sample_text, timeout_s=0.5)
    assert len(result["quotes"]) == 1
    assert result["usage"]["transport_retries"] == 1


def test_401_fails_fast_with_a_fix(scripted_server: ScriptedServer, sample_text: str) -> None:
    scripted_server.enqueue(Reply(status=401, error_message="bad key"))
    with pytest.raises(EndpointAuthError, match="LLMEXTRACT_API_KEY") as caught:
        quotes_only(scripted_server, sample_text)
    assert len(scripted_server.requests) == 1
    assert "sk-test-not-secret" not in str(caught.value)


def test_400_fails_fast_and_suggests_another_mode(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    scripted_server.enqueue(Reply(status=400, error_message="tools not supported"))
    with pytest.raises(EndpointRequestError, match="--mode"):
        quotes_only(scripted_server, sample_text)
    assert len(scripted_server.requests) == 1


def test_unreachable_endpoint_is_a_clear_error(sample_text: str) -> None:
    settings = settings_for("http://127.0.0.1:9/v1", transport_retries=1)
    with pytest.raises(EndpointUnavailableError, match="Is the server running"):
        extract(sample_text, tasks=["quotes"], settings=settings)


def test_repeated_quote_500_times_is_bounded(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    scripted_server.enqueue(*[Reply(arguments={"quotes": [MAYOR] * 500})] * 3)
    result = quotes_only(scripted_server, sample_text)
    assert len(result["quotes"]) == 1
    assert len(result["dropped"]) <= 10
    # Every re-ask carried the original two messages and one failed round only.
    assert all(len(r.body["messages"]) <= 4 for r in scripted_server.requests)  # type: ignore[index]


@pytest.mark.parametrize("supports", [("tools",), ("json_schema",), ("json_object",), ("md_json",)])
def test_default_answers_in_every_mode_are_grounded(
    scripted_server: ScriptedServer, sample_text: str, supports: tuple[str, ...]
) -> None:
    result = extract(sample_text, settings=settings_for(scripted_server.url, supports=supports))
    data = json.loads(result.model_dump_json())
    assert len(data["quotes"]) >= 2
    assert assert_grounded(sample_text, data) >= 4
    assert {"quotes", "events", "stances"} <= data["prompts"].keys()


def test_long_article_is_chunked_and_offsets_map_back(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    text = "\n\n".join([sample_text] * 4)
    result = extract(
        text, tasks=["quotes"], settings=settings_for(scripted_server.url, chunk_chars=1500)
    )
    data = json.loads(result.model_dump_json())
    assert len(scripted_server.requests) >= 3
    starts = [q["content"]["start"] for q in data["quotes"]]
    assert starts == sorted(starts)
    assert max(starts) > 3 * len(sample_text)  # quotes from the last copy, in article offsets
    assert len(starts) == len(set(starts))  # overlapping chunks did not duplicate records
    assert assert_grounded(text, data) >= 8


def test_two_stances_sharing_evidence_are_both_kept(scripted_server: ScriptedServer) -> None:
    text = "Mayor Elena Ruiz and Councillor Tom Baker both backed the harbour wall on Tuesday."
    evidence = "both backed the harbour wall"
    stances = [
        {"holder": "Mayor Elena Ruiz", "target": "the harbour wall", "polarity": "support",
         "evidence": evidence},
        {"holder": "Councillor Tom Baker", "target": "the harbour wall", "polarity": "support",
         "evidence": evidence},
    ]  # fmt: skip
    scripted_server.enqueue(Reply(arguments={"stances": stances}))
    result = extract(text, tasks=["stances"], settings=settings_for(scripted_server.url))
    assert [s.holder.text for s in result.stances] == ["Mayor Elena Ruiz", "Councillor Tom Baker"]
    assert result.dropped == []


def test_choose_prompts_send_candidates_and_honour_decisions(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    settings = settings_for(scripted_server.url, prompt_style="choose")
    # No script: the server accepts every candidate with its first speaker.
    everything = extract(sample_text, tasks=["quotes"], prompts="v2", settings=settings)
    assert everything.prompts["quotes"].startswith("quotes.v2@")
    body = scripted_server.requests[0].body
    assert body is not None
    decisions = body["tools"][0]["function"]["parameters"]["properties"]["decisions"]
    offered = decisions["minItems"]
    assert offered == decisions["maxItems"]
    # Candidates nested in another's passage merge into one record.
    assert offered >= len(everything.quotes) >= 3
    assert "We cannot wait for the next flood" in body["messages"][-1]["content"]
    assert assert_grounded(sample_text, json.loads(everything.model_dump_json())) >= 3
    # Scripted: the model turns the first candidate down and keeps the rest.
    scripted_server.enqueue(
        Reply(arguments={"decisions": [{"quote": False}] + [{"quote": True}] * (offered - 1)})
    )
    chosen = extract(sample_text, tasks=["quotes"], prompts="v2", settings=settings)
    assert [q.content.text for q in chosen.quotes] == [
        q.content.text for q in everything.quotes[1:]
    ]


def test_the_default_choice_prompts_of_all_tasks_start_with_the_same_article(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    """So a server that keeps the last prompt's state reads the article once per document;
    the quote prompt shows each candidate's own sentences instead, and no article."""
    settings = settings_for(scripted_server.url, prompt_style="choose", concurrency=1)
    result = extract(sample_text, settings=settings)
    assert len(result.prompts) == 3
    systems = {r.body["messages"][0]["content"] for r in scripted_server.requests if r.body}
    with_article = {system for system in systems if sample_text in system}
    assert len(scripted_server.requests) >= 3 and len(with_article) == 1
    assert len(systems) == 2  # and the quote prompt's, the same for every quote request


def test_choose_prompts_skip_the_model_when_there_is_nothing_to_choose(
    scripted_server: ScriptedServer,
) -> None:
    settings = settings_for(scripted_server.url, prompt_style="choose")
    result = extract("the weather was fine and calm all day long.", settings=settings)
    assert (result.quotes, result.events, result.stances) == ([], [], [])
    assert scripted_server.requests == []


def test_more_candidates_than_one_request_holds_are_all_decided(
    scripted_server: ScriptedServer,
) -> None:
    text = "\n\n".join(
        f'"The harbour plan number {i} is ready," said Councillor Ann Reyes{i}.' for i in range(40)
    )
    settings = settings_for(scripted_server.url, prompt_style="choose", chunk_chars=12000)
    result = extract(text, tasks=["quotes"], settings=settings)
    offered = [
        r.body["tools"][0]["function"]["parameters"]["properties"]["decisions"]["maxItems"]
        for r in scripted_server.requests
        if r.body is not None
    ]
    assert offered == [16, 16, 8]  # 40 candidates in groups of at most 16
    assert len(result.quotes) == 40  # none left out
    assert assert_grounded(text, json.loads(result.model_dump_json())) >= 40


@pytest.mark.parametrize("supports", [("tools",), ("json_object",)])
def test_the_article_reaches_the_model_verbatim_never_as_a_template(
    scripted_server: ScriptedServer, supports: tuple[str, ...]
) -> None:
    """The article travels beside the grounding context, which must not turn the messages
    into templates: Jinja syntax and indentation in the news arrive as written."""
    text = (
        '    "We cannot wait for the next flood to take the fish market," Mayor Elena Ruiz '
        "told reporters.\n    Her {{ 7 * 7 }} plan {% if x %}and {# this #} are{% endif %} "
        "text, {{ undefined.name }} too."
    )
    scripted_server.enqueue(Reply(arguments={"quotes": [MAYOR]}))
    result = quotes_only(scripted_server, text, supports=supports)
    assert [q["content"]["text"] for q in result["quotes"]] == [MAYOR["content"]]
    body = scripted_server.requests[0].body
    assert body is not None and text.strip() in body["messages"][-1]["content"]


def cached_settings(server: ScriptedServer, tmp_path: object, **overrides: object) -> object:
    return replace(settings_for(server.url, **overrides), cache_dir=tmp_path)


def test_a_salvaged_answer_is_cached_and_replayed(
    scripted_server: ScriptedServer, sample_text: str, tmp_path: object
) -> None:
    scripted_server.enqueue(*[Reply(arguments={"quotes": [MAYOR, INVENTED]})] * 3)
    settings = cached_settings(scripted_server, tmp_path)
    first = extract(sample_text, tasks=["quotes"], settings=settings)  # type: ignore[arg-type]
    again = extract(sample_text, tasks=["quotes"], settings=settings)  # type: ignore[arg-type]
    assert len(scripted_server.requests) == 3
    assert (again.usage.requests, again.usage.cached) == (0, 3)
    assert again.quotes == first.quotes and again.dropped == first.dropped
    assert [q.content.text for q in again.quotes] == [MAYOR["content"]]


def test_an_unusable_answer_is_not_cached_so_a_rerun_asks_again(
    scripted_server: ScriptedServer, sample_text: str, tmp_path: object
) -> None:
    scripted_server.enqueue(*[Reply(content="{not json")] * 6)  # the passage, its first half
    settings = cached_settings(scripted_server, tmp_path, supports=("json_object",))
    with pytest.raises(EndpointAnswerError, match="no usable answer for quotes after 3 tries"):
        extract(sample_text, tasks=["quotes"], settings=settings)  # type: ignore[arg-type]
    again = extract(sample_text, tasks=["quotes"], settings=settings)  # type: ignore[arg-type]
    assert (again.usage.requests, again.usage.cached) == (1, 0) and again.quotes


def test_a_cut_off_answer_and_its_halves_are_replayed_from_the_cache(
    scripted_server: ScriptedServer, sample_text: str, tmp_path: object
) -> None:
    cut = json.dumps({"quotes": [MAYOR, MAYOR | {"content": "This wall buys"}]})[:-20]
    scripted_server.enqueue(
        Reply(content=cut, finish_reason="length"),
        Reply(arguments={"quotes": [MAYOR]}),
        Reply(arguments={"quotes": []}),
    )
    settings = cached_settings(scripted_server, tmp_path, supports=("json_object",))
    first = extract(sample_text, tasks=["quotes"], settings=settings)  # type: ignore[arg-type]
    again = extract(sample_text, tasks=["quotes"], settings=settings)  # type: ignore[arg-type]
    assert len(scripted_server.requests) == 3
    assert (again.usage.requests, again.usage.cached) == (0, 3)
    assert again.quotes == first.quotes and [q.content.text for q in again.quotes] == [
        MAYOR["content"]
    ]
