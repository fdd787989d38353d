"""Token overlap of predicted and gold spans (``quotes.content_token``), BBC citron style.

Pure: no I/O, no client.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from llmextract.evaluation.counts import TokenCounts
from llmextract.evaluation.matching import token_ranges
from llmextract.schemas import Span

__all__ = ["token_prf"]

IntArray = npt.NDArray[np.int64]


def token_prf(pred: Sequence[Span], gold: Sequence[Span], text: str) -> TokenCounts:
    """Token-level overlap of predicted and gold spans, as in BBC citron's overlap metrics.

    Tokens are ``\\w+|[^\\w\\s]`` over ``text``; a span holds the tokens it overlaps.
    Precision is the predicted tokens that fall inside any gold span over all predicted
    tokens (counted per predicted span, so a duplicated prediction counts twice); recall is
    the gold tokens covered by any prediction over all gold tokens (counted per gold span).

    >>> text = "She said the tax would rise next year."
    >>> gold = [Span(text="the tax would rise", start=9, end=27)]       # 4 tokens
    >>> pred = [Span(text="tax would rise next year.", start=13, end=38)]  # 6 tokens
    >>> counts = token_prf(pred, gold, text)  # 3 shared: tax, would, rise
    >>> counts
    TokenCounts(pred_in_gold=3, pred_total=6, gold_covered=3, gold_total=4)
    >>> counts.precision, counts.recall, round(counts.f1, 4)
    (0.5, 0.75, 0.6)
    """
    pred_tokens = token_ranges(pred, text)
    gold_tokens = token_ranges(gold, text)
    size = int(max(pred_tokens[:, 1].max(initial=0), gold_tokens[:, 1].max(initial=0)))
    in_gold = _covered(gold_tokens, size)
    in_pred = _covered(pred_tokens, size)
    return TokenCounts(
        pred_in_gold=int((in_gold[pred_tokens[:, 1]] - in_gold[pred_tokens[:, 0]]).sum()),
        pred_total=int((pred_tokens[:, 1] - pred_tokens[:, 0]).sum()),
        gold_covered=int((in_pred[gold_tokens[:, 1]] - in_pred[gold_tokens[:, 0]]).sum()),
        gold_total=int((gold_tokens[:, 1] - gold_tokens[:, 0]).sum()),
    )


def _covered(ranges: IntArray, size: int) -> IntArray:
    """``covered[i]``: how many of the first ``i`` tokens some range holds."""
    opened = np.bincount(ranges[:, 0], minlength=size + 1)
    closed = np.bincount(ranges[:, 1], minlength=size + 1)
    depth = np.cumsum(opened - closed)  # how many ranges hold each token
    return np.concatenate(([0], np.cumsum(depth[:size] > 0)))
