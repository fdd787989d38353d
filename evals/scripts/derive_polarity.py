"""Derive a word polarity lexicon from NewsMTSC train (``llmextract/candidates/polarity.tsv``).

Counts, over the sentences of NewsMTSC **train** whose targets are all positive (6.0) or
all negative (2.0), each lower-cased word's sentences on either side, and writes the words
seen in at least ``--min-count`` such sentences with their smoothed log-odds of positive
over negative (positive: favourable words, negative: unfavourable), where
``|log-odds| >= --min-score``. The threshold above which a phrase's mean word score means
"support" is the one of best macro-F1 (positive vs negative) on the other half of train
(lexicon from the even sentences, threshold on the odd ones), written in the header.

    python evals/scripts/derive_polarity.py /path/to/newsmtsc/train.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import Counter
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[2] / "llmextract" / "candidates" / "polarity.tsv"
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def sentences(path: Path) -> list[tuple[set[str], bool]]:
    """(words, positive) of the sentences whose targets agree on positive or negative."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        labels = {t["polarity"] for t in record["targets"]}
        if labels in ({2.0}, {6.0}):
            words = set(_WORD.findall(record["sentence_normalized"].lower()))
            out.append((words, labels == {6.0}))
    return out


def lexicon(
    data: list[tuple[set[str], bool]], min_count: int, min_score: float
) -> dict[str, float]:
    """Word -> smoothed log-odds of positive over negative sentences."""
    pos, neg = Counter[str](), Counter[str]()
    for words, positive in data:
        (pos if positive else neg).update(words)
    n_pos = sum(1 for _, p in data if p)
    n_neg = len(data) - n_pos
    scores = {}
    for word in pos.keys() | neg.keys():
        if pos[word] + neg[word] < min_count:
            continue
        score = math.log((pos[word] + 1) / (n_pos + 2)) - math.log((neg[word] + 1) / (n_neg + 2))
        if abs(score) >= min_score:
            scores[word] = round(score, 3)
    return scores


def phrase_score(words: set[str], scores: dict[str, float]) -> float:
    """The mean score of the known words (0 with none): a phrase is shorter than the
    sentences the threshold is chosen on, so a sum would not carry over."""
    known = [scores[w] for w in words if w in scores]
    return sum(known) / len(known) if known else 0.0


def macro_f1(data: list[tuple[set[str], bool]], scores: dict[str, float], cut: float) -> float:
    """Macro-F1 of positive/negative when a summed score above ``cut`` means positive."""
    pairs = [(phrase_score(words, scores) > cut, gold) for words, gold in data]
    f1s = []
    for label in (True, False):
        tp = sum(1 for p, g in pairs if p == label and g == label)
        fp = sum(1 for p, g in pairs if p == label and g != label)
        fn = sum(1 for p, g in pairs if p != label and g == label)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", type=Path, help="NewsMTSC train.jsonl")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--min-score", type=float, default=0.5)
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    data = sentences(args.train)
    held = lexicon(data[::2], args.min_count, args.min_score)
    cuts = [c / 20 for c in range(-40, 41)]
    cut = max(cuts, key=lambda c: (macro_f1(data[1::2], held, c), -abs(c)))
    scores = lexicon(data, args.min_count, args.min_score)
    lines = [
        "# Written by evals/scripts/derive_polarity.py from NewsMTSC train: do not edit.",
        f"# threshold\t{cut}",
        *(f"{word}\t{score}" for word, score in sorted(scores.items())),
    ]
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(
        f"{len(scores)} words, threshold {cut} "
        f"(held-out macro-F1 {macro_f1(data[1::2], held, cut):.3f}) -> {args.output}"
    )


if __name__ == "__main__":
    main()
