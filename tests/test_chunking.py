"""Tests for llmextract.chunking: sentence splitting and overlapping chunks."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmextract.chunking import Chunk, make_chunks, split_sentences

# database=None: keep the suite from writing a .hypothesis directory.
PROPS = settings(max_examples=200, deadline=None, database=None)

TEXT = st.lists(
    st.one_of(
        st.characters(),
        st.sampled_from(
            list(". ! ? \n \r\n \t \u201d \u201c \" ' ) ( \u3002 A B a b 1 Mr. J. U.S.")
        ),
        st.sampled_from(["Mr.", "J.", "U.S.", "\n\n", ". ", "? ", "word", "Hello"]),
    ),
    max_size=150,
).map("".join)


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def check_sentence_invariants(text: str, spans: list[tuple[int, int]]) -> None:
    prev_end = 0
    for s, e in spans:
        assert prev_end <= s < e <= len(text)
        assert not text[s].isspace() and not text[e - 1].isspace()
        assert text[prev_end:s].strip() == ""  # nothing but whitespace is skipped
        prev_end = e
    assert text[prev_end:].strip() == ""


def check_chunk_invariants(text: str, chunks: list[Chunk], max_chars: int) -> None:
    covered = [False] * len(text)
    prev_start = -1
    for c in chunks:
        assert c.text == text[c.start : c.end]
        assert 0 <= c.start <= c.end <= len(text)
        assert c.end - c.start <= max_chars
        assert c.start > prev_start  # progress
        prev_start = c.start
        for k in range(c.start, c.end):
            covered[k] = True
    for k, ch in enumerate(text):
        assert covered[k] or ch.isspace(), f"char {k} {ch!r} not covered"


# --------------------------------------------------------------------------
# split_sentences
# --------------------------------------------------------------------------


def test_basic_sentences() -> None:
    text = "  The vote failed. Critics cheered! Why? Nobody knows.  "
    assert sentences(text) == ["The vote failed.", "Critics cheered!", "Why?", "Nobody knows."]
    check_sentence_invariants(text, split_sentences(text))


def test_empty_and_whitespace() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\t ") == []
    assert split_sentences("No terminator at all") == [(0, 20)]


def test_needs_capital_digit_or_quote_after() -> None:
    assert sentences("It rose 3.5 per cent. in March it fell.") == [
        "It rose 3.5 per cent. in March it fell."
    ]
    assert sentences("It ended in 2019. 2020 was worse.") == [
        "It ended in 2019.",
        "2020 was worse.",
    ]
    assert sentences('He left. "Goodbye," she said.') == ["He left.", '"Goodbye," she said.']
    assert sentences("He left. \u201cGoodbye,\u201d she said.") == [
        "He left.",
        "\u201cGoodbye,\u201d she said.",
    ]


def test_closing_quotes_and_brackets_stay_with_sentence() -> None:
    text = "\u201cWe won.\u201d Then we left. (It rained.) The end."
    assert sentences(text) == ["\u201cWe won.\u201d", "Then we left.", "(It rained.)", "The end."]
    # A question inside a quote followed by lowercase does not end the sentence.
    assert sentences("\u201cWhy?\u201d he asked.") == ["\u201cWhy?\u201d he asked."]


@pytest.mark.parametrize(
    "abbr",
    [
        *("Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Sen.", "Rep.", "Gov.", "Gen.", "Col."),
        *("Lt.", "Sgt.", "St.", "Jr.", "Sr.", "U.S.", "U.K.", "U.N.", "e.g.", "i.e."),
        *("vs.", "No.", "Jan.", "Feb.", "Aug.", "Sept.", "Oct.", "Nov.", "Dec."),
    ],
)
def test_no_split_after_abbreviations(abbr: str) -> None:
    text = f"They met {abbr} Smith today. Then they left."
    assert sentences(text) == [f"They met {abbr} Smith today.", "Then they left."]


def test_no_split_after_initials() -> None:
    text = "The author J. Smith spoke. So did J.R.R. Tolkien's heir. (A. Jones) Left early."
    assert sentences(text) == [
        "The author J. Smith spoke.",
        "So did J.R.R. Tolkien's heir.",
        "(A. Jones) Left early.",
    ]


def test_abbreviation_match_is_case_sensitive() -> None:
    # "no." ending a sentence is not the abbreviation "No."
    assert sentences("She said no. Then she left.") == ["She said no.", "Then she left."]
    # A long word ending in a listed abbreviation is not one.
    assert sentences("It was a nonNo. Then it was not.") == ["It was a nonNo.", "Then it was not."]


def test_blank_line_always_ends_a_sentence() -> None:
    text = "HEADLINE WITHOUT PUNCTUATION\n\nbody starts lowercase\n \t\nand more text"
    assert sentences(text) == [
        "HEADLINE WITHOUT PUNCTUATION",
        "body starts lowercase",
        "and more text",
    ]
    crlf = "First para.\r\n\r\nsecond para.\r\nStill second."
    assert sentences(crlf) == ["First para.", "second para.", "Still second."]


def test_single_newline_is_not_a_boundary_by_itself() -> None:
    assert sentences("a line\nwraps here. Next one.") == ["a line\nwraps here.", "Next one."]


def test_non_ascii_sentences() -> None:
    text = "\u00c9lise est partie. \u00c0 midi, il pleuvait. \u00dcber alles."
    assert sentences(text) == [
        "\u00c9lise est partie.",
        "\u00c0 midi, il pleuvait.",
        "\u00dcber alles.",
    ]
    cjk = "\u4ed6\u6765\u4e86\u3002\u6211\u4eec\u8d70\u5427\uff01\u597d\u5417\uff1f"
    assert sentences(cjk) == [
        "\u4ed6\u6765\u4e86\u3002",
        "\u6211\u4eec\u8d70\u5427\uff01",
        "\u597d\u5417\uff1f",
    ]
    emoji = "We won \U0001f3c6. Great day \U0001f389! Bye."
    assert sentences(emoji) == ["We won \U0001f3c6.", "Great day \U0001f389!", "Bye."]


# --------------------------------------------------------------------------
# make_chunks
# --------------------------------------------------------------------------


def test_short_text_is_one_chunk() -> None:
    text = "  A short article.  "
    assert make_chunks(text, max_chars=100, overlap_chars=10) == [Chunk(0, len(text), text)]
    assert make_chunks("", max_chars=10, overlap_chars=0) == [Chunk(0, 0, "")]
    exact = "x" * 50
    assert make_chunks(exact, max_chars=50, overlap_chars=5) == [Chunk(0, 50, exact)]


def test_long_text_chunks_overlap_and_cover() -> None:
    sents = [f"Sentence number {i} says something." for i in range(40)]
    text = " ".join(sents)
    chunks = make_chunks(text, max_chars=200, overlap_chars=60)
    assert len(chunks) > 1
    check_chunk_invariants(text, chunks, 200)
    starts = {s for s, _ in split_sentences(text)}
    ends = {e for _, e in split_sentences(text)}
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start in starts and prev.end in ends  # whole sentences
        overlap = prev.end - nxt.start
        assert 0 < overlap <= 60  # about overlap_chars, rounded to whole sentences
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_zero_overlap_does_not_repeat_sentences() -> None:
    text = " ".join(f"Item {i} is here." for i in range(30))
    chunks = make_chunks(text, max_chars=60, overlap_chars=0)
    check_chunk_invariants(text, chunks, 60)
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start > prev.end


def test_overlap_larger_than_chunk_still_progresses() -> None:
    text = " ".join(f"Item {i} is here." for i in range(30))
    chunks = make_chunks(text, max_chars=40, overlap_chars=500)
    check_chunk_invariants(text, chunks, 40)


def test_giant_sentence_is_cut_at_whitespace() -> None:
    giant = " ".join(["word"] * 100) + "."
    text = "Short start. " + giant + " Short end."
    chunks = make_chunks(text, max_chars=50, overlap_chars=10)
    check_chunk_invariants(text, chunks, 50)
    for c in chunks:
        assert not c.text.startswith(("ord", "rd", "d ")) and not c.text.endswith(("wor", "wo"))


def test_giant_word_is_hard_cut() -> None:
    text = "Intro. " + "x" * 230 + " outro."
    chunks = make_chunks(text, max_chars=100, overlap_chars=20)
    check_chunk_invariants(text, chunks, 100)
    assert any(len(c.text) == 100 and set(c.text) == {"x"} for c in chunks)


def test_blank_line_paragraphs() -> None:
    paras = [f"Paragraph {i} heading\n\nbody text of paragraph {i} goes here" for i in range(10)]
    text = "\n\n".join(paras)
    chunks = make_chunks(text, max_chars=120, overlap_chars=30)
    check_chunk_invariants(text, chunks, 120)
    assert all(not c.text[0].isspace() and not c.text[-1].isspace() for c in chunks)


def test_long_whitespace_only_text_has_no_chunks() -> None:
    assert make_chunks(" " * 100, max_chars=10, overlap_chars=2) == []


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        make_chunks("abc", max_chars=0, overlap_chars=0)
    with pytest.raises(ValueError, match="overlap_chars"):
        make_chunks("abc", max_chars=10, overlap_chars=-1)


# --------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------


@PROPS
@given(text=TEXT)
def test_prop_sentence_invariants(text: str) -> None:
    check_sentence_invariants(text, split_sentences(text))


@PROPS
@given(text=TEXT, data=st.data())
def test_prop_chunk_invariants(text: str, data: st.DataObject) -> None:
    max_chars = data.draw(st.integers(50, 500))
    overlap = data.draw(st.integers(0, max_chars // 3))
    text = text * data.draw(st.integers(1, 8))  # make multi-chunk cases common
    chunks = make_chunks(text, max_chars=max_chars, overlap_chars=overlap)
    if len(text) <= max_chars:
        assert chunks == [Chunk(0, len(text), text)]
    check_chunk_invariants(text, chunks, max_chars)


@PROPS
@given(text=TEXT, max_chars=st.integers(1, 30), overlap=st.integers(0, 40))
def test_prop_chunk_invariants_tiny_limits(text: str, max_chars: int, overlap: int) -> None:
    check_chunk_invariants(
        text, make_chunks(text, max_chars=max_chars, overlap_chars=overlap), max_chars
    )
