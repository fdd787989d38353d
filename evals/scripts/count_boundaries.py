"""Count where a gold file's quote contents start and end, for the quote finder's boundary rules.

Counted over the gold quotes of a train split (PolNeAR **train**: never the split results are
reported on), reproducibly (no sampling):

* ``that`` clauses: contents that start with ``that`` against contents that start right
  after it (the finder keeps the ``that``);
* quotations in parts: for each gold content holding two or more quotations (by the one
  quotation rule of :mod:`llmextract.quotation`), the longest frame between two of its
  parts, in characters (the finder joins parts across frames of up to 200 characters).

    python evals/scripts/count_boundaries.py evals/gold/converted/polnear-train.jsonl
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from itertools import pairwise
from pathlib import Path

from train_gold import documents

from llmextract.quotation import quotations

_AFTER_THAT = re.compile(r"\bthat\s+$", re.IGNORECASE)
_FRAME_BINS = (80, 200, 400)


def _bin(length: int) -> str:
    for top in _FRAME_BINS:
        if length <= top:
            return f"<= {top}"
    return f"> {_FRAME_BINS[-1]}"


def count(gold: Path) -> tuple[Counter[str], Counter[str]]:
    """(``that`` starts, longest frames between the parts of multi-part contents)."""
    starts: Counter[str] = Counter()
    frames: Counter[str] = Counter()
    for document in documents(gold):
        text = document["text"]
        outer = [q for q in quotations(text) if q.depth == 0]
        for quote in document.get("quotes", []):
            start, end = quote["content"]["start"], quote["content"]["end"]
            content = text[start:end]
            if content[:5].lower() == "that ":
                starts["starts with that"] += 1
            elif _AFTER_THAT.search(text[max(0, start - 6) : start]):
                starts["starts right after that"] += 1
            parts = [q for q in outer if start <= q.open + 1 and q.close <= end]
            if len(parts) >= 2:
                gaps = [b.open - a.close - 1 for a, b in pairwise(parts)]
                frames[_bin(max(gaps))] += 1
    return starts, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path, help="gold JSONL of a train split")
    args = parser.parse_args()
    starts, frames = count(args.gold)
    for key, n in starts.most_common():
        print(f"{key}\t{n}")
    print("contents in parts, longest frame between parts:")
    for key in [f"<= {top}" for top in _FRAME_BINS] + [f"> {_FRAME_BINS[-1]}"]:
        print(f"  {key}\t{frames[key]}")


if __name__ == "__main__":
    main()
