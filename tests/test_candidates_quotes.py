"""Quote candidate boundary and frame rules, each on a short real-style sentence."""

from __future__ import annotations

from llmextract.candidates import find_quotes


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
