"""Scores: per-document counts per field, aggregation, bootstrap intervals, confusion matrices.

Every count is computed from one document alone (:func:`score_document`), so a corpus score is
a sum over documents and documents can be resampled (:func:`bootstrap`,
:func:`paired_bootstrap`). Fields, keyed ``task.field`` once aggregated:

``quotes``
    ``content`` (content spans, matched one-to-one), ``content_direct`` (the same on the
    DIRECT subset alone: see :func:`is_direct`), ``content_token`` (token overlap of content
    spans, BBC citron style: see :func:`token_prf`), and, over matched quotes, ``speaker``,
    ``cue`` and ``kind``.
``events``
    ``trigger`` (trigger spans, whatever the type), ``type`` (trigger matched *and* same PLOVER
    type; gold events and predictions without a type are left out), over matched triggers one
    field per argument role: ``arg:actor``, ``arg:recipient``, ``arg:location``, ``arg:time``, and
    ``arguments``: all roles end to end (arguments of missed and spurious events count too).
``stances``
    ``evidence`` (evidence spans), and, over matched stances, ``holder``, ``target`` and
    ``polarity``.

Attribute fields scored over matched pairs (``speaker``, ``cue``, ``holder``) count only the
gold side: a pair whose gold has the attribute is a true positive when the prediction gets it
right and a false negative otherwise, and a pair whose gold lacks it counts nothing, so their
recall is the attribution accuracy and their precision is 1 (or 0 when nothing counted).
Label fields over matched pairs (``kind``, ``target``, ``polarity``) count a wrong label as
both a false positive and a false negative. Argument roles count a predicted argument that
misses as both, a missing one as a false negative and one the gold lacks as a false positive.

Results are dataclasses of numbers and strings: ``dataclasses.asdict`` makes them JSON-ready.
Pure: no I/O, no client.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from llmextract.evaluation.gold import GoldDocument, GoldEvent
from llmextract.evaluation.matching import SpanCriterion, match, spans_overlap, token_ranges
from llmextract.quotation import QUOTE_MARKS, quoted_mask
from llmextract.schemas import DocumentResult, Event, Quote, Span, Stance, Task

__all__ = [
    "ARGUMENT_ROLES",
    "FIELDS",
    "MISSED",
    "SPURIOUS",
    "Counts",
    "DocumentScore",
    "FieldResult",
    "ScoreTable",
    "TokenCounts",
    "aggregate",
    "bootstrap",
    "confusion",
    "is_direct",
    "label_scores",
    "paired_bootstrap",
    "score_document",
    "score_result",
    "token_prf",
]

MISSED = "MISSED"
SPURIOUS = "SPURIOUS"
ARGUMENT_ROLES = ("actor", "recipient", "location", "time")
FIELDS: dict[str, tuple[str, ...]] = {
    "quotes": ("content", "content_direct", "content_token", "speaker", "cue", "kind"),
    "events": ("trigger", "type", *(f"arg:{role}" for role in ARGUMENT_ROLES), "arguments"),
    "stances": ("evidence", "holder", "target", "polarity"),
}
TARGET_OVERLAP = 0.5
_WORD = re.compile(r"\w+")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


@dataclass
class Counts:
    """True positives, false positives and false negatives of one field.

    >>> counts = Counts(tp=1, fp=1, fn=2) + Counts()
    >>> counts.precision, round(counts.recall, 3), counts.f1
    (0.5, 0.333, 0.4)
    >>> Counts().f1
    0.0
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


@dataclass
class TokenCounts:
    """Token overlap of predicted and gold spans (see :func:`token_prf`).

    >>> counts = TokenCounts(pred_in_gold=3, pred_total=4, gold_covered=3, gold_total=6)
    >>> counts.precision, counts.recall, round(counts.f1, 3)
    (0.75, 0.5, 0.6)
    """

    pred_in_gold: int = 0
    pred_total: int = 0
    gold_covered: int = 0
    gold_total: int = 0

    @property
    def precision(self) -> float:
        return _ratio(self.pred_in_gold, self.pred_total)

    @property
    def recall(self) -> float:
        return _ratio(self.gold_covered, self.gold_total)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    @property
    def total(self) -> int:
        return self.pred_total + self.gold_total

    def __add__(self, other: TokenCounts) -> TokenCounts:
        return TokenCounts(
            self.pred_in_gold + other.pred_in_gold,
            self.pred_total + other.pred_total,
            self.gold_covered + other.gold_covered,
            self.gold_total + other.gold_total,
        )


@dataclass
class DocumentScore:
    """Counts of one task in one document.

    ``counts`` is keyed by field (``"content"``, ``"arg:actor"``...), ``tokens`` holds the
    content token overlap for quotes (``None`` for the other tasks), and ``pairs`` holds
    ``(gold label, predicted label)`` per label field (``"kind"``, ``"type"``,
    ``"polarity"``), with :data:`MISSED` / :data:`SPURIOUS` for unmatched records.
    """

    id: str
    task: str
    counts: dict[str, Counts]
    tokens: TokenCounts | None = None
    pairs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


@dataclass
class FieldResult:
    """A field over a corpus: micro scores from summed counts, and the macro F1.

    ``macro_f1`` is the mean per-document F1 over the ``scored_documents`` that have any gold
    or predicted item for the field; ``documents`` counts all documents of the task. For
    ``quotes.content_token``, ``tp`` is the predicted tokens inside gold, ``fp`` the others
    and ``fn`` the gold tokens no prediction covers; ``tokens`` has the raw token counts.
    """

    precision: float
    recall: float
    f1: float
    macro_f1: float
    tp: int
    fp: int
    fn: int
    documents: int
    scored_documents: int
    tokens: TokenCounts | None = None


# --- token overlap ------------------------------------------------------------------------


def token_prf(pred: Sequence[Span], gold: Sequence[Span], text: str) -> TokenCounts:
    """Token-level overlap of predicted and gold spans, as in BBC citron's overlap metrics.

    Tokens are ``\\w+|[^\\w\\s]`` over ``text``; a span holds the tokens it overlaps.
    Precision is the predicted tokens that fall inside any gold span over all predicted
    tokens (counted per predicted span, so a duplicated prediction counts twice); recall is
    the gold tokens covered by any prediction over all gold tokens (counted per gold span).

    >>> text = "She said the tax would rise next year."
    >>> gold = [Span(text="the tax would rise", start=9, end=27)]       # 4 tokens
    >>> pred = [Span(text="tax would rise next year.", start=13, end=38)]  # 6 tokens
    >>> counts = token_prf(pred, gold, text)  # 3 shared: tax, would, rise
    >>> counts
    TokenCounts(pred_in_gold=3, pred_total=6, gold_covered=3, gold_total=4)
    >>> counts.precision, counts.recall, round(counts.f1, 4)
    (0.5, 0.75, 0.6)
    """
    pred_tokens = token_ranges(pred, text)
    gold_tokens = token_ranges(gold, text)
    size = int(max(pred_tokens[:, 1].max(initial=0), gold_tokens[:, 1].max(initial=0)))
    in_gold = _covered(gold_tokens, size)
    in_pred = _covered(pred_tokens, size)
    return TokenCounts(
        pred_in_gold=int((in_gold[pred_tokens[:, 1]] - in_gold[pred_tokens[:, 0]]).sum()),
        pred_total=int((pred_tokens[:, 1] - pred_tokens[:, 0]).sum()),
        gold_covered=int((in_pred[gold_tokens[:, 1]] - in_pred[gold_tokens[:, 0]]).sum()),
        gold_total=int((gold_tokens[:, 1] - gold_tokens[:, 0]).sum()),
    )


def _covered(ranges: IntArray, size: int) -> IntArray:
    """``covered[i]``: how many of the first ``i`` tokens some range holds."""
    opened = np.bincount(ranges[:, 0], minlength=size + 1)
    closed = np.bincount(ranges[:, 1], minlength=size + 1)
    depth = np.cumsum(opened - closed)  # how many ranges hold each token
    return np.concatenate(([0], np.cumsum(depth[:size] > 0)))


# --- the DIRECT subset ---------------------------------------------------------------------


def is_direct(span: Span, text: str) -> bool:
    """Whether a quote content is in the DIRECT subset.

    It is when it contains a quotation mark (``"``, ``\u201c``, ``\u201d`` or ``\u201e``),
    or starts or ends inside a quotation as :mod:`llmextract.quotation` finds them (the rule
    the candidates and the gold converters use). The same test applies to gold and predicted
    contents.

    >>> text = 'He said "we will win" and left. Then: no.'
    >>> is_direct(Span(text="we will win", start=9, end=20), text)
    True
    >>> is_direct(Span(text='"we will win"', start=8, end=21), text)
    True
    >>> is_direct(Span(text="Then: no.", start=32, end=41), text)
    False
    """
    if not QUOTE_MARKS.isdisjoint(span.text):
        return True
    quoted = quoted_mask(text)
    last = max(span.start, span.end - 1)
    return any(0 <= i < len(quoted) and quoted[i] for i in (span.start, last))


# --- one document ---------------------------------------------------------------------------


def _same_name(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.strip().casefold() == b.strip().casefold())


def _attribution(
    counts: Counts,
    pred_span: Span | None,
    pred_name: str | None,
    gold_span: Span | None,
    gold_name: str | None,
    text: str,
) -> None:
    """Count who a matched record is attributed to: tp if right, fn if wrong or missing."""
    if gold_span is None and not gold_name:
        return
    right = (
        pred_span is not None
        and gold_span is not None
        and spans_overlap(pred_span, gold_span, text)
    ) or any(
        _same_name(p, g)
        for p in (pred_span.text if pred_span else None, pred_name)
        for g in (gold_span.text if gold_span else None, gold_name)
    )
    if right:
        counts.tp += 1
    else:
        counts.fn += 1


def _label(counts: Counts, right: bool) -> None:
    if right:
        counts.tp += 1
    else:
        counts.fp += 1
        counts.fn += 1


def _span_counts(matched: int, pred: int, gold: int) -> Counts:
    return Counts(tp=matched, fp=pred - matched, fn=gold - matched)


def _label_pairs(
    pred_labels: Sequence[str | None],
    gold_labels: Sequence[str | None],
    pairs: Iterable[tuple[int, int]],
) -> list[tuple[str, str]]:
    """Confusion pairs; a gold label of ``None`` leaves its gold record out."""
    pairs = list(pairs)
    matched_pred = {p for p, _ in pairs}
    matched_gold = {g for _, g in pairs}
    out: list[tuple[str, str]] = []
    for p, g in pairs:
        gold_label, pred_label = gold_labels[g], pred_labels[p]
        if gold_label is not None:
            out.append((gold_label, pred_label if pred_label is not None else MISSED))
    out.extend(
        (label, MISSED)
        for g, label in enumerate(gold_labels)
        if g not in matched_gold and label is not None
    )
    out.extend(
        (SPURIOUS, label)
        for p, label in enumerate(pred_labels)
        if p not in matched_pred and label is not None
    )
    return out


def _score_quotes(
    pred: Sequence[Quote], gold: Sequence[Quote], text: str, criterion: SpanCriterion, doc_id: str
) -> DocumentScore:
    pairs = match([q.content for q in pred], [q.content for q in gold], text, criterion)
    counts = {name: Counts() for name in ("content", "content_direct", "speaker", "cue", "kind")}
    counts["content"] = _span_counts(len(pairs), len(pred), len(gold))
    pred_direct = [q.content for q in pred if is_direct(q.content, text)]
    gold_direct = [q.content for q in gold if is_direct(q.content, text)]
    direct_pairs = match(pred_direct, gold_direct, text, criterion)
    counts["content_direct"] = _span_counts(len(direct_pairs), len(pred_direct), len(gold_direct))
    for p, g in pairs:
        guess, truth = pred[p], gold[g]
        _attribution(
            counts["speaker"],
            guess.speaker,
            guess.speaker_name,
            truth.speaker,
            truth.speaker_name,
            text,
        )
        _attribution(counts["cue"], guess.cue, None, truth.cue, None, text)
        _label(counts["kind"], guess.kind == truth.kind)
    return DocumentScore(
        id=doc_id,
        task="quotes",
        counts=counts,
        tokens=token_prf([q.content for q in pred], [q.content for q in gold], text),
        pairs={"kind": _label_pairs([q.kind for q in pred], [q.kind for q in gold], pairs)},
    )


def _arguments(event: Event, role: str) -> list[Span]:
    """Gold spans of an argument role: the role field plus ``arguments[role]`` of gold events."""
    spans: list[Span] = []
    own = getattr(event, role)
    if isinstance(own, Span):
        spans.append(own)
    if isinstance(event, GoldEvent):
        for name, found in event.arguments.items():
            if name.casefold() == role:
                spans.extend(span for span in found if span not in spans)
    return spans


def _type(event: Event) -> str | None:
    return None if event.type is None else str(event.type)


def _score_events(
    pred: Sequence[Event], gold: Sequence[Event], text: str, criterion: SpanCriterion, doc_id: str
) -> DocumentScore:
    pairs = match([e.trigger for e in pred], [e.trigger for e in gold], text, criterion)
    counts: dict[str, Counts] = {"trigger": _span_counts(len(pairs), len(pred), len(gold))}
    typed_gold = sum(1 for e in gold if e.type is not None)
    right_type = sum(
        1 for p, g in pairs if gold[g].type is not None and pred[p].type == gold[g].type
    )
    # An untyped prediction claims no type; a typed one matched to an untyped gold event is
    # left out of the type field, like that gold event.
    typed_pred = sum(1 for e in pred if e.type is not None)
    untyped_matched = sum(1 for p, g in pairs if gold[g].type is None and pred[p].type is not None)
    counts["type"] = _span_counts(right_type, typed_pred - untyped_matched, typed_gold)
    for role in ARGUMENT_ROLES:
        role_counts = counts[f"arg:{role}"] = Counts()
        for p, g in pairs:
            guess: Span | None = getattr(pred[p], role)
            truths = _arguments(gold[g], role)
            if guess is None:
                role_counts.fn += bool(truths)
            elif not truths:
                role_counts.fp += 1
            else:
                _label(role_counts, any(spans_overlap(guess, truth, text) for truth in truths))
    # End to end: the roles of matched triggers, plus every argument of a missed gold event
    # (false negatives) and of a spurious predicted one (false positives).
    matched_pred, matched_gold = {p for p, _ in pairs}, {g for _, g in pairs}
    arguments = sum((counts[f"arg:{role}"] for role in ARGUMENT_ROLES), Counts())
    for role in ARGUMENT_ROLES:
        arguments.fn += sum(
            bool(_arguments(e, role)) for g, e in enumerate(gold) if g not in matched_gold
        )
        arguments.fp += sum(
            getattr(e, role) is not None for p, e in enumerate(pred) if p not in matched_pred
        )
    counts["arguments"] = arguments
    return DocumentScore(
        id=doc_id,
        task="events",
        counts=counts,
        pairs={"type": _label_pairs([_type(e) for e in pred], [_type(e) for e in gold], pairs)},
    )


def _target_match(pred: str, gold: str) -> bool:
    """Whether the word tokens shared by two targets cover half the shorter one."""
    a = set(_WORD.findall(pred.casefold()))
    b = set(_WORD.findall(gold.casefold()))
    if not a or not b:
        return False
    return len(a & b) >= TARGET_OVERLAP * min(len(a), len(b))


def _score_stances(
    pred: Sequence[Stance], gold: Sequence[Stance], text: str, criterion: SpanCriterion, doc_id: str
) -> DocumentScore:
    pairs = match(
        [s.evidence for s in pred],
        [s.evidence for s in gold],
        text,
        criterion,
        agree=lambda p, g: _same_name(pred[p].target, gold[g].target),
    )
    counts = {name: Counts() for name in ("evidence", "holder", "target", "polarity")}
    counts["evidence"] = _span_counts(len(pairs), len(pred), len(gold))
    for p, g in pairs:
        guess, truth = pred[p], gold[g]
        _attribution(
            counts["holder"],
            guess.holder,
            guess.holder_name,
            truth.holder,
            truth.holder_name,
            text,
        )
        _label(counts["target"], _target_match(guess.target, truth.target))
        _label(counts["polarity"], guess.polarity == truth.polarity)
    return DocumentScore(
        id=doc_id,
        task="stances",
        counts=counts,
        pairs={
            "polarity": _label_pairs([s.polarity for s in pred], [s.polarity for s in gold], pairs)
        },
    )


def score_document(
    task: Task,
    pred: Sequence[Quote] | Sequence[Event] | Sequence[Stance],
    gold: Sequence[Quote] | Sequence[Event] | Sequence[Stance],
    text: str,
    criterion: SpanCriterion,
    *,
    doc_id: str = "",
) -> DocumentScore:
    """Per-field counts of one task in one document (records of the task's type).

    Gold events may be :class:`GoldEvent` (type possibly ``None``, extra ``arguments``) and gold
    stances :class:`GoldStance` (holder possibly ``None``). ``doc_id`` names the document for
    :func:`paired_bootstrap`.

    >>> text = "Ann said: 'We will win.' Bob said they would not."
    >>> ann = Span(text="Ann", start=0, end=3)
    >>> gold = [Quote(content=Span(text="'We will win.'", start=10, end=24), speaker=ann),
    ...         Quote(content=Span(text="they would not", start=34, end=48), kind="indirect")]
    >>> pred = [Quote(content=Span(text="We will win.", start=11, end=23), speaker_name="ann")]
    >>> score = score_document("quotes", pred, gold, text, "iou", doc_id="d1")
    >>> score.counts["content"], score.counts["speaker"], score.counts["kind"]
    (Counts(tp=1, fp=0, fn=1), Counts(tp=1, fp=0, fn=0), Counts(tp=1, fp=0, fn=0))
    >>> score.pairs["kind"]
    [('direct', 'direct'), ('indirect', 'MISSED')]
    """
    scorers: dict[str, Callable[..., DocumentScore]] = {
        "quotes": _score_quotes,
        "events": _score_events,
        "stances": _score_stances,
    }
    if task not in scorers:
        raise ValueError(f"unknown task {task!r}")
    return scorers[task](pred, gold, text, criterion, doc_id)


def score_result(
    gold: GoldDocument,
    result: DocumentResult,
    criterion: SpanCriterion,
    *,
    tasks: Iterable[Task] | None = None,
) -> list[DocumentScore]:
    """Scores of one prediction against its gold document, for each task the gold annotates.

    ``tasks`` narrows the tasks further; a task the gold does not list is never scored.
    """
    wanted = gold.tasks if tasks is None else [t for t in tasks if t in gold.tasks]
    scores: list[DocumentScore] = []
    for task in dict.fromkeys(wanted):
        if task == "quotes":
            scores.append(
                score_document(
                    "quotes", result.quotes, gold.quotes, gold.text, criterion, doc_id=gold.id
                )
            )
        elif task == "events":
            scores.append(
                score_document(
                    "events", result.events, gold.events, gold.text, criterion, doc_id=gold.id
                )
            )
        else:
            scores.append(
                score_document(
                    "stances", result.stances, gold.stances, gold.text, criterion, doc_id=gold.id
                )
            )
    return scores


# --- corpus -------------------------------------------------------------------------------


def _split_key(key: str) -> tuple[str, str]:
    task, dot, name = key.partition(".")
    if not dot or task not in FIELDS:
        raise ValueError(f"field keys look like 'quotes.content', not {key!r}")
    return task, name


@dataclass
class _TaskColumns:
    """One task's counts: per field, ``tp, fp, fn`` of each document in turn (and the four
    token counts of :class:`TokenCounts`), as flat machine integers."""

    ids: list[str] = field(default_factory=list)
    counts: dict[str, array[int]] = field(default_factory=dict)
    tokens: array[int] = field(default_factory=lambda: array("q"))
    has_tokens: bool = False

    def matrix(self, name: str) -> FloatArray:
        """One row per document: tp, fp, fn (or the four token counts for ``content_token``)."""
        if name == "content_token":
            return np.array(self.tokens, dtype=float).reshape(len(self.ids), 4)
        column = self.counts.get(name, array("q", bytes(24 * len(self.ids))))
        return np.array(column, dtype=float).reshape(len(self.ids), 3)


class ScoreTable:
    """The per-document counts of a corpus, one document at a time, kept as numbers only.

    :func:`aggregate`, :func:`bootstrap`, :func:`paired_bootstrap` and :func:`confusion` read
    one; a run adds each document's scores as they come, so that scoring holds a few numbers
    per document and field instead of the documents.

    >>> text = "a b c d"
    >>> s = lambda i: Span(text=text[i], start=i, end=i + 1)
    >>> table = ScoreTable()
    >>> for i in range(3):
    ...     pred, gold = [Event(type="AID", trigger=s(2 * i))], [Event(type="AID", trigger=s(2))]
    ...     table.add(score_document("events", pred, gold, text, "exact", doc_id=str(i)))
    >>> table.aggregate()["events.trigger"].f1, table.documents("events")
    (0.3333333333333333, 3)
    """

    def __init__(self) -> None:
        self._tasks: dict[str, _TaskColumns] = {}
        self._labels: dict[str, dict[str, dict[str, int]]] = {}

    @classmethod
    def of(cls, scores: Iterable[DocumentScore]) -> ScoreTable:
        table = cls()
        for score in scores:
            table.add(score)
        return table

    def add(self, score: DocumentScore) -> None:
        """Count one task of one document (its label pairs go to the confusion matrices)."""
        columns = self._tasks.setdefault(score.task, _TaskColumns())
        for name in score.counts:
            if name not in columns.counts:  # documents before had none of it: zeros
                columns.counts[name] = array("q", bytes(24 * len(columns.ids)))
        columns.ids.append(score.id)
        for name, column in columns.counts.items():
            counts = score.counts.get(name, Counts())
            column.extend((counts.tp, counts.fp, counts.fn))
        tokens = score.tokens or TokenCounts()
        columns.tokens.extend(
            (tokens.pred_in_gold, tokens.pred_total, tokens.gold_covered, tokens.gold_total)
        )
        columns.has_tokens |= score.tokens is not None
        for name, pairs in score.pairs.items():
            matrix = self._labels.setdefault(f"{score.task}.{name}", {})
            for gold_label, pred_label in pairs:
                row = matrix.setdefault(gold_label, {})
                row[pred_label] = row.get(pred_label, 0) + 1

    def documents(self, task: str) -> int:
        columns = self._tasks.get(task)
        return 0 if columns is None else len(columns.ids)

    def aggregate(self) -> dict[str, FieldResult]:
        """Corpus results per ``task.field``: see :func:`aggregate`."""
        results: dict[str, FieldResult] = {}
        for task in FIELDS:
            columns = self._tasks.get(task)
            if columns is None:
                continue
            documents = len(columns.ids)
            for name in columns.counts:
                matrix = columns.matrix(name)
                total = Counts(*(int(n) for n in matrix.sum(axis=0)))
                scored = _f1_of_sums(matrix[matrix.sum(axis=1) > 0])
                results[f"{task}.{name}"] = FieldResult(
                    precision=total.precision,
                    recall=total.recall,
                    f1=total.f1,
                    macro_f1=float(np.mean(scored)) if len(scored) else 0.0,
                    tp=total.tp,
                    fp=total.fp,
                    fn=total.fn,
                    documents=documents,
                    scored_documents=len(scored),
                )
            if columns.has_tokens:
                matrix = columns.matrix("content_token")
                tokens = TokenCounts(*(int(n) for n in matrix.sum(axis=0)))
                scored = _f1_of_sums(matrix[matrix[:, 1] + matrix[:, 3] > 0])
                results[f"{task}.content_token"] = FieldResult(
                    precision=tokens.precision,
                    recall=tokens.recall,
                    f1=tokens.f1,
                    macro_f1=float(np.mean(scored)) if len(scored) else 0.0,
                    tp=tokens.pred_in_gold,
                    fp=tokens.pred_total - tokens.pred_in_gold,
                    fn=tokens.gold_total - tokens.gold_covered,
                    documents=documents,
                    scored_documents=len(scored),
                    tokens=tokens,
                )
        return results

    def intervals(
        self,
        keys: Iterable[str],
        *,
        samples: int = 1000,
        seed: int = 0,
        confidence: float = 0.95,
    ) -> dict[str, tuple[float, float]]:
        """:func:`bootstrap` of each field: every field of a task is resampled alike."""
        out: dict[str, tuple[float, float]] = {}
        for task, names in _by_task(keys).items():
            columns = self._tasks.get(task)
            if columns is None:
                out.update(dict.fromkeys((f"{task}.{name}" for name in names), (0.0, 0.0)))
                continue
            matrices = [columns.matrix(name) for name in names]
            sums = _resampled_sums(np.hstack(matrices), samples, seed)
            for name, part in zip(names, _split_columns(sums, matrices), strict=True):
                out[f"{task}.{name}"] = _interval(_f1_of_sums(part), confidence)
        return out

    def deltas(
        self,
        other: ScoreTable,
        keys: Iterable[str],
        *,
        samples: int = 1000,
        seed: int = 0,
        confidence: float = 0.95,
    ) -> dict[str, tuple[float, float, float, float]]:
        """:func:`paired_bootstrap` of each field, this table being run A and ``other`` B."""
        out: dict[str, tuple[float, float, float, float]] = {}
        for task, names in _by_task(keys).items():
            ids = _paired_ids(self._tasks.get(task), other._tasks.get(task), task)
            if not ids:
                out.update(dict.fromkeys((f"{task}.{name}" for name in names), (0.0,) * 4))
                continue
            a_columns, b_columns = self._tasks[task], other._tasks[task]
            a_rows, b_rows = _positions(a_columns.ids, ids), _positions(b_columns.ids, ids)
            a = [a_columns.matrix(name)[a_rows] for name in names]
            b = [b_columns.matrix(name)[b_rows] for name in names]
            sums = _resampled_sums(np.hstack(a + b), samples, seed)
            parts = _split_columns(sums, a + b)
            for i, name in enumerate(names):
                delta = float(_f1_of_sums(b[i].sum(axis=0)) - _f1_of_sums(a[i].sum(axis=0)))
                resampled = _f1_of_sums(parts[len(names) + i]) - _f1_of_sums(parts[i])
                low, high = _interval(resampled, confidence)
                out[f"{task}.{name}"] = (delta, low, high, float(np.mean(resampled < 0)))
        return out

    def document_f1(self, key: str) -> list[tuple[str, float]]:
        """Each document's F1 on a field, in the order they were added (0 when it counted
        nothing)."""
        task, name = _split_key(key)
        columns = self._tasks.get(task)
        if columns is None:
            return []
        f1 = _f1_of_sums(columns.matrix(name)).tolist()
        return list(zip(columns.ids, f1, strict=True))

    def confusion(self, key: str) -> dict[str, dict[str, int]]:
        """Gold label -> predicted label -> count: see :func:`confusion`."""
        _split_key(key)
        return {gold: dict(row) for gold, row in self._labels.get(key, {}).items()}


def _by_task(keys: Iterable[str]) -> dict[str, list[str]]:
    """Field names grouped by task, in the order given."""
    grouped: dict[str, list[str]] = {}
    for key in keys:
        task, name = _split_key(key)
        grouped.setdefault(task, []).append(name)
    return grouped


def _split_columns(sums: FloatArray, matrices: Sequence[FloatArray]) -> list[FloatArray]:
    """``sums`` cut back into one block of columns per matrix it was stacked from."""
    edges = np.cumsum([matrix.shape[1] for matrix in matrices])[:-1]
    return np.hsplit(sums, edges)


def _paired_ids(a: _TaskColumns | None, b: _TaskColumns | None, task: str) -> list[str]:
    """The documents both runs scored for ``task``, sorted; they must be the same, once each."""
    a_ids, b_ids = (a.ids if a else []), (b.ids if b else [])
    for label, ids in (("A", a_ids), ("B", b_ids)):
        if len(set(ids)) != len(ids):
            raise ValueError(f"run {label} scores a document more than once for {task}")
    if set(a_ids) != set(b_ids):
        only_a, only_b = len(set(a_ids) - set(b_ids)), len(set(b_ids) - set(a_ids))
        raise ValueError(
            f"the runs score different documents for {task}: {only_a} only in A, {only_b} only in B"
        )
    return sorted(a_ids)


def _positions(ids: list[str], order: list[str]) -> npt.NDArray[np.intp]:
    where = {doc: i for i, doc in enumerate(ids)}
    return np.array([where[doc] for doc in order], dtype=np.intp)


def aggregate(scores: Iterable[DocumentScore]) -> dict[str, FieldResult]:
    """Corpus results per ``task.field``: micro P/R/F1 from summed counts, and macro F1.

    >>> text = "a b c d"
    >>> s = lambda i: Span(text=text[i], start=i, end=i + 1)
    >>> doc1 = score_document("stances", [], [], text, "exact", doc_id="1")  # nothing: no macro
    >>> doc2 = score_document("events", [Event(type="AID", trigger=s(0))],
    ...                       [Event(type="AID", trigger=s(0)), Event(type="AID", trigger=s(2))],
    ...                       text, "exact", doc_id="2")
    >>> result = aggregate([doc1, doc2])
    >>> result["events.trigger"].f1, result["events.trigger"].documents
    (0.6666666666666666, 1)
    >>> result["stances.evidence"].f1, result["stances.evidence"].scored_documents
    (0.0, 0)
    """
    return ScoreTable.of(scores).aggregate()


def _safe_ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    out = np.zeros_like(numerator, dtype=float)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _f1_of_sums(sums: FloatArray) -> FloatArray:
    """Micro F1 of summed count rows (the last axis holds the counts)."""
    if sums.shape[-1] == 4:
        precision = _safe_ratio(sums[..., 0], sums[..., 1])
        recall = _safe_ratio(sums[..., 2], sums[..., 3])
        return _safe_ratio(2 * precision * recall, precision + recall)
    tp, fp, fn = sums[..., 0], sums[..., 1], sums[..., 2]
    return _safe_ratio(2 * tp, 2 * tp + fp + fn)


def _interval(values: FloatArray, confidence: float) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


# Document draws held at once: bounds the memory of a bootstrap whatever the corpus size.
_DRAWS_AT_ONCE = 1 << 20


def _resampled_sums(
    counts: FloatArray, samples: int, seed: int, *, draws_at_once: int = _DRAWS_AT_ONCE
) -> FloatArray:
    """Column sums of ``samples`` resamples of the rows of ``counts``, each drawing as many
    rows as there are, with replacement; the same ``seed`` draws the same resamples.

    Resamples are drawn a block at a time from one generator (the same numbers as drawing them
    all at once), and each block's sums are how often each row was drawn times the rows: every
    count is an integer, so the sums are exact whatever the order of addition.
    """
    if samples < 1:
        raise ValueError(f"samples must be at least 1, not {samples}")
    documents = len(counts)
    generator = np.random.default_rng(seed)
    sums = np.empty((samples, counts.shape[1]))
    block = max(1, draws_at_once // documents)
    for first in range(0, samples, block):
        rows = min(block, samples - first)
        draws = generator.integers(0, documents, size=(rows, documents))
        draws += np.arange(rows)[:, None] * documents  # row r's draws counted in row r
        times = np.bincount(draws.ravel(), minlength=rows * documents).reshape(rows, documents)
        sums[first : first + rows] = times @ counts
    return sums


def bootstrap(
    scores: Iterable[DocumentScore],
    key: str,
    *,
    samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile confidence interval of a field's micro F1, resampling documents.

    Each resample draws as many documents as there are, with replacement, and sums their
    counts; the same ``seed`` gives the same interval. No documents gives ``(0.0, 0.0)``.

    >>> text = "a b c d"
    >>> s = lambda i: Span(text=text[i], start=i, end=i + 1)
    >>> docs = [score_document("events", [Event(type="AID", trigger=s(i))],
    ...                        [Event(type="AID", trigger=s(i % 4))], text, "exact",
    ...                        doc_id=str(i)) for i in range(0, 7, 2)]  # right, wrong, ...
    >>> bootstrap(docs, "events.trigger", seed=1) == bootstrap(docs, "events.trigger", seed=1)
    True
    """
    table = ScoreTable.of(scores)
    return table.intervals([key], samples=samples, seed=seed, confidence=confidence)[key]


def paired_bootstrap(
    a_scores: Iterable[DocumentScore],
    b_scores: Iterable[DocumentScore],
    key: str,
    *,
    samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float, float, float]:
    """How much run B beats run A on a field: ``(delta, low, high, p_worse)``.

    ``delta`` is micro F1 of B minus that of A on all documents; ``low``/``high`` the
    percentile interval of the delta over resamples that draw the same documents for both
    runs (paired by document id); ``p_worse`` the fraction of resamples where B scores below
    A. Both runs must score the same documents, each id once.
    """
    a, b = ScoreTable.of(a_scores), ScoreTable.of(b_scores)
    return a.deltas(b, [key], samples=samples, seed=seed, confidence=confidence)[key]


def confusion(scores: Iterable[DocumentScore], field: str) -> dict[str, dict[str, int]]:
    """Gold label -> predicted label -> count, for ``quotes.kind``, ``events.type`` or
    ``stances.polarity``; unmatched records appear as :data:`MISSED` / :data:`SPURIOUS`.

    >>> text = "a b c d"
    >>> s = lambda i: Span(text=text[i], start=i, end=i + 1)
    >>> doc = score_document("events", [Event(type="AID", trigger=s(0)),
    ...                                 Event(type="AID", trigger=s(4))],
    ...                      [Event(type="AID", trigger=s(0)), Event(type="AGREE", trigger=s(2))],
    ...                      text, "exact")
    >>> confusion([doc], "events.type")
    {'AID': {'AID': 1}, 'AGREE': {'MISSED': 1}, 'SPURIOUS': {'AID': 1}}
    """
    return ScoreTable.of(scores).confusion(field)


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
