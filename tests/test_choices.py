"""Choice schemas turn per-candidate decisions into records grounded by construction."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from llmextract.candidates import EventCandidate, Mention, QuoteCandidate, StanceCandidate
from llmextract.choices import (
    CONFIDENCE_MARGINS,
    TOKEN_LOGPROBS,
    base_choice_schema,
    choice_schema,
    confident_choice,
    find_candidates,
    option_scores,
)
from llmextract.drafts import grounding_context, salvage
from llmextract.errors import PromptError
from llmextract.prompts import load_prompt
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


def scored(*digits: dict[str, float]) -> list[tuple[str, dict[str, float]]]:
    """Answer tokens as the embedded server returns them: one speaker digit per decision,
    each with its alternatives' log-probabilities (the first listed is the one written)."""
    tokens: list[tuple[str, dict[str, float]]] = [('{"decisions": [', {})]
    for i, alternatives in enumerate(digits):
        tokens += [('{"speaker": ', {}), (next(iter(alternatives)), alternatives)]
        tokens.append(("}, " if i < len(digits) - 1 else "}]}", {}))
    return tokens


def decide_scored(tokens: list[tuple[str, dict[str, float]]], decisions: list[int]):  # type: ignore[no-untyped-def]
    schema = choice_schema(base_choice_schema("quotes", "speaker"), len(QUOTES))
    context = {**grounding_context(TEXT, candidates=QUOTES), TOKEN_LOGPROBS: tokens}
    answer = {"decisions": [{"speaker": d} for d in decisions]}
    return schema.model_validate(answer, context=context)


def test_the_model_overrides_the_default_only_when_confident(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(CONFIDENCE_MARGINS, "quotes", (0.5, 0.5))
    # First candidate: option 2 at p=0.9 over option 1 at p=0.1 (0 not among the top): taken.
    # Second: the model wrote 0 but finds it only a little likelier than 1: the default stays.
    tokens = scored({"2": -0.1, "1": -2.3}, {"0": -0.6, "1": -0.8})
    first, second = decide_scored(tokens, [2, 0]).records
    assert first.speaker is not None and first.speaker.text == "Elena Ruiz"  # option 2
    assert second.content.text == "Sea Guard" and second.speaker is None  # kept, as the rules
    # A confident 0 turns a candidate down.
    tokens = scored({"1": -0.1}, {" 0": -0.01, " 1": -5.0})
    [only] = decide_scored(tokens, [1, 0]).records
    assert only.content.text == "We cannot wait,"
    assert only.speaker is not None and only.speaker.text == "she"  # option 1, the default


def test_unreadable_probabilities_keep_the_codes_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CONFIDENCE_MARGINS, "quotes", (0.0, 0.0))
    # One digit for two decisions: which is which cannot be told, so neither is believed.
    records = decide_scored(scored({"0": -0.01, "1": -6.0}), [0, 0]).records
    assert [q.content.text for q in records] == ["We cannot wait,", "Sea Guard"]
    assert records[0].speaker is not None and records[0].speaker.text == "she"


def test_option_scores_reads_each_decisions_digit_and_its_alternatives() -> None:
    tokens = scored({"2": -0.2, " 1": -1.5, "1": -1.9, "x": -3.0}, {"0": -0.4})
    assert option_scores(tokens, "speaker") == [{2: -0.2, 1: -1.5}, {0: -0.4}]
    assert confident_choice({2: -0.2, 1: -1.5, 3: -9.0}, range(3), (0.0, 0.5)) == 2
    assert confident_choice({2: -0.2, 1: -1.5}, range(2), (0.0, 0.0)) == 1  # 2 not offered
    assert confident_choice({}, range(4), (0.0, 0.0)) == 1


def test_the_frame_prompt_shows_each_candidate_in_its_sentence_not_the_article() -> None:
    filler = "The harbour has a long history of storms and repairs. " * 40
    text = filler + 'Elena Ruiz said the sea wall would hold. "We cannot wait," Tom Baker told us.'
    prompt = load_prompt("quotes", "v6")
    [request] = prompt.render_requests(text, find_candidates("quotes", text))
    shown = "\n".join(m["content"] for m in request.messages)
    assert filler.strip() not in shown  # the article is not sent
    assert "in: Elena Ruiz said [...]" in shown  # the candidate's own sentence, around it
    assert '[...] ," Tom Baker told us.' in shown and "1) Tom Baker" in shown
    assert len(shown) < len(
        load_prompt("quotes", "v4")
        .render_requests(text, find_candidates("quotes", text))[0]
        .messages[0]["content"]
    )
