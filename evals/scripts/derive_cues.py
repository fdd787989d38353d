"""Derive cue words from a gold file's attributions (``llmextract/candidates/cues.txt``).

Counts, over the gold quotes of a train split (PolNeAR **train**: never the split results
are reported on), the cue of every attribution the quote finder misses (no candidate with
content IoU >= 0.5), and how often the same word occurs in the articles at all. A cue is
written when it is a single word the finder does not know yet, cues at least ``--min-cues``
missed attributions, and is a cue in at least ``--min-share`` of its occurrences in the
text (so that "like" or "has" never become cues):

    python evals/scripts/derive_cues.py evals/gold/converted/polnear-train.jsonl
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from train_gold import documents, frequent_cues, iou, write_cues

from llmextract.candidates import lexicons, mentions, quotes

OUTPUT = Path(__file__).resolve().parents[2] / "llmextract" / "candidates" / "cues.txt"
_WORD = re.compile(r"[A-Za-z]+")


def _without_derived_cues() -> None:
    """Make the finders use the cue forms without the derived ones: what is derived must not
    depend on the list it replaces."""
    base = [form for form in lexicons.CUE_FORMS if form not in set(lexicons.DERIVED_CUES)]
    cue = re.compile(
        lexicons.CUE.pattern.replace(
            lexicons.alternation(lexicons.CUE_FORMS), lexicons.alternation(base)
        )
    )
    quotes.CUE = mentions.CUE = cue


def count(gold: Path) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """(missed attributions per cue word, attributions per cue word, occurrences per word)."""
    _without_derived_cues()
    missed: Counter[str] = Counter()
    cued: Counter[str] = Counter()
    words: Counter[str] = Counter()
    for document in documents(gold):
        text = document["text"]
        words.update(w.lower() for w in _WORD.findall(text))
        found = [(c.start, c.end) for c in quotes.find_quotes(text)]
        for quote in document.get("quotes", []):
            cue = (quote.get("cue") or {}).get("text", "").strip().lower()
            if not _WORD.fullmatch(cue):
                continue
            cued[cue] += 1
            span = (quote["content"]["start"], quote["content"]["end"])
            if not any(iou(span, f) >= 0.5 for f in found):
                missed[cue] += 1
    return missed, cued, words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path, help="gold JSONL of a train split")
    parser.add_argument("--min-cues", type=int, default=5)
    parser.add_argument("--min-share", type=float, default=0.2)
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    missed, cued, words = count(args.gold)
    derived = set(lexicons.DERIVED_CUES)
    known = {form.lower() for form in lexicons.CUE_FORMS if form not in derived}
    rows = frequent_cues(
        missed, cued, words, min_cues=args.min_cues, min_share=args.min_share, known=known
    )
    header = (
        f"# Cue words of attributions the quote finder missed on {args.gold.name}: at least "
        f"{args.min_cues} missed, a cue in at least {args.min_share:.0%} of their occurrences.\n"
        "# Made by evals/scripts/derive_cues.py; columns: word, missed, cues, occurrences.\n"
    )
    write_cues(args.output, header, rows, "cue words")


if __name__ == "__main__":
    main()
