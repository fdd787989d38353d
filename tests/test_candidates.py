from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmextract.candidates import (
    EventCandidate,
    Mention,
    QuoteCandidate,
    StanceCandidate,
    find_events,
    find_mentions,
    find_quotes,
    find_stances,
)
from llmextract.candidates.lexicons import DERIVED_CUES
from llmextract.schemas import EventType

ARTICLE = (
    "Foreign Minister Sergey Lavrov met Wang Yi in Moscow on Tuesday.\n\n"
    "\u201cWe will stand together,\u201d Lavrov said. \u201cNobody can divide us.\u201d\n\n"
    "Wang told reporters that China backed Russia's position. He added that "
    "talks would continue.\n\n"
    "According to Mayor Elena Ruiz, the harbour will reopen in March.\n\n"
    "The plan is dead, Ruiz said.\n\n"
    'Dr. Tom Baker said the council had "no choice at all" in the matter.\n\n'
    'She said: "The vote was fair and open."'
)


class _Spanned(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...


def span(text: str, part: str, nth: int = 0) -> tuple[int, int]:
    """``(start, end)`` of the ``nth`` occurrence of ``part`` in ``text``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(part, start + 1)
    return start, start + len(part)


def texts(records: Sequence[_Spanned]) -> list[str]:
    return [r.text for r in records]


def check_spans(text: str, records: Sequence[_Spanned]) -> None:
    keys = [(r.start, r.end) for r in records]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    for r in records:
        assert text[r.start : r.end] == r.text


def check_mention(text: str, m: Mention) -> None:
    assert text[m.start : m.end] == m.text


# --------------------------------------------------------------------------- mentions


def test_mentions_strip_titles_and_resolve_names_and_pronouns() -> None:
    mentions = find_mentions(ARTICLE)
    got = [(m.text, m.kind, m.resolved) for m in mentions]
    assert got == [
        ("Sergey Lavrov", "name", "Sergey Lavrov"),
        ("Wang Yi", "name", "Wang Yi"),
        ("Moscow", "name", "Moscow"),
        ("Lavrov", "name", "Sergey Lavrov"),
        ("Wang", "name", "Wang Yi"),
        ("China", "name", "China"),
        ("Russia", "name", "Russia"),  # possessive 's is not part of the name
        ("He", "pronoun", "Wang Yi"),
        ("Elena Ruiz", "name", "Elena Ruiz"),
        ("Ruiz", "name", "Elena Ruiz"),
        ("Tom Baker", "name", "Tom Baker"),
        ("She", "pronoun", "Tom Baker"),  # nearest preceding person-like name
    ]
    check_spans(ARTICLE, mentions)


def test_mentions_titles_connectors_and_initials() -> None:
    text = (
        "Chinese Foreign Minister Qin Gang met US Secretary of State Antony Blinken. "
        "Kremlin spokesman Dmitry Peskov and Osama bin Laden were named by J. Smith."
    )
    names = [m.text for m in find_mentions(text) if m.kind == "name"]
    expected = ["Qin Gang", "Antony Blinken", "Kremlin", "Dmitry Peskov"]
    assert names == [*expected, "Osama bin Laden", "J. Smith"]


def test_sentence_initial_word_needs_support() -> None:
    text = (
        "Local residents protested. Construction starts soon. Nair spoke. "
        "Priya Nair left. Patrushev said the talks failed. Moscow agreed."
    )
    names = [m.text for m in find_mentions(text) if m.kind == "name"]
    # "Local"/"Construction" are ordinary sentence-initial words; "Nair" is seen
    # mid-run elsewhere, "Patrushev" is followed by a cue, "Moscow" is a known place.
    assert names == ["Nair", "Priya Nair", "Patrushev", "Moscow"]


def test_plural_pronoun_resolves_to_nearest_name_and_none_without_one() -> None:
    text = "They left early. The Security Council met and they voted."
    mentions = find_mentions(text)
    assert [(m.text, m.resolved) for m in mentions] == [
        ("They", None),
        ("Security Council", "Security Council"),
        ("they", "Security Council"),
    ]


# --------------------------------------------------------------------------- quotes


def test_quote_candidates_on_article() -> None:
    quotes = find_quotes(ARTICLE)
    got = [
        (q.text, q.kind, ARTICLE[q.cue[0] : q.cue[1]] if q.cue else None, q.speakers[0].resolved)
        for q in quotes
    ]
    assert got == [
        # One quotation in two parts framing its cue is one candidate, frame included.
        (
            "We will stand together,” Lavrov said. “Nobody can divide us.",
            "direct",
            "said",
            "Sergey Lavrov",
        ),
        # A "that" clause keeps its "that", as PolNeAR annotates it.
        ("that China backed Russia's position", "indirect", "told", "Wang Yi"),
        ("that talks would continue", "indirect", "added", "Wang Yi"),
        ("the harbour will reopen in March", "indirect", "According to", "Elena Ruiz"),
        ("The plan is dead", "indirect", "said", "Elena Ruiz"),
        ('the council had "no choice at all" in the matter', "mixed", "said", "Tom Baker"),
        ("The vote was fair and open.", "direct", "said", "Tom Baker"),
    ]
    check_spans(ARTICLE, quotes)
    assert quotes[0].cue == span(ARTICLE, "said")
    assert quotes[0].speakers[0] == Mention(
        *span(ARTICLE, "Lavrov", 1), "Lavrov", "name", "Sergey Lavrov"
    )
    # Pronoun speakers keep their own span and carry the resolution.
    assert quotes[2].speakers[0].text == "He"
    assert quotes[6].speakers[0].kind == "pronoun"
    # The quoted fragment of the mixed quote is not repeated as a direct quote.
    assert "no choice at all" not in texts(quotes)


def test_direct_quote_cue_before_and_inverted_speaker() -> None:
    text = (
        'The mayor spoke first. "This wall buys us thirty years," said Mayor Elena Ruiz.\n\n'
        'Ruiz later wrote: "We are ready for winter."'
    )
    quotes = find_quotes(text)
    assert [(q.text, q.kind, q.speakers[0].text) for q in quotes] == [
        ("This wall buys us thirty years", "direct", "Elena Ruiz"),
        ("We are ready for winter.", "direct", "Ruiz"),
    ]
    assert quotes[1].cue == span(text, "wrote")
    assert quotes[1].speakers[0].resolved == "Elena Ruiz"


def test_scare_quotes_are_dropped_and_quotes_span_single_line_breaks() -> None:
    text = 'The so-called "reform" failed, Baker said. "It was a\nmistake," he added.'
    quotes = find_quotes(text)
    direct = [q for q in quotes if q.kind == "direct"]
    assert [q.text for q in direct] == ["It was a\nmistake"]
    assert direct[0].cue == span(text, "added")
    assert direct[0].speakers[0].text == "he"
    assert direct[0].speakers[0].resolved == "Baker"
    indirect = [q for q in quotes if q.kind != "direct"]
    assert [q.text for q in indirect] == ['The so-called "reform" failed']


def test_quotes_do_not_cross_paragraphs() -> None:
    text = 'Ruiz said "the budget is\n\nclosed" and left.'
    assert all("\n\n" not in q.text for q in find_quotes(text))


def test_according_to_after_clause_and_told_that_with_appositive() -> None:
    text = (
        "Nikolay Patrushev, the secretary of Russia's Security Council, has told "
        "Wang Yi that the two countries must stick together. "
        "Moscow backed the plan, according to the RIA Novosti agency."
    )
    quotes = find_quotes(text)
    assert [(q.text, q.speakers[0].text) for q in quotes] == [
        ("that the two countries must stick together", "Nikolay Patrushev"),
        # A source that names no person is offered as written.
        ("Moscow backed the plan", "the RIA Novosti agency"),
    ]
    assert [q.cue for q in quotes] == [span(text, "told"), span(text, "according to")]
    assert all(q.kind == "indirect" for q in quotes)


def test_coordinated_cues_split_content_and_share_speaker() -> None:
    text = 'Qin on Monday urged an end to the war and called for "fresh talks" with Kyiv.'
    quotes = find_quotes(text)
    assert [(q.text, q.kind, q.speakers[0].text) for q in quotes] == [
        ("an end to the war", "indirect", "Qin"),
        ('"fresh talks" with Kyiv', "mixed", "Qin"),
    ]


def test_speakers_are_distinct_and_at_most_three() -> None:
    text = (
        "Ruiz met Baker, Nair, Ode and Smith in Porthaven. "
        "Ode, Smith, Nair and Baker said the sea wall is too expensive."
    )
    for q in find_quotes(text):
        keys = [s.resolved for s in q.speakers]
        assert len(keys) == len(set(keys)) <= 3
        for s in q.speakers:
            check_mention(text, s)


def test_quotes_are_all_kept_unless_a_limit_keeps_the_first_ones() -> None:
    text = " ".join(f'"Number {i} is here," Wang said.' for i in range(30))
    quotes = find_quotes(text)
    assert [q.text for q in quotes] == [f"Number {i} is here" for i in range(30)]
    assert find_quotes(text, limit=3) == quotes[:3]


# --------------------------------------------------------------------------- events


def test_event_candidates_with_arguments() -> None:
    events = find_events(ARTICLE)
    met = events[0]
    assert met.text == "met"
    assert met.types == (EventType.CONSULT,)
    assert met.sentence == span(
        ARTICLE, "Foreign Minister Sergey Lavrov met Wang Yi in Moscow on Tuesday."
    )
    assert met.actor is not None and met.actor.text == "Sergey Lavrov"
    assert met.recipient is not None and met.recipient.text == "Wang Yi"
    assert met.location == span(ARTICLE, "Moscow")
    assert met.time == span(ARTICLE, "Tuesday")
    assert texts(events) == ["met", "told", "backed", "talks"]  # "told reporters": a broadcast
    check_spans(ARTICLE, events)


def test_event_types_times_and_conditional_triggers() -> None:
    text = (
        "Russia warned Ukraine on March 3, 2022. "
        "Protesters rallied at the Town Hall last month. "
        "The US is providing Ukraine with weapons. "
        "Officials will provide an update. "
        "The army began to pull out of Kherson."
    )
    events = find_events(text)
    got = [(e.text, e.types) for e in events]
    assert got == [
        ("warned", (EventType.THREATEN, EventType.REQUEST)),
        ("Protesters", (EventType.PROTEST,)),
        ("rallied", (EventType.PROTEST,)),
        ("providing", (EventType.AID,)),
        ("pull out", (EventType.RETREAT,)),
    ]
    warned, _, rallied, providing, _ = events
    assert warned.time == span(text, "March 3, 2022")
    assert warned.actor is not None and warned.actor.text == "Russia"
    assert warned.recipient is not None and warned.recipient.text == "Ukraine"
    assert rallied.location == span(text, "Town Hall")
    assert rallied.time == span(text, "last month")
    assert providing.recipient is not None and providing.recipient.text == "Ukraine"


def test_event_pronoun_actor_and_limit() -> None:
    text = "Tom Baker spoke. He accused the mayor of lying."
    (event,) = find_events(text)
    assert event.types == (EventType.ACCUSE,)
    assert event.actor is not None and event.actor.text == "He"
    assert event.actor.resolved == "Tom Baker"
    many = " ".join(["Troops attacked the town."] * 20)
    events = find_events(many)
    assert texts(events) == ["Troops", "attacked"] * 20
    assert find_events(many, limit=5) == events[:5]


def test_event_lexicon_covers_every_type() -> None:
    words = (
        "agreed met backed conceded cooperated aid withdrew urged accused rejected "
        "threatened protested sanctioned deployed arrested attacked"
    )
    types = {t for e in find_events(f"They {words}.") for t in e.types}
    assert types == set(EventType)


# --------------------------------------------------------------------------- stances


def test_stance_candidates() -> None:
    text = (
        "Councillor Tom Baker, who voted against the plan, said little. "
        "He praised the new harbour master, who started in May. "
        "Qin Gang on Tuesday expressed \u201cdeep concern\u201d about escalation in the war. "
        "The regional minister, Priya Nair, welcomed the vote. "
        "The council discussed parking. "
        "Nobody backed it."
    )
    stances = find_stances(text)
    got = [(s.holder.text, s.holder.resolved, s.target, s.polarity_hint) for s in stances]
    assert got == [
        ("Tom Baker", "Tom Baker", "the plan", "oppose"),
        ("He", "Tom Baker", "the new harbour master", "support"),
        ("Qin Gang", "Qin Gang", "escalation in the war", "oppose"),
        ("Priya Nair", "Priya Nair", "the vote", "support"),
    ]
    assert stances[0].text == "Councillor Tom Baker, who voted against the plan, said little."
    check_spans(text, stances)


def test_stance_target_is_at_most_six_words_and_one_per_sentence() -> None:
    text = (
        "Beijing has slammed Washington for escalating the conflict by arming Kyiv "
        "and rejected talks."
    )
    (stance,) = find_stances(text)
    assert stance.holder.text == "Beijing"
    assert stance.target == "Washington for escalating the conflict by"
    assert stance.polarity_hint == "oppose"


# --------------------------------------------------------------------------- invariants

_ALPHABET = st.sampled_from(
    [
        *"abcXYZ .,;:!?\n\"'\u201c\u201d\u2019-",
        " said ",
        " told ",
        " that ",
        "According to ",
        ", according to ",
        "Wang ",
        "Mr. ",
        "Foreign Minister ",
        " he ",
        " they ",
        " met ",
        " backed ",
        " in Moscow ",
        " on Tuesday",
        " expressed deep concern about ",
        "\n\n",
        "\xa0",
    ]
)


def check_candidates(
    text: str,
    quotes: Sequence[QuoteCandidate],
    events: Sequence[EventCandidate],
    stances: Sequence[StanceCandidate],
) -> None:
    """Every candidate and each of its parts is grounded in ``text``, in order, once."""
    for records in (quotes, events, stances):
        check_spans(text, records)
    for q in quotes:
        assert q.kind in ("direct", "indirect", "mixed")
        assert len(q.speakers) <= 3
        for s in q.speakers:
            check_mention(text, s)
        if q.cue is not None:
            assert 0 <= q.cue[0] < q.cue[1] <= len(text)
    for e in events:
        assert 1 <= len(e.types) <= 3 or (not e.types and e.kind)
        for part in (e.location, e.time, e.sentence):
            if part is not None:
                assert 0 <= part[0] < part[1] <= len(text)
        for m in (e.actor, e.recipient):
            if m is not None:
                check_mention(text, m)
    for stance in stances:
        assert stance.holder is not None  # the finder keeps only stances with a holder
        check_mention(text, stance.holder)
        assert stance.target


@settings(max_examples=100, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_finders_never_raise_and_keep_span_invariants(text: str) -> None:
    check_spans(text, find_mentions(text))
    check_candidates(text, find_quotes(text), find_events(text), find_stances(text))


# Inputs that would make nested quantifiers backtrack, or a scan quadratic, each followed by
# prose the finders must still read.
PATHOLOGICAL = {
    "names, marks, commas, words": ("Wang " * 2000) + ('"' * 500) + (", " * 2000) + ("a " * 3000),
    "unclosed quotation marks": "\u201cWe " * 3000 + "said",
    "quotation marks only": '"' * 5000,
    "titled names in a list": "Foreign Minister Wang Yi, " * 2000 + "said",
    "according-to frames": "according to Wang, " * 600,
    "a 200,000-letter word": "x" * 200_000,
    "blank lines": "\n" * 100_000 + "said",
    "capitalised words": "Abc " * 20_000,
    "abbreviations": "Mr. " * 10_000 + "said",
}
# One sentence of 12,000 characters (one default chunk) full of cue verbs: each cue looks
# for the next one that a coordination leads into, which must not take time cubic in them.
CUE_RUNS = {
    "said-that frames": "Wang said that " * 800,
    "stance phrases": "expressed deep concern about " * 414,
}
PROSE = '\n\nMayor Elena Ruiz said: "The wall is built." The council rejected the plan.'


@pytest.mark.timeout(60)  # each input takes well under a second; a hang fails here
@pytest.mark.parametrize(
    "text",
    [
        *[pytest.param(text, id=name) for name, text in PATHOLOGICAL.items()],
        *[pytest.param(text, id=name) for name, text in CUE_RUNS.items()],
    ],
)
def test_pathological_input_gives_grounded_candidates_and_the_prose_after_it(text: str) -> None:
    check_candidates(text, find_quotes(text), find_events(text), find_stances(text))
    article = text + PROSE
    quotes, events = find_quotes(article), find_events(article)
    check_candidates(article, quotes, events, find_stances(article))
    assert "The wall is built." in [q.text for q in quotes]
    assert [(e.text, e.types[0]) for e in events if e.start > len(text)] == [
        ("rejected", EventType.REJECT)
    ]


def test_quotation_parts_join_only_around_their_shared_cue() -> None:
    text = (
        '"We are ready," Ruiz said. "The wall is built. Nobody loses a day," she added.\n\n'
        '"First part here," Baker said. "Second part here." "Third part too."\n\n'
        '"Alone in this paragraph now."\n\n"Another paragraph here," Nair said.'
    )
    got = [q.text for q in find_quotes(text) if q.kind == "direct"]
    assert got == [
        "We are ready",  # the next part has a cue of its own
        "The wall is built. Nobody loses a day",
        'First part here," Baker said. "Second part here.',  # joined around "said"
        "Third part too.",  # no frame with a cue between: not joined
        "Alone in this paragraph now.",
        "Another paragraph here",
    ]


def test_cue_words_derived_from_training_data_find_attitude_attributions() -> None:
    """PolNeAR annotates attitudes and acts as attributions; the cue words derived from its
    training split (llmextract/candidates/cues.txt) make such frames candidates."""
    assert {"seemed", "described", "wants", "declined"} <= set(DERIVED_CUES)
    text = "Senator Ann Lee wants the wall finished before the winter storms arrive."
    [quote] = find_quotes(text)
    assert quote.text.startswith("the wall finished")
    assert [m.text for m in quote.speakers][:1] == ["Ann Lee"]
