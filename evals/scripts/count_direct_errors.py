"""Count the rule candidates' DIRECT errors on a gold file, by kind, for the quote finder's rules.

Counted over a train split (PolNeAR **train**: never the split results are reported on),
reproducibly (no sampling), with the metric's own DIRECT test and matching
(:func:`~llmextract.evaluation.direct.is_direct`, IoU >= 0.5 one-to-one):

* false positives (DIRECT candidates matching no DIRECT gold content), by how they meet
  gold: inside a longer gold content (a fragment of a reported clause), touching no gold
  content, or overlapping otherwise; for each kind, whether the candidate has a cue and
  whether another candidate matches the gold content it sits in;
* misses (DIRECT gold contents no DIRECT candidate matches): overlapped by a candidate or not.

With ``--show N`` it prints N examples of each kind (candidate, then gold, with context).

    python evals/scripts/count_direct_errors.py evals/gold/converted/polnear-train.jsonl
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

from train_gold import documents

from llmextract.candidates.quotes import QuoteCandidate, find_quotes
from llmextract.evaluation.direct import is_direct
from llmextract.evaluation.matching import match, span_similarity
from llmextract.schemas import Span


def _span(text: str, start: int, end: int) -> Span:
    return Span(text=text[start:end], start=start, end=end)


def _kind(cand: QuoteCandidate, gold: list[Span], all_cands: list[Span], text: str) -> str:
    touching = [g for g in gold if g.start < cand.end and cand.start < g.end]
    cue = "cue" if cand.cue is not None else "no cue"
    if not touching:
        return f"touches no gold ({cue})"
    inside = [g for g in touching if g.start <= cand.start and cand.end <= g.end]
    if inside:
        g = inside[0]
        covered = any(span_similarity(c, g, text, "iou") >= 0.5 for c in all_cands)
        other = "gold matched by another candidate" if covered else "gold not matched"
        return f"inside a longer gold ({cue}; {other})"
    return f"overlaps otherwise ({cue})"


def count(path: Path, show: int) -> tuple[Counter[str], dict[str, list[str]]]:
    """(error kinds, up to ``show`` examples of each)."""
    kinds: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for document in documents(path):
        text = document["text"]
        gold = [
            _span(text, q["content"]["start"], q["content"]["end"])
            for q in document.get("quotes", [])
        ]
        cands = find_quotes(text)
        spans = [_span(text, c.start, c.end) for c in cands]
        pred_d = [i for i, s in enumerate(spans) if is_direct(s, text)]
        gold_d = [g for g in gold if is_direct(g, text)]
        pairs = match([spans[i] for i in pred_d], gold_d, text, "iou")
        matched_p = {p for p, _ in pairs}
        matched_g = {g for _, g in pairs}
        for k, i in enumerate(pred_d):
            if k in matched_p:
                continue
            kind = "FP " + _kind(cands[i], gold, spans, text)
            kinds[kind] += 1
            if len(examples[kind]) < show:
                c = cands[i]
                near = [g for g in gold if g.start < c.end + 200 and c.start - 200 < g.end]
                examples[kind].append(
                    f"  cand [{c.kind}, cue {text[c.cue[0] : c.cue[1]] if c.cue else None}]: "
                    f"{text[max(0, c.start - 80) : c.start]!r} >>> {c.text!r}\n"
                    + "".join(f"    gold: {g.text!r}\n" for g in near)
                )
        for g_i, g in enumerate(gold_d):
            if g_i in matched_g:
                continue
            hit = any(s.start < g.end and g.start < s.end for s in spans)
            kind = "miss " + ("overlapped by a candidate" if hit else "no candidate")
            kinds[kind] += 1
    return kinds, examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path, help="gold JSONL of a train split")
    parser.add_argument("--show", type=int, default=0, help="examples of each kind to print")
    args = parser.parse_args()
    kinds, examples = count(args.gold, args.show)
    for key, n in sorted(kinds.items()):
        print(f"{key}\t{n}")
        for example in examples.get(key, []):
            print(example, end="")


if __name__ == "__main__":
    main()
