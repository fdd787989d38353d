"""What the derivation and counting scripts share: a gold file's documents, span overlap,
and the rule and file format of derived cues."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Set
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


Row = tuple[str, int, int, int]  # cue, attributions missed, attributions cued, occurrences


def frequent_cues(
    missed: Counter[str],
    cued: Counter[str],
    occurrences: Counter[str],
    *,
    min_cues: int,
    min_share: float,
    known: Set[str] = frozenset(),
) -> list[Row]:
    """The cues not ``known`` that cue at least ``min_cues`` missed attributions and are a
    cue in at least ``min_share`` of their occurrences (so that "like" never becomes one)."""
    return [
        (cue, n, cued[cue], occurrences[cue])
        for cue, n in missed.most_common()
        if cue not in known and n >= min_cues and cued[cue] >= min_share * occurrences[cue]
    ]


def write_cues(output: Path, header: str, rows: list[Row], what: str) -> None:
    """``rows`` under ``header`` into ``output``, sorted, and what was written to stdout."""
    lines = [f"{c}\t{n}\t{k}\t{o}\n" for c, n, k, o in sorted(rows)]
    output.write_text(header + "".join(lines), encoding="utf-8")
    print(f"{len(rows)} {what} -> {output}")
    for row in rows:
        print(*row, sep="\t")
