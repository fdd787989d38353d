"""Draft schemas ground every span, fail validation when strict, and salvage when not."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from llmextract.drafts import (
    EventList,
    QuoteList,
    StanceList,
    grounding_context,
    salvage,
)

TEXT = (
    "Café owner Zoë Martín said the plan was “a disaster for the street”. "
    "The city council rejected her complaint on Monday in Lyon."
)


def quote(**fields: object) -> dict[str, object]:
    return {
        "content": "a disaster for the street",
        "speaker": "Zoë Martín",
        "speaker_name": "Zoë Martín",
        "cue": "said",
        "kind": "direct",
    } | fields


def test_without_a_grounding_context_drafts_are_plain_data() -> None:
    drafts = QuoteList.model_validate({"quotes": [quote(content="anything at all")]})
    assert drafts.records == [] and drafts.dropped == []


def test_spans_are_grounded_with_offsets_into_the_whole_article() -> None:
    offset = 1000
    drafts = QuoteList.model_validate(
        {"quotes": [quote()]}, context=grounding_context(TEXT, offset=offset)
    )
    [record] = drafts.records
    assert record.content.start - offset == TEXT.index("a disaster")
    assert TEXT[record.content.start - offset : record.content.end - offset] == record.content.text
    assert record.speaker.text == "Zoë Martín"
    assert record.speaker_name == "Zoë Martín"


def test_curly_quotes_and_case_align_as_normalised() -> None:
    drafts = QuoteList.model_validate(
        {"quotes": [quote(content='"A disaster for the street"')]},
        context=grounding_context(TEXT),
    )
    [record] = drafts.records
    assert record.content.alignment == "normalised"
    assert TEXT[record.content.start : record.content.end] == record.content.text


def test_invented_span_fails_strict_validation_with_a_fix() -> None:
    with pytest.raises(ValidationError) as caught:
        QuoteList.model_validate(
            {"quotes": [quote(), quote(content="we will sue the mayor tomorrow")]},
            context=grounding_context(TEXT),
        )
    message = str(caught.value)
    assert "quotes[1].content" in message
    assert "Copy the words exactly" in message


def test_lenient_grounding_drops_the_item_and_keeps_the_rest() -> None:
    drafts = QuoteList.model_validate(
        {"quotes": [quote(), quote(content="we will sue the mayor tomorrow")]},
        context=grounding_context(TEXT, strict=False),
    )
    assert len(drafts.records) == 1
    [dropped] = drafts.dropped
    assert "not in the article" in dropped.reason
    assert dropped.item is not None and dropped.item["content"] == "we will sue the mayor tomorrow"


def test_unknown_speaker_name_is_removed_not_invented() -> None:
    drafts = QuoteList.model_validate(
        {"quotes": [quote(speaker_name="Marie Curie")]}, context=grounding_context(TEXT)
    )
    assert drafts.records[0].speaker_name is None
    [(record, correction)] = drafts.corrected  # the quote is kept: corrected, not dropped
    assert record is drafts.records[0] and drafts.dropped == []
    assert correction.field == "speaker_name" and "Marie Curie" in correction.reason


def test_duplicates_are_dropped_with_reason() -> None:
    drafts = QuoteList.model_validate(
        {"quotes": [quote(), quote()]}, context=grounding_context(TEXT)
    )
    assert len(drafts.records) == 1
    start = TEXT.index("a disaster for the street")
    assert f"repeats the quote at {start}-" in drafts.dropped[0].reason


def test_no_list_or_string_is_capped_in_the_schema() -> None:
    # An answer is bounded by the request's max_tokens, not by the schema.
    for model in (QuoteList, EventList, StanceList):
        schema = model.model_json_schema()
        assert "maxItems" not in schema["properties"][model.list_field]
        item = schema["$defs"][model.item_model.__name__]["properties"]
        assert not any("maxLength" in json.dumps(value) for value in item.values())


def test_events_and_stances_ground_their_spans() -> None:
    event = {
        "type": "REJECT",
        "trigger": "rejected",
        "actor": "The city council",
        "recipient": None,
        "location": "Lyon",
        "time": "on Monday",
        "summary": "x",
    }
    stance = {
        "holder": "Zoë Martín",
        "holder_name": None,
        "target": "the plan",
        "polarity": "oppose",
        "evidence": "the plan was “a disaster for the street”",
    }
    context = grounding_context(TEXT)
    [e] = EventList.model_validate({"events": [event]}, context=context).records
    [s] = StanceList.model_validate({"stances": [stance]}, context=context).records
    assert (e.trigger.text, e.actor.text, e.location.text, e.time.text) == (
        "rejected",
        "The city council",
        "Lyon",
        "on Monday",
    )
    assert s.evidence.alignment == "exact" and s.polarity == "oppose"
    with pytest.raises(ValidationError):
        EventList.model_validate({"events": [event | {"type": "INVADE"}]}, context=context)


def test_salvage_keeps_valid_grounded_items_from_a_broken_answer() -> None:
    raw = json.dumps({"quotes": [quote(), {"content": 5}, quote(content="made up words here")]})
    kept = salvage(QuoteList, raw, TEXT, why="re-asks spent")
    assert [r.content.text for r in kept.records] == ["a disaster for the street"]
    reasons = " | ".join(d.reason for d in kept.dropped)
    assert "item 2 of the answer is invalid" in reasons
    assert "item 3 of the answer: content 'made up words here' is not in the article" in reasons


def test_salvage_of_cut_off_json_drops_the_incomplete_last_item() -> None:
    raw = json.dumps({"quotes": [quote(), quote(content="The city council")]})[:-25]
    kept = salvage(QuoteList, raw, TEXT, why="token limit", cut_off=True)
    assert len(kept.records) == 1
    assert "cut off" in kept.dropped[-1].reason


def test_salvage_keeps_every_grounded_item() -> None:
    words = list(dict.fromkeys(w.strip('.,\u201c\u201d"') for w in TEXT.split()))[:12]
    raw = json.dumps({"quotes": [quote(content=w) for w in words]})
    kept = salvage(QuoteList, raw, TEXT, why="many")
    assert len(kept.records) == len(words) == 12
    assert not any("limit" in d.reason for d in kept.dropped)


@pytest.mark.parametrize("raw", [None, "", "not json at all", "[1, 2]", '{"other": []}'])
def test_salvage_of_garbage_records_why(raw: str | None) -> None:
    kept = salvage(QuoteList, raw, TEXT, why="broken")
    assert kept.records == []
    assert len(kept.dropped) == 1 and "broken" in kept.dropped[0].reason
