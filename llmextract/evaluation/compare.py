"""``llmextract compare``: two run records paired by document, each metric's F1 change with a
paired-bootstrap interval, a verdict, and the documents that flipped."""

from __future__ import annotations

from dataclasses import dataclass

from llmextract.errors import InputError
from llmextract.evaluation.record import RunRecord
from llmextract.evaluation.table import ScoreTable

__all__ = ["CompareRow", "Comparison", "Flip", "compare_runs"]

FLIPS_KEPT = 20  # documents listed per metric, the largest changes first


@dataclass(frozen=True)
class Flip:
    """A document whose F1 on a metric changed: its F1 in run A and in run B."""

    id: str
    a: float
    b: float


@dataclass(frozen=True)
class CompareRow:
    """One metric: F1 in A and B, the change B - A with its paired-bootstrap 95% interval,
    the share of resamples where B is below A, and the documents that flipped."""

    metric: str
    a: float
    b: float
    delta: float
    ci: tuple[float, float]
    p_worse: float
    significantly_worse: bool  # the whole interval below zero
    significantly_better: bool  # the whole interval above zero
    flipped: list[Flip]

    @property
    def verdict(self) -> str:
        if self.significantly_worse:
            return "worse"
        return "better" if self.significantly_better else "no clear change"


@dataclass(frozen=True)
class Comparison:
    a: str  # the runs' names
    b: str
    rows: list[CompareRow]

    def row(self, metric: str) -> CompareRow | None:
        return next((row for row in self.rows if row.metric == metric), None)

    def to_markdown(self) -> str:
        """The table ``llmextract compare`` prints."""
        lines = [
            "| metric | A | B | delta | 95% CI | P(B<A) | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in self.rows:
            low, high = row.ci
            lines.append(
                f"| {row.metric} | {row.a:.3f} | {row.b:.3f} | {row.delta:+.3f} | "
                f"{low:+.3f} to {high:+.3f} | {row.p_worse:.2f} | {row.verdict} |"
            )
        return "\n".join(lines) + "\n"

    def flip_lines(self, shown: int = 5) -> list[str]:
        """Per metric that changed significantly, the documents that changed most."""
        return [
            f"{row.metric} flipped: "
            + ", ".join(f"{f.id} {f.a:.2f}->{f.b:.2f}" for f in row.flipped[:shown])
            for row in self.rows
            if row.flipped and (row.significantly_worse or row.significantly_better)
        ]


def compare_runs(a: RunRecord, b: RunRecord, *, samples: int = 1000) -> Comparison:
    """Per-metric F1 deltas (B - A) with paired-bootstrap intervals, and flipped documents."""
    a_ids = {score.id for score in a.scores()}
    b_ids = {score.id for score in b.scores()}
    if a_ids != b_ids:
        raise InputError(
            f"the runs scored different documents ({len(a_ids)} vs {len(b_ids)}, "
            f"{len(a_ids ^ b_ids)} differ): compare runs made on the same gold file and --limit"
        )
    keys = sorted(set(a.metrics) & set(b.metrics))
    a_table, b_table = a.table(), b.table()
    try:
        deltas = a_table.deltas(b_table, keys, samples=samples)
    except ValueError as error:
        raise InputError(
            f"{error}: compare runs made on the same gold file, --limit and tasks"
        ) from None
    rows = []
    for key in keys:
        delta, low, high, p_worse = deltas[key]
        rows.append(
            CompareRow(
                metric=key,
                a=a.metrics[key].f1,
                b=b.metrics[key].f1,
                delta=round(delta, 4),
                ci=(round(low, 4), round(high, 4)),
                p_worse=round(p_worse, 4),
                significantly_worse=high < 0,
                significantly_better=low > 0,
                flipped=_flipped(a_table, b_table, key),
            )
        )
    return Comparison(a.name, b.name, rows)


def _flipped(a: ScoreTable, b: ScoreTable, key: str) -> list[Flip]:
    """Documents whose F1 on ``key`` changed, worst change first."""
    after = dict(b.document_f1(key))
    changed = []
    for doc, was in a.document_f1(key):
        now = after.get(doc, 0.0)
        if abs(now - was) > 1e-9:
            changed.append((now - was, Flip(doc, round(was, 4), round(now, 4))))
    return [flip for _, flip in sorted(changed, key=lambda pair: pair[0])[:FLIPS_KEPT]]
