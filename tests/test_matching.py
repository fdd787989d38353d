from __future__ import annotations

import pytest

from llmextract.evaluation.matching import match, span_similarity, spans_overlap, token_indices
from llmextract.schemas import Span


def sp(text: str, fragment: str, start: int = 0) -> Span:
    """The span of the first ``fragment`` in ``text`` at or after ``start``."""
    at = text.index(fragment, start)
    return Span(text=fragment, start=at, end=at + len(fragment))


def at(text: str, start: int, end: int) -> Span:
    return Span(text=text[start:end], start=start, end=end)


# --- exact --------------------------------------------------------------------------------


def test_exact_ignores_surrounding_whitespace_only() -> None:
    text = 'She said  "yes" , firmly.'
    gold = sp(text, '"yes"')
    assert span_similarity(at(text, 9, 16), gold, text, "exact") == 1.0  # ' "yes" '
    assert span_similarity(sp(text, '"yes" ,'), gold, text, "exact") == 0.0  # the comma
    assert span_similarity(sp(text, "yes"), gold, text, "exact") == 0.0  # the quote marks


def test_whitespace_only_spans_match_nothing() -> None:
    text = "a   b"
    blank = at(text, 1, 4)
    for criterion in ("exact", "iou", "token"):
        assert span_similarity(blank, blank, text, criterion) == 0.0
    assert span_similarity(at(text, 2, 2), at(text, 2, 2), text, "exact") == 0.0


# --- iou ----------------------------------------------------------------------------------


def test_iou_counts_only_non_whitespace_characters() -> None:
    # "ab      cd": the gold span has 10 characters but only 4 non-whitespace ones.
    text = "ab      cd"
    gold = at(text, 0, 10)
    # "ab" shares 2 of the 4 non-space characters: 2/4 = 0.5 (character IoU would be 2/10).
    assert span_similarity(sp(text, "ab"), gold, text, "iou") == 0.5
    # Trailing or leading whitespace changes nothing: "ab   " has the same 2 of 4.
    assert span_similarity(at(text, 0, 5), gold, text, "iou") == 0.5
    # "b      cd" (3 non-space of 4) -> 3/4.
    assert span_similarity(at(text, 1, 10), gold, text, "iou") == 0.75


def test_iou_whitespace_only_difference_is_a_full_match() -> None:
    text = "He said  the   plan  works ."
    gold = sp(text, "the   plan  works")
    padded = at(text, gold.start - 2, gold.end + 1)  # "  the   plan  works "
    assert span_similarity(padded, gold, text, "iou") == 1.0
    # exact strips only the ends, so it agrees here ...
    assert span_similarity(padded, gold, text, "exact") == 1.0
    # ... but not once the period (a non-space character) is in; IoU stays high:
    # the+plan+works = 12 non-space characters, plus "." = 13 -> 12/13.
    assert span_similarity(at(text, gold.start, len(text)), gold, text, "exact") == 0.0
    assert span_similarity(at(text, gold.start, len(text)), gold, text, "iou") == 12 / 13


def test_iou_threshold_is_inclusive_and_just_below_fails() -> None:
    text = "abcd efgh"
    gold = at(text, 0, 9)  # 8 non-space characters
    assert span_similarity(sp(text, "abcd"), gold, text, "iou") == 0.5  # 4/8
    assert span_similarity(sp(text, "abc"), gold, text, "iou") == 0.0  # 3/8


# --- token --------------------------------------------------------------------------------


def test_tokens_are_words_and_punctuation_by_position() -> None:
    text = 'He said: "no way."'
    # tokens: He said : " no way . "
    assert list(token_indices(sp(text, 'said: "no'), text)) == [1, 2, 3, 4]
    assert list(token_indices(sp(text, "ai"), text)) == [1]  # part of a word holds the word
    assert list(token_indices(at(text, 2, 3), text)) == []  # a space holds no token


def test_token_criterion_needs_one_shared_token_and_scores_jaccard() -> None:
    text = "Officials said the bridge will close on Monday."
    gold = sp(text, "the bridge will close")  # the bridge will close
    pred = sp(text, "close on Monday.")  # close on Monday .
    # shared: "close"; union: 4 + 4 - 1 = 7 tokens.
    assert span_similarity(pred, gold, text, "token") == pytest.approx(1 / 7)
    assert span_similarity(sp(text, "on Monday"), gold, text, "token") == 0.0
    assert span_similarity(pred, gold, text, "iou") == 0.0
    assert span_similarity(pred, gold, text, "exact") == 0.0


def test_overlap_ignores_shared_whitespace() -> None:
    text = "ab cd"
    assert not spans_overlap(at(text, 0, 3), at(text, 2, 5), text)  # they share only " "
    assert spans_overlap(at(text, 0, 4), at(text, 3, 5), text)


def test_unknown_criterion_is_an_error() -> None:
    text = "a"
    with pytest.raises(ValueError, match="unknown span criterion"):
        span_similarity(at(text, 0, 1), at(text, 0, 1), text, "fuzzy")  # type: ignore[arg-type]


# --- match --------------------------------------------------------------------------------


def test_match_three_gold_two_pred_one_partial() -> None:
    text = "Ann said yes. Bob said no. Cy said maybe."
    gold = [sp(text, "yes"), sp(text, "no"), sp(text, "maybe")]
    pred = [sp(text, "maybe"), sp(text, "Bob said no")]  # exact; partial overlap with "no"
    # exact: only "maybe" pairs -> 1 tp, 1 fp, 2 fn: P = 1/2, R = 1/3, F1 = 0.4.
    assert match(pred, gold, text, "exact") == [(0, 2)]
    # iou: "no" is 2 of the 9 non-space characters of "Bob said no" -> 0.22 < 0.5.
    assert match(pred, gold, text, "iou") == [(0, 2)]
    # token: "no" is shared -> both pair.
    assert match(pred, gold, text, "token") == [(0, 2), (1, 1)]


def test_match_is_one_to_one() -> None:
    text = "the plan"
    gold = [at(text, 0, 8)]
    pred = [at(text, 0, 8), at(text, 0, 8)]  # a duplicated prediction matches once
    assert match(pred, gold, text, "exact") == [(0, 0)]
    assert match([], gold, text, "exact") == []
    assert match(pred, [], text, "exact") == []


def test_optimal_assignment_beats_greedy() -> None:
    text = "w0 w1 w2 w3"
    gold = [sp(text, "w1"), sp(text, "w2 w3")]
    pred = [sp(text, "w1 w2"), sp(text, "w1")]
    # similarities (token Jaccard):    gold "w1"   gold "w2 w3"
    #   pred "w1 w2"                     1/2          1/3
    #   pred "w1"                        1            0
    # Greedy (each prediction takes its best free gold, in order) pairs "w1 w2" with "w1",
    # leaving "w1" without a partner: 1 match. The assignment pairs both: 2 matches.
    greedy: list[tuple[int, int]] = []
    for p, span in enumerate(pred):
        free = [g for g in range(len(gold)) if g not in {pair[1] for pair in greedy}]
        best = max(free, key=lambda g: span_similarity(span, gold[g], text, "token"))
        if span_similarity(span, gold[best], text, "token") > 0:
            greedy.append((p, best))
    assert len(greedy) == 1
    assert match(pred, gold, text, "token") == [(0, 1), (1, 0)]


def test_more_pairs_win_over_a_higher_total_similarity() -> None:
    text = "t0 t1 t2 t3 t4 t5 t6 t7 t8 t9"
    gold = [sp(text, "t0 t1 t2 t3 t4 t5 t6 t7 t8"), sp(text, "t8 t9")]
    pred = [sp(text, "t0 t1 t2 t3 t4 t5 t6 t7 t8"), sp(text, "t0")]
    # pred0-gold0 = 1.0 alone beats pred0-gold1 (1/10) + pred1-gold0 (1/9) on total
    # similarity, but the latter pairs two predictions, which is what counts for F1.
    assert match(pred, gold, text, "token") == [(0, 1), (1, 0)]
    # Among pairings of the same size, the higher total similarity wins.
    assert match(pred[:1], gold, text, "token") == [(0, 0)]
