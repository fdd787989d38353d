"""The one quotation scanner, and that candidates, metric and converters agree through it."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llmextract.quotation
from llmextract.candidates import find_quotes
from llmextract.evaluation.direct import is_direct
from llmextract.quotation import QUOTE_MARKS, Quotation, quotations, quote_kind, quoted_mask
from llmextract.schemas import Span


def quoted(text: str) -> list[str]:
    """The text of each quotation, in order."""
    return [text[q.open + 1 : q.close] for q in quotations(text)]


def test_docstring_examples() -> None:
    assert doctest.testmod(llmextract.quotation).failed == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('He said "we win" and left.', ["we win"]),
        ("He said \u201cwe win\u201d and left.", ["we win"]),
        # low-high (German) and low-right marks
        ("Sie sagte \u201eWir schaffen das\u201c gestern.", ["Wir schaffen das"]),
        ("Powiedzia\u0142 \u201eNie wiem\u201d wczoraj.", ["Nie wiem"]),
        # mixed marks, as sloppy copy types them
        ('\u201cNo evidence," he said.', ["No evidence,"]),
        ('"Work-related\u201d emails, she said.', ["Work-related"]),
        # reversed curly marks and Scandinavian right-right marks
        ("He asked: \u201cWhy?\u201c and left.", ["Why?"]),
        ("Hon sa \u201dHej\u201d och gick.", ["Hej"]),
    ],
)
def test_marks_that_count(text: str, expected: list[str]) -> None:
    assert quoted(text) == expected


def test_single_marks_and_apostrophes_never_count() -> None:
    assert quotations("He said \u2018no\u2019 and it\u2019s over, isn't it 'yes'.") == ()


def test_nesting_of_any_kind() -> None:
    text = '\u201cHe called it "a joke," and \u201cnothing more\u201d today,\u201d she said.'
    got = [(text[q.open + 1 : q.close], q.depth, q.closed) for q in quotations(text)]
    assert got == [
        ('He called it "a joke," and \u201cnothing more\u201d today,', 0, True),
        ("a joke,", 1, True),
        ("nothing more", 1, True),
    ]
    straight_outside = '"He called it \u201ca joke\u201d today," she said.'
    assert quoted(straight_outside) == ["He called it \u201ca joke\u201d today,", "a joke"]


def test_a_curly_close_ends_the_straight_quotations_opened_inside_it() -> None:
    text = '\u201cThe shelf is 6 "wide and deep,\u201d he said. Then "we left".'
    assert [(q.depth, q.closed) for q in quotations(text)] == [(0, True), (1, False), (0, True)]
    assert quoted(text)[2] == "we left"


def test_unmatched_marks() -> None:
    # A closing mark with nothing open, an inch mark and a stray closer open nothing.
    assert quotations("It ended.\u201d Then nothing.") == ()
    assert quotations("He is 6'3\" tall and fit.") == ()
    assert quotations('Oz reviewed [his] systems" including the heart.') == ()
    # An opener left open runs to its paragraph's end, not past it.
    text = 'She said "we will see.\n\nThen she left.'
    [left_open] = quotations(text)
    assert (text[left_open.open + 1 : left_open.close], left_open.closed) == ("we will see.", False)
    # Ambiguous spacing falls back on the mark's shape: a straight mark toggles.
    assert quoted('a"b"c') == ["b"]


def test_paragraphs_opened_again_end_the_open_quotation() -> None:
    blank_lines = "\u201cFirst part.\n\n\u201cSecond part,\u201d he said."
    one_per_line = "\u201cFirst part.\n\u201cSecond part,\u201d he said."
    straight = '"First part.\n"Second part," he said.'
    for text in (blank_lines, one_per_line, straight):
        assert quoted(text) == ["First part.", "Second part,"], text
        assert [q.closed for q in quotations(text)] == [False, True]


def test_other_line_breaks_stay_inside_the_quotation() -> None:
    wrapped = '"It was a\nmistake," he added.'
    one_sentence_per_line = '"We came.\nWe saw.\r\nWe left," the police said.'
    assert quoted(wrapped) == ["It was a\nmistake,"]
    assert quoted(one_sentence_per_line) == ["We came.\nWe saw.\r\nWe left,"]


def test_mask_and_kind_follow_the_quotations() -> None:
    text = 'He said \u201cwe \u201ereally\u201c win\u201d and "left'
    mask = quoted_mask(text)
    assert "".join(c for c, q in zip(text, mask, strict=True) if q) == "we really win" + "left"
    assert not any(mask[i] for i, c in enumerate(text) if c in QUOTE_MARKS)
    we_win = (text.index("we"), text.index(" and"))
    assert quote_kind(text, [we_win]) == "direct"
    assert quote_kind(text, [(0, we_win[1])], mask) == "mixed"
    assert quote_kind(text, [(0, 7)], mask) == "indirect"


_ALPHABET = st.sampled_from(
    [
        *"ab .,;:!?\n\"'()\u201c\u201d\u201e\u2019",
        "\n\n",
        "\r\n",
        " said ",
        " told ",
        "Wang ",
        " that ",
        " we win ",
        " 6'3\" ",
    ]
)


def well_formed(text: str, found: tuple[Quotation, ...]) -> None:
    assert [q.open for q in found] == sorted(q.open for q in found)
    for q in found:
        assert 0 <= q.open < q.close <= len(text)
        assert text[q.open] in QUOTE_MARKS
        if q.closed:
            assert q.close < len(text) and text[q.close] in QUOTE_MARKS
        else:  # ended by its paragraph, or by the closing of a quotation around it
            assert (
                q.close == len(text)
                or text[q.close] in "\r\n"
                or any(o.closed and o.close == q.close and o.open < q.open for o in found)
            ), q
        # No paragraph break inside a quotation.
        assert "\n\n" not in text[q.open : q.close]
    for inner in (q for q in found if q.depth > 0):
        assert any(o.depth == inner.depth - 1 and o.open < inner.open < o.close for o in found)
        assert any(o.open < inner.open and inner.close <= o.close for o in found)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_scanner_invariants_and_agreement_with_candidates_and_metric(text: str) -> None:
    found = quotations(text)
    well_formed(text, found)
    mask = quoted_mask(text)
    assert len(mask) == len(text)
    for q in found:
        inside = [mask[i] for i in range(q.open + 1, q.close) if text[i] not in QUOTE_MARKS]
        assert all(inside)
    # What the candidates call direct, the metric and the converters' kinds call direct too.
    for candidate in find_quotes(text):
        fragment = [(candidate.start, candidate.end)]
        span = Span(text=candidate.text, start=candidate.start, end=candidate.end)
        if candidate.kind == "direct":
            assert is_direct(span, text)
            if QUOTE_MARKS.isdisjoint(candidate.text):
                assert quote_kind(text, fragment, mask) == "direct"
        elif candidate.kind == "indirect":
            assert quote_kind(text, fragment, mask) == "indirect"
