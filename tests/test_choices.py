"""Choice schemas turn per-candidate decisions into records grounded by construction."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from llmextract.candidates import EventCandidate, Mention, QuoteCandidate, StanceCandidate
from llmextract.choices import base_choice_schema, choice_schema
from llmextract.drafts import grounding_context, salvage
from llmextract.errors import PromptError
from llmextract.schemas import EventType

TEXT = 'Mayor Elena Ruiz backed the wall. "We cannot wait," she said. It is called "Sea Guard".'
RUIZ = Mention(6, 16, "Elena Ruiz", "name", "Elena Ruiz")
SHE = Mention(52, 55, "she", "pronoun", "Elena Ruiz")


def at(text: str, needle: str) -> tuple[int, int]:
    start = TEXT.index(needle)
    return start, start + len(needle)


QUOTES = (
    QuoteCandidate(
        *at(TEXT, "We cannot wait,"), "We cannot wait,", "direct", at(TEXT, "said"), (SHE, RUIZ)
    ),
    QuoteCandidate(*at(TEXT, "Sea Guard"), "Sea Guard", "direct", None, ()),
)  # fmt: skip


def decide(
    task: str, candidates: tuple[object, ...], decisions: list[dict[str, object]], offset: int = 0
):  # type: ignore[no-untyped-def]
    schema = choice_schema(base_choice_schema(task), len(candidates))  # type: ignore[arg-type]
    context = grounding_context(TEXT, offset=offset, candidates=candidates)
    return schema.model_validate({"decisions": decisions}, context=context)


def test_quote_decisions_become_grounded_records() -> None:
    result = decide(
        "quotes",
        QUOTES,
        [{"quote": True, "speaker": 2}, {"quote": False, "speaker": 1}],
        offset=100,
    )
    [quote] = result.records
    assert quote.content.text == "We cannot wait," and quote.content.start == 100 + TEXT.index(
        "We cannot"
    )
    assert quote.speaker is not None and quote.speaker.text == "Elena Ruiz"
    assert quote.speaker_name == "Elena Ruiz"
    assert quote.cue is not None and quote.cue.text == "said"
    assert result.dropped == []  # a candidate the model turned down is a decision, not a loss


def test_pronoun_speaker_keeps_the_span_as_written_and_the_resolved_name() -> None:
    [quote] = decide("quotes", QUOTES[:1], [{"quote": True, "speaker": 1}]).records
    assert (quote.speaker.text, quote.speaker_name) == ("she", "Elena Ruiz")  # type: ignore[union-attr]


def test_speaker_option_that_was_not_offered_falls_back_to_the_best() -> None:
    result = decide(
        "quotes", QUOTES, [{"quote": True, "speaker": 3}, {"quote": True, "speaker": 2}]
    )
    first, second = result.records
    assert first.speaker.text == "she"
    assert second.speaker is None
    [(record, correction)] = result.corrected  # kept with the best speaker: not dropped
    assert record is first and result.dropped == []
    assert correction.reason == "speaker option 3 was not offered; used option 1 (she)"


def test_one_decision_per_candidate_is_enforced() -> None:
    with pytest.raises(ValidationError, match="at least 2"):
        decide("quotes", QUOTES, [{"quote": True, "speaker": 1}])
    schema = choice_schema(base_choice_schema("quotes"), 2).model_json_schema()
    assert schema["properties"]["decisions"]["minItems"] == 2
    assert schema["properties"]["decisions"]["maxItems"] == 2


def test_event_and_stance_decisions() -> None:
    event = EventCandidate(
        *at(TEXT, "backed"),
        "backed",
        at(TEXT, TEXT[:33]),
        (EventType.SUPPORT,),
        RUIZ,
        None,
        None,
        None,
    )
    stance = StanceCandidate(0, 33, TEXT[:33], RUIZ, "the wall", "support")
    [e] = decide("events", (event,), [{"type": 1}]).records
    assert (
        e.type is EventType.SUPPORT and e.trigger.text == "backed" and e.actor.text == "Elena Ruiz"
    )  # type: ignore[union-attr]
    assert decide("events", (event,), [{"type": 0}]).records == []
    fallback = decide("events", (event,), [{"type": 3}])
    assert fallback.records[0].type is EventType.SUPPORT
    [(_, correction)] = fallback.corrected
    assert correction.reason == "type option 3 was not offered; used option 1 (SUPPORT)"
    assert (correction.start, correction.end, correction.text) == (*at(TEXT, "backed"), "backed")
    [s] = decide("stances", (stance,), [{"polarity": "support"}]).records
    assert (s.holder.text, s.target, s.polarity, s.evidence.text) == (
        "Elena Ruiz",
        "the wall",
        "support",
        TEXT[:33],
    )
    assert decide("stances", (stance,), [{"polarity": "none"}]).records == []


def test_salvage_maps_the_decisions_it_can_parse() -> None:
    schema = choice_schema(base_choice_schema("quotes"), 2)
    raw = json.dumps({"decisions": [{"quote": True, "speaker": 1}]})
    kept = salvage(schema, raw, TEXT, why="too few decisions", candidates=QUOTES)
    assert [q.content.text for q in kept.records] == ["We cannot wait,"]


def test_speaker_decisions_one_number_says_who_or_nobody() -> None:
    schema = choice_schema(base_choice_schema("quotes", "speaker"), len(QUOTES))
    assert schema.__name__ == "QuoteSpeakerChoices"
    context = grounding_context(TEXT, candidates=QUOTES)
    result = schema.model_validate({"decisions": [{"speaker": 2}, {"speaker": 0}]}, context=context)
    [quote] = result.records  # "Sea Guard" (0: nobody said it) is turned down
    assert quote.content.text == "We cannot wait,"
    assert quote.speaker is not None and quote.speaker.text == "Elena Ruiz"  # the 2nd option
    with pytest.raises(ValidationError):  # 4 is not an option
        schema.model_validate({"decisions": [{"speaker": 4}, {"speaker": 0}]}, context=context)


def test_unknown_decision_schemas_are_a_clear_error() -> None:
    with pytest.raises(PromptError, match="no 'vibes' decisions for quotes"):
        base_choice_schema("quotes", "vibes")


def test_polarity_decisions_classify_every_candidate() -> None:
    phrase = StanceCandidate(0, 33, TEXT[:33], None, "the wall", None)  # the article's own
    schema = choice_schema(base_choice_schema("stances", "polarity"), 1)
    context = grounding_context(TEXT, candidates=(phrase,))
    [stance] = schema.model_validate(
        {"decisions": [{"polarity": "oppose"}]}, context=context
    ).records
    with pytest.raises(ValidationError):  # "none" is not an answer here
        schema.model_validate({"decisions": [{"polarity": "none"}]}, context=context)
    assert (stance.holder, stance.target, stance.polarity) == (None, "the wall", "oppose")
    assert stance.evidence.text == TEXT[:33]
