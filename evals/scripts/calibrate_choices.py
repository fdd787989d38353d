"""Calibrate the embedded model's confidence margins (``llmextract.choices``) on a train split.

The model's decisions about quote candidates are kept only when it prefers another option
than the code's default by a margin; this script scores a grid of margins on a gold file
(PolNeAR **train**: never the split the results are reported on) and prints, per margin,
content span F1, token F1 and speaker accuracy. The first run asks the model; the others
replay its answers (with their token probabilities) from the response cache, so the grid
costs one run. Declining (option 0) and choosing another speaker are calibrated apart:

    python evals/scripts/calibrate_choices.py evals/gold/converted/polnear-train.jsonl --limit 30
"""

from __future__ import annotations

import argparse
from pathlib import Path

from llmextract.choices import CONFIDENCE_MARGINS
from llmextract.evaluation.run import load_eval_config, run_eval
from llmextract.settings import Settings

NEVER = 1.1  # a margin above 1: the model never overrides the default


def scores(gold: Path, limit: int, margins: tuple[float, float]) -> tuple[float, float, float]:
    """(content span F1, token F1, speaker accuracy) of the model with ``margins``."""
    CONFIDENCE_MARGINS["quotes"] = margins
    config = load_eval_config(gold, tasks=["quotes"], limit=limit, samples=10)
    metrics = run_eval(config, settings=Settings.from_env()).metrics
    return (
        metrics["quotes.content"].f1,
        metrics["quotes.content_token"].f1,
        metrics["quotes.speaker"].recall,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path, help="gold JSONL of a train split")
    parser.add_argument("--limit", type=int, default=30, help="first N documents")
    parser.add_argument(
        "--grid", type=float, nargs="+", default=[0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, NEVER]
    )
    args = parser.parse_args()
    print("decline margin | other-speaker margin | span F1 | token F1 | speaker accuracy")
    runs = [(m, NEVER) for m in args.grid] + [(NEVER, m) for m in args.grid if m != NEVER]
    for margins in runs:
        span, token, speaker = scores(args.gold, args.limit, margins)
        print(f"{margins[0]:.2f} | {margins[1]:.2f} | {span:.4f} | {token:.4f} | {speaker:.4f}")


if __name__ == "__main__":
    main()
