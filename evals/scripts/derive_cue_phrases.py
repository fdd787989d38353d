"""Derive cue phrases from a gold file's attributions (``llmextract/candidates/cue_phrases.txt``).

The multi-word companion of ``derive_cues.py``: counts, over the gold quotes of a train split
(PolNeAR **train**: never the split results are reported on), the cue of every attribution
the quote finder misses (no candidate with content IoU >= 0.5) when that cue is a phrase of
two or three words none of which the finder already takes for a cue (``is expected``,
``referring to``, ``made it clear``), and how often the phrase occurs in the articles at
all. A phrase is written when it cues at least ``--min-cues`` missed attributions and is a
cue in at least ``--min-share`` of its occurrences (the thresholds of the cue words):

    python evals/scripts/derive_cue_phrases.py evals/gold/converted/polnear-train.jsonl
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from train_gold import documents, frequent_cues, iou, write_cues

from llmextract.candidates import lexicons, mentions, quotes, speakers

OUTPUT = Path(__file__).resolve().parents[2] / "llmextract" / "candidates" / "cue_phrases.txt"
_PHRASE = re.compile(r"[a-z]+(?: [a-z]+){1,2}")


def _without_derived_phrases() -> re.Pattern[str]:
    """Make the finders use the cue forms without the derived phrases (what is derived must
    not depend on the list it replaces); returns that cue pattern."""
    phrases = set(lexicons.DERIVED_PHRASES)
    base = [form for form in lexicons.CUE_FORMS if form not in phrases]
    cue = re.compile(
        lexicons.CUE.pattern.replace(
            lexicons.alternation(lexicons.CUE_FORMS), lexicons.alternation(base)
        )
    )
    quotes.CUE = mentions.CUE = speakers.CUE = cue
    return cue


def count(gold: Path) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """(missed attributions per cue phrase, attributions per phrase, occurrences per phrase)."""
    cue = _without_derived_phrases()
    missed: Counter[str] = Counter()
    cued: Counter[str] = Counter()
    texts: list[str] = []
    for document in documents(gold):
        text = document["text"]
        texts.append(" ".join(text.lower().split()))
        found = [(c.start, c.end) for c in quotes.find_quotes(text)]
        for quote in document.get("quotes", []):
            phrase = " ".join((quote.get("cue") or {}).get("text", "").lower().split())
            if not _PHRASE.fullmatch(phrase) or cue.search(phrase):
                continue
            cued[phrase] += 1
            span = (quote["content"]["start"], quote["content"]["end"])
            if not any(iou(span, f) >= 0.5 for f in found):
                missed[phrase] += 1
    corpus = "\n".join(texts)
    occurrences = Counter(
        {p: len(re.findall(r"\b" + re.escape(p) + r"\b", corpus)) for p in missed}
    )
    return missed, cued, occurrences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path, help="gold JSONL of a train split")
    parser.add_argument("--min-cues", type=int, default=5)
    parser.add_argument("--min-share", type=float, default=0.2)
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    missed, cued, occurrences = count(args.gold)
    rows = frequent_cues(
        missed, cued, occurrences, min_cues=args.min_cues, min_share=args.min_share
    )
    header = (
        f"# Cue phrases of attributions the quote finder missed on {args.gold.name}: at least "
        f"{args.min_cues} missed, a cue in at least {args.min_share:.0%} of their occurrences.\n"
        "# Made by evals/scripts/derive_cue_phrases.py; columns: phrase, missed, cues, "
        "occurrences.\n"
    )
    write_cues(args.output, header, rows, "cue phrases")


if __name__ == "__main__":
    main()
