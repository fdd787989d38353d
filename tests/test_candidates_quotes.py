"""Quote candidate boundary and frame rules, each on a short real-style sentence."""

from __future__ import annotations

from llmextract.candidates import find_quotes
from llmextract.candidates.lexicons import DERIVED_PHRASES


def test_doubled_apostrophes_are_read_as_quotation_marks() -> None:
    text = (
        "The race tightened. ''It is downright ludicrous,'' said Senator Chris Coons, "
        "Democrat of Delaware."
    )
    quotes = find_quotes(text)
    assert [(q.text, q.speakers[0].text) for q in quotes] == [
        ("It is downright ludicrous", "Chris Coons")
    ]
    quote = quotes[0]
    assert text[quote.start : quote.end] == quote.text
    assert quote.cue is not None and text[quote.cue[0] : quote.cue[1]] == "said"
    # The kind is the one the quotation rule gives the text as written: no double marks.
    assert quote.kind == "indirect"


def test_parts_of_a_quotation_join_across_a_long_frame() -> None:
    text = (
        "\u201cNobody cares when you\u2019re spending your own money,\u201d the RNC member "
        "said, adding that small donors especially may not be sympathetic to such costs. "
        "\u201cMost campaigns run on a much tighter budget.\u201d"
    )
    direct = [q for q in find_quotes(text) if q.kind == "direct"]
    assert len(direct) == 1
    assert direct[0].text.startswith("Nobody cares")
    assert direct[0].text.endswith("tighter budget.")
    assert direct[0].speakers[0].text == "the RNC member"


def test_a_quoted_title_without_a_cue_is_no_candidate() -> None:
    text = 'He appeared on "The Axe Files" and later on "Morning Joe" to defend the plan.'
    assert [q.text for q in find_quotes(text) if q.kind == "direct"] == []
    # The same words with a cue are a quote.
    assert [q.text for q in find_quotes('"Defend The Plan," Ruiz said.')] == ["Defend The Plan"]


def test_derived_cue_phrases_make_their_frames_candidates() -> None:
    assert {"is expected", "referring to", "made it clear"} <= set(DERIVED_PHRASES)
    text = "Clinton leads in the polls. The senator is expected to endorse her next week."
    quotes = find_quotes(text)
    assert [(q.text, q.speakers[0].text) for q in quotes] == [
        ("to endorse her next week", "The senator")
    ]


def test_a_markup_attribute_value_is_no_candidate() -> None:
    text = (
        '<tweet id="672138506081275904" author="@MissDBunker" datetime="2015-12-02 20:01">'
        "Shots fired at the Inland Regional Center</tweet>. "
        '"We are still searching for the suspects," the police chief said.'
    )
    assert [q.text for q in find_quotes(text) if q.kind == "direct"] == [
        "We are still searching for the suspects"
    ]


def test_a_short_cueless_quotation_takes_in_the_noun_phrase_it_completes() -> None:
    text = (
        "Jeb was better than in previous outings, even if he reserved his passion for the "
        "Republican-repelling cause of \u201ccomprehensive immigration reform.\u201d"
    )
    quotes = find_quotes(text)
    assert [(q.text, q.kind) for q in quotes] == [
        (
            "the Republican-repelling cause of \u201ccomprehensive immigration reform.\u201d",
            "mixed",
        )
    ]
    # With a cue, or of five words or more, the quotation stays as it is.
    said = 'The mayor said "we will rebuild." She left.'
    assert [q.text for q in find_quotes(said) if q.kind == "direct"] == ["we will rebuild."]
