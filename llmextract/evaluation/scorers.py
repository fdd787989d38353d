"""The built-in tasks' scorers (quotes, events, stances), and scoring a document by each
task's declared scorer (:attr:`~llmextract.tasks.TaskSpec.scorer`).

What each field counts is :mod:`~llmextract.evaluation.fields`'s documentation; every count
comes from one document alone, so a corpus score is a sum over documents. Pure: no I/O, no
client.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Iterable, Sequence

from llmextract.evaluation.counts import Counts, DocumentScore
from llmextract.evaluation.direct import is_direct
from llmextract.evaluation.fields import ARGUMENT_ROLES, MISSED, SPURIOUS
from llmextract.evaluation.matching import SpanCriterion, match, spans_overlap
from llmextract.evaluation.tokens import token_prf
from llmextract.gold import GoldDocument, GoldEvent
from llmextract.schemas import DocumentResult, Event, Quote, Span, Stance, Task
from llmextract.tasks import TaskSpec, get_task

__all__ = [
    "Scorer",
    "score_document",
    "score_events",
    "score_quotes",
    "score_result",
    "score_stances",
    "scorer_of",
]

Scorer = Callable[[Task, GoldDocument, DocumentResult | None, SpanCriterion], DocumentScore]
"""A task's scorer: ``(task, gold, result, criterion)`` -> the document's counts of ``task``
(``result`` None: nothing predicted)."""

TARGET_OVERLAP = 0.5
_WORD = re.compile(r"\w+")


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


def score_quotes(
    task: Task, gold: GoldDocument, result: DocumentResult | None, criterion: SpanCriterion
) -> DocumentScore:
    """The quotes' scorer: content spans (all, DIRECT, tokens), speaker, cue and kind."""
    pred = [] if result is None else result.quotes
    return _score_quotes(pred, gold.quotes, gold.text, criterion, gold.id)


def score_events(
    task: Task, gold: GoldDocument, result: DocumentResult | None, criterion: SpanCriterion
) -> DocumentScore:
    """The events' scorer: triggers, PLOVER types and argument roles."""
    pred = [] if result is None else result.events
    return _score_events(pred, gold.events, gold.text, criterion, gold.id)


def score_stances(
    task: Task, gold: GoldDocument, result: DocumentResult | None, criterion: SpanCriterion
) -> DocumentScore:
    """The stances' scorer: evidence spans, holder, target and polarity."""
    pred = [] if result is None else result.stances
    return _score_stances(pred, gold.stances, gold.text, criterion, gold.id)


@functools.cache
def _resolve(name: str) -> Scorer:
    module, _, function = name.partition(":")
    found: Scorer = getattr(importlib.import_module(module), function)
    return found


def scorer_of(spec: TaskSpec) -> Scorer:
    """The function a task declares as its scorer (``module:function``), imported once."""
    return _resolve(spec.scorer)


def score_result(
    gold: GoldDocument,
    result: DocumentResult | None,
    criterion: SpanCriterion,
    *,
    tasks: Iterable[Task] | None = None,
) -> list[DocumentScore]:
    """Scores of one prediction (None: nothing predicted) against its gold document, for each
    task the gold annotates, each by its task's scorer.

    ``tasks`` narrows the tasks further; a task the gold does not list is never scored.
    """
    wanted = gold.tasks if tasks is None else [t for t in tasks if t in gold.tasks]
    return [scorer_of(get_task(t))(t, gold, result, criterion) for t in dict.fromkeys(wanted)]
