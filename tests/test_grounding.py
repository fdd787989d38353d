"""Tests for llmextract.grounding: aligning quoted text to article offsets."""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmextract.grounding import FUZZY_THRESHOLD, Alignment, align_span, normalise, occurs

# database=None: keep the suite from writing a .hypothesis directory.
PROPS = settings(max_examples=200, deadline=None, database=None)

# Characters that exercise every normalisation rule, mixed into random text.
TRICKY = [
    *"\u201c\u201d\u201e\u201f\u2033\u2018\u2019\u201a\u201b\u2032\u00ab\u00bb",
    *"\u2013\u2014\u2012\u2212\u00a0\u2009\u3000\u200b\u00ad\ufeff",
    *"\u00df\u0130\u0131\ufb01\u2026\u00e9\u0301\u0308\u00a8\u00bd\u4e2d\u6587\U0001f600",
    *" \t\r\n\"'-.,",
    *("\r\n", "\n\n", "  "),
]
TEXT = st.lists(
    st.one_of(st.characters(), st.sampled_from(TRICKY), st.sampled_from("abcAB ")),
    max_size=120,
).map("".join)


def found(text: str, a: Alignment | None) -> str:
    assert a is not None
    return text[a.start : a.end]


# --------------------------------------------------------------------------
# exact
# --------------------------------------------------------------------------


def test_exact_match_strips_needle_whitespace() -> None:
    text = "The mayor said we will rebuild the bridge."
    a = align_span(text, "  we will rebuild \n")
    assert a == Alignment(15, 30, "exact", 100.0)
    assert found(text, a) == "we will rebuild"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "Zo\u00eb Salda\u00f1a dijo: \u00abVamos a ganar ma\u00f1ana\u00bb.",
            "Vamos a ganar ma\u00f1ana",
        ),
        (
            "\u4ed6\u8bf4\uff1a\u201c\u6211\u4eec\u4f1a\u8d62\u3002\u201d\u7136\u540e\u79bb\u5f00",
            "\u6211\u4eec\u4f1a\u8d62",
        ),
        ("Fans wrote \U0001f389\U0001f389 we won \U0001f3c6 again", "\U0001f389 we won \U0001f3c6"),
        (
            "\u041f\u0440\u0435\u0437\u0438\u0434\u0435\u043d\u0442 "
            "\u0441\u043a\u0430\u0437\u0430\u043b",
            "\u0441\u043a\u0430\u0437\u0430\u043b",
        ),
    ],
)
def test_exact_match_non_ascii(text: str, needle: str) -> None:
    a = align_span(text, needle)
    assert a is not None and a.status == "exact"
    assert found(text, a) == needle


def test_exact_prefers_occurrence_nearest_to_near() -> None:
    text = "we will win. Later: we will win. And at the end: we will win."
    starts = [i for i in range(len(text)) if text.startswith("we will win", i)]
    assert len(starts) == 3
    assert align_span(text, "we will win") == Alignment(starts[0], starts[0] + 11, "exact", 100.0)
    for target in starts:
        for near in (target - 3, target, target + 3):
            a = align_span(text, "we will win", near=near)
            assert a is not None and a.start == target
    # Out-of-range hints are clamped, not errors.
    assert align_span(text, "we will win", near=-50) is not None
    assert align_span(text, "we will win", near=10_000) is not None
    assert align_span(text, "we will win", near=10_000).start == starts[-1]  # type: ignore[union-attr]


def test_empty_or_whitespace_needle_is_none() -> None:
    assert align_span("some text", "") is None
    assert align_span("some text", " \n\t ") is None
    assert align_span("", "x") is None
    assert align_span("", "") is None


# --------------------------------------------------------------------------
# normalised
# --------------------------------------------------------------------------


def test_curly_quotes_in_article_straight_in_needle() -> None:
    text = "She said \u201cwe\u2019ll win\u201d on Tuesday."
    a = align_span(text, '"we\'ll win"')
    assert a is not None and a.status == "normalised" and a.score == 100.0
    # The needle carried its marks, so the span carries the article's marks.
    assert found(text, a) == "\u201cwe\u2019ll win\u201d"


def test_straight_quotes_in_article_curly_in_needle() -> None:
    text = 'She said "we\'ll win" on Tuesday.'
    a = align_span(text, "\u201cwe\u2019ll win\u201d")
    assert a is not None and a.status == "normalised"
    assert found(text, a) == '"we\'ll win"'


def test_needle_with_quote_marks_falls_back_to_words() -> None:
    text = "Asked about the vote, Smith replied We will win, and left."
    a = align_span(text, '"We will win"')
    assert a is not None and a.status == "normalised"
    assert found(text, a) == "We will win"
    text2 = "Smith said: \u201aWe will win\u2018 and left."
    assert found(text2, align_span(text2, "\u201cWe will win\u201d")) == "We will win"


def test_needle_with_marks_exact_when_article_has_same_marks() -> None:
    text = 'He said "We will win" loudly.'
    a = align_span(text, '"We will win"')
    assert a is not None and a.status == "exact"
    assert found(text, a) == '"We will win"'


def test_whitespace_and_newlines_differ() -> None:
    text = "Officials said the plan\n   would be\tready by\u00a0June.\n"
    a = align_span(text, "the plan would be ready by June")
    assert a is not None and a.status == "normalised"
    assert found(text, a) == "the plan\n   would be\tready by\u00a0June"


def test_case_differences() -> None:
    text = "THE COMMITTEE WILL MEET ON FRIDAY."
    a = align_span(text, "the committee will meet")
    assert a is not None and a.status == "normalised"
    assert found(text, a) == "THE COMMITTEE WILL MEET"


def test_windows_line_endings_in_text() -> None:
    text = "First line of the story.\r\nSecond line follows here.\r\n"
    a = align_span(text, "story. Second line")
    assert a is not None and a.status == "normalised"
    assert found(text, a) == "story.\r\nSecond line"
    a2 = align_span(text, "story.\nSecond line")
    assert a2 is not None and found(text, a2) == "story.\r\nSecond line"


def test_dashes_and_ellipsis() -> None:
    text = "The 2019\u20132020 season \u2014 a disaster\u2026 ended."
    assert found(text, align_span(text, "2019-2020 season - a disaster...")) == (
        "2019\u20132020 season \u2014 a disaster\u2026"
    )


def test_composed_and_decomposed_accents() -> None:
    decomposed = "Le cafe\u0301 de la gare"
    a = align_span(decomposed, "CAF\u00c9 de")
    assert a is not None and found(decomposed, a) == "cafe\u0301 de"
    composed = "Le caf\u00e9 de la gare"
    assert found(composed, align_span(composed, "cafe\u0301 de")) == "caf\u00e9 de"


def test_normalised_match_never_splits_a_character() -> None:
    text = "Die Stra\u00dfe ist lang"
    assert found(text, align_span(text, "STRASSE")) == "Stra\u00dfe"
    # "stras" is a prefix of "strasse" but would cut the sharp s in half.
    assert align_span(text, "stras") is None
    # "cafe" must not match the first half of a composed "caf\u00e9".
    assert align_span("un caf\u00e9 noir", "CAFE") is None


def test_normalised_prefers_occurrence_nearest_to_near() -> None:
    text = (
        "\u201cYes\u201d, she said. Later: \u201cYes\u201d, again. "
        "Finally \u201cYes\u201d, once more."
    )
    starts = [i for i, c in enumerate(text) if c == "\u201c"]
    for target in starts:
        a = align_span(text, '"yes"', near=target + 1)
        assert a is not None and a.status == "normalised" and a.start == target


def test_zero_width_and_soft_hyphen_are_ignored() -> None:
    text = "an extra\u00adordinary \u200bresult"
    a = align_span(text, "extraordinary result")
    assert a is not None and found(text, a) == "extra\u00adordinary \u200bresult"


def test_lone_surrogates_do_not_raise() -> None:
    text = "x\ud800y \ud800 abc"
    a = align_span(text, "\ud800 ABC")
    assert a is not None and found(text, a) == "\ud800 abc"


# --------------------------------------------------------------------------
# fuzzy
# --------------------------------------------------------------------------

ARTICLE = (
    "The minister said that the government would raise taxes on large companies "
    "next year, according to the report. Opposition leaders rejected the plan."
)


def test_fuzzy_accepts_one_changed_word() -> None:
    needle = "the government would increase taxes on large companies next year"
    a = align_span(ARTICLE, needle)
    assert a is not None and a.status == "fuzzy"
    assert FUZZY_THRESHOLD <= a.score < 100.0
    # Whole words, no stray comma.
    assert found(ARTICLE, a) == "the government would raise taxes on large companies next year"


def test_fuzzy_span_snaps_to_words() -> None:
    needle = "overnment would raise taxes on big companies next yea"
    a = align_span(ARTICLE, needle)
    assert a is not None
    assert found(ARTICLE, a) == "government would raise taxes on large companies next year"


def test_made_up_sentence_is_none() -> None:
    assert align_span(ARTICLE, "The prime minister announced a bold new plan for schools.") is None


def test_short_needle_is_never_fuzzy() -> None:
    # "rejectd plan" is 12 chars and would pass; "rejectd pln" is 11 and is refused.
    assert align_span(ARTICLE, "rejectd pln") is None
    assert align_span(ARTICLE, "rejected teh plan") is not None


def test_fuzzy_threshold_is_respected() -> None:
    needle = "the government would increase taxes on large companies next year"
    assert align_span(ARTICLE, needle, fuzzy_threshold=99.0) is None


def test_needle_longer_than_text() -> None:
    text = "We will win the vote."
    needle = "We will win the vote, he said, and then he left the room in a hurry."
    assert align_span(text, needle) is None
    assert align_span(text, "We will win teh vote") is not None


def test_fuzzy_window_around_near_in_long_text() -> None:
    rng = random.Random(7)
    filler = " ".join(
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 8)))
        for _ in range(12_000)
    )
    sentence = "The council finally approved the new budget for the harbour district."
    text = filler[:30_000] + " " + sentence + " " + filler[30_000:]
    pos = text.index(sentence)
    needle = "The council finally approved the new budget for the harbor district"
    a = align_span(text, needle, near=pos + 500)
    assert a is not None and a.status == "fuzzy" and a.start == pos
    assert found(text, a) == sentence[:-1]
    assert align_span(text, needle) is not None  # no hint: whole text
    # The hint bounds the search: a passage 25,000 chars away is not found.
    assert align_span(text, needle, near=pos + 25_000 + len(needle)) is None


# --------------------------------------------------------------------------
# normalise / occurs / Alignment
# --------------------------------------------------------------------------


def test_normalise_examples() -> None:
    assert (
        normalise("  \u201cWe\u2019ll   WIN\u201d \u2014 Stra\u00dfe ") == '"we\'ll win" - strasse'
    )
    assert normalise("a\r\n\r\nb\u00a0\u2003c") == "a b c"
    assert normalise("") == ""
    assert normalise("\u200b") == ""
    assert normalise("\ufb01ne \u00bd") == "fine 1\u20442"


def test_occurs() -> None:
    text = "Mr. Se\u00e1n O\u2019Brien, the mayor\u2019s aide, spoke to ANN LEE on Monday."
    assert occurs(text, "Se\u00e1n O'Brien")
    assert occurs(text, "sean o'brien") is False  # accents matter
    assert occurs(text, "Ann Lee")
    assert occurs(text, "mayor")  # followed by an apostrophe: still a word edge
    assert not occurs(text, "Ann Leen")
    assert occurs(text, "Ann")  # a whole word here, unlike in "annual"
    assert not occurs("The annual report", "Ann")
    assert not occurs(text, "")
    assert not occurs(text, "   ")
    assert occurs("\u738b\u5c0f\u660e\u8bf4\u4e86\u8bdd", "\u738b\u5c0f\u660e")


# --------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------


@PROPS
@given(text=TEXT, data=st.data())
def test_prop_slice_aligns_exactly(text: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, len(text)))
    near = data.draw(st.none() | st.integers(-5, len(text) + 5))
    needle = text[i:j]
    a = align_span(text, needle, near=near)
    if not needle.strip():
        assert a is None
        return
    assert a is not None and a.status == "exact" and a.score == 100.0
    assert text[a.start : a.end] == needle.strip()


@PROPS
@given(text=TEXT, needle=TEXT, near=st.none() | st.integers(-10, 400))
def test_prop_never_raises_and_in_bounds(text: str, needle: str, near: int | None) -> None:
    a = align_span(text, needle, near=near)
    if a is not None:
        assert 0 <= a.start < a.end <= len(text)
        assert a.status in ("exact", "normalised", "fuzzy")
    occurs(text, needle)


@PROPS
@given(text=TEXT, data=st.data())
def test_prop_reformatted_slice_aligns_normalised(text: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, len(text)))
    needle = text[i:j]
    # Edits that normalisation undoes: ASCII case, whitespace shape, quotes, dashes.
    table = str.maketrans({" ": "\n  ", "\u201c": '"', "\u2019": "'", "\u2014": "-"})
    needle = needle.translate(table).swapcase() if needle.isascii() else needle.translate(table)
    a = align_span(text, needle)
    if not normalise(needle):
        return
    assert a is not None and a.status != "fuzzy"
    got = normalise(text[a.start : a.end])
    assert got in (normalise(needle), normalise(needle).strip("\"' "))


@PROPS
@given(s=TEXT)
def test_prop_normalise_is_idempotent(s: str) -> None:
    n = normalise(s)
    assert normalise(n) == n
    assert "  " not in n and n == n.strip()


@PROPS
@given(text=TEXT, data=st.data())
def test_prop_mutated_slice_stays_in_bounds(text: str, data: st.DataObject) -> None:
    # Long enough to reach the fuzzy step; one character replaced.
    if len(text) < 15:
        text = text + " the quick brown fox jumps"
    i = data.draw(st.integers(0, len(text) - 15))
    j = data.draw(st.integers(i + 15, len(text)))
    k = data.draw(st.integers(i, j - 1))
    needle = text[i:k] + data.draw(st.sampled_from(TRICKY)) + text[k + 1 : j]
    near = data.draw(st.none() | st.integers(0, len(text)))
    a = align_span(text, needle, near=near, fuzzy_threshold=data.draw(st.floats(0, 100)))
    if a is not None:
        assert 0 <= a.start < a.end <= len(text)
