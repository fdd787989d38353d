"""What the derivation and counting scripts share: a gold file's documents, span overlap."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def documents(gold: Path) -> Iterator[dict[str, Any]]:
    """The documents of a gold JSONL file (``llmextract convert``'s output), as dicts."""
    with gold.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Intersection over union of two character spans."""
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union else 0.0
