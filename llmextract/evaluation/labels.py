"""Per-class scores of a label field (kind, type, polarity), from its confusion matrix.

Pure: no I/O, no client.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmextract.evaluation.counts import Counts
from llmextract.evaluation.fields import MISSED, SPURIOUS

__all__ = ["label_scores"]


def label_scores(matrix: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Per-class P/R/F1 and their macro mean from a :func:`confusion` matrix.

    The classes are the gold labels (:data:`MISSED` and :data:`SPURIOUS` are not classes):
    a gold record left without a prediction is a false negative of its class, a spurious
    prediction a false positive of its label. This is the score of a classification run,
    where every gold record is offered to the model (``eval --given-spans``).

    >>> matrix = {"oppose": {"oppose": 8, "support": 1, MISSED: 1}, "support": {"oppose": 2}}
    >>> scores = label_scores(matrix)
    >>> scores["per_class"]["oppose"]
    {'precision': 0.8, 'recall': 0.8, 'f1': 0.8, 'support': 10}
    >>> scores["per_class"]["support"]["f1"], scores["macro_f1"]
    (0.0, 0.4)
    """
    classes = sorted(label for label in matrix if label not in (MISSED, SPURIOUS))
    per_class: dict[str, dict[str, float | int]] = {}
    for label in classes:
        tp = matrix[label].get(label, 0)
        gold = sum(matrix[label].values())
        predicted = sum(row.get(label, 0) for row in matrix.values())
        counts = Counts(tp=tp, fp=predicted - tp, fn=gold - tp)
        per_class[label] = {
            "precision": round(counts.precision, 4),
            "recall": round(counts.recall, 4),
            "f1": round(counts.f1, 4),
            "support": gold,
        }
    macro = float(np.mean([c["f1"] for c in per_class.values()])) if per_class else 0.0
    return {"per_class": per_class, "macro_f1": round(macro, 4)}
