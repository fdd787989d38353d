"""Bootstrap intervals over documents: resampling per-document count rows, percentile intervals.

:class:`~llmextract.evaluation.table.ScoreTable` applies them to a corpus (its ``intervals``
and paired ``deltas``). Pure: no I/O, no client.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["percentile_interval", "resampled_sums"]

FloatArray = npt.NDArray[np.float64]


def percentile_interval(values: FloatArray, confidence: float) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


# Document draws held at once: bounds the memory of a bootstrap whatever the corpus size.
_DRAWS_AT_ONCE = 1 << 20


def resampled_sums(
    counts: FloatArray, samples: int, seed: int, *, draws_at_once: int = _DRAWS_AT_ONCE
) -> FloatArray:
    """Column sums of ``samples`` resamples of the rows of ``counts``, each drawing as many
    rows as there are, with replacement; the same ``seed`` draws the same resamples.

    Resamples are drawn a block at a time from one generator (the same numbers as drawing them
    all at once), and each block's sums are how often each row was drawn times the rows: every
    count is an integer, so the sums are exact whatever the order of addition.
    """
    if samples < 1:
        raise ValueError(f"samples must be at least 1, not {samples}")
    documents = len(counts)
    generator = np.random.default_rng(seed)
    sums = np.empty((samples, counts.shape[1]))
    block = max(1, draws_at_once // documents)
    for first in range(0, samples, block):
        rows = min(block, samples - first)
        draws = generator.integers(0, documents, size=(rows, documents))
        draws += np.arange(rows)[:, None] * documents  # row r's draws counted in row r
        times = np.bincount(draws.ravel(), minlength=rows * documents).reshape(rows, documents)
        sums[first : first + rows] = times @ counts
    return sums
