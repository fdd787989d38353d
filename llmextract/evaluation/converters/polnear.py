"""PolNeAR (Newell et al. 2018) attribution relations to the gold format, as quotes.

``src`` is a split folder such as ``PolNeAR/data/dev``: ``text/<article>.txt`` and
``attributions/<article>_<annotator>.ann`` (brat standoff). One document per article that
has at least one ``.ann`` file, in file-name order; ``id`` is the article's file stem.
An article annotated by several annotators (the agreement articles) uses the file of the
lexicographically smallest annotator id; ``meta.annotator`` names it and
``meta.annotators`` lists all of them.

The text is the ``.txt`` file decoded as UTF-8 with nothing stripped or normalised (line
endings kept), so the brat offsets, which count characters of that text, stay valid. A
leading byte-order mark, if any, is removed as everywhere in the project and the offsets
shifted by one. Every span is checked against the text brat recorded for it.

Each ``Attribution`` or ``Attribution-no-source`` relation becomes a :class:`Quote`:
``Content`` -> ``content``, ``Source`` -> ``speaker`` (absent for no-source relations),
``Cue`` -> ``cue``; ``speaker_name`` is None, PolNeAR speakers being spans (often pronouns).
A relation with a second content (``Content2``, a separate passage by the same source)
gives one quote per content, sharing speaker and cue (``meta.split_contents`` lists them).
A discontinuous brat span (``start end;start end``) becomes the full extent from its first
start to its last end, so it includes the gap; ``meta.discontinuous`` keeps the fragments.
``kind`` is :func:`llmextract.quotation.quote_kind` of the content's fragments only. A
relation without a content, or whose offsets do not match its text, is left out and listed
in ``meta.skipped``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from llmextract.errors import InputError
from llmextract.evaluation.gold import GoldDocument
from llmextract.quotation import quote_kind, quoted_mask
from llmextract.schemas import Quote, Span

__all__ = ["convert"]

_RELATIONS: Final = frozenset({"Attribution", "Attribution-no-source"})
_BOM: Final = "\ufeff"
_ROLE = re.compile(r"^(Content|Source|Cue)(\d*)$")


@dataclass(frozen=True)
class _TextBound:
    label: str
    fragments: tuple[tuple[int, int], ...]
    text: str  # as brat recorded it (a line break in the span cuts it short)


@dataclass
class _Ann:
    spans: dict[str, _TextBound]
    relations: list[tuple[str, str, list[tuple[str, str]]]]  # (id, type, [(role, T id)])


def convert(src: Path) -> Iterator[GoldDocument]:
    """Gold documents of a PolNeAR split folder (``text/`` and ``attributions/``)."""
    text_dir, ann_dir = Path(src) / "text", Path(src) / "attributions"
    if not text_dir.is_dir() or not ann_dir.is_dir():
        raise InputError(f"{src}: not a PolNeAR split folder (needs text/ and attributions/)")
    annotations: dict[str, dict[str, Path]] = {}
    for path in ann_dir.glob("*.ann"):
        article, _, annotator = path.stem.rpartition("_")
        annotations.setdefault(article, {})[annotator] = path
    for text_path in sorted(text_dir.glob("*.txt")):
        by_annotator = annotations.get(text_path.stem)
        if by_annotator:
            yield _document(text_path, by_annotator)


def _document(text_path: Path, by_annotator: dict[str, Path]) -> GoldDocument:
    annotator = min(by_annotator)
    ann_path = by_annotator[annotator]
    text = text_path.read_bytes().decode("utf-8")
    shift = 0
    if text.startswith(_BOM):
        text, shift = text[1:], 1
    ann = _parse(ann_path)
    mask = quoted_mask(text)
    quotes: list[Quote] = []
    skipped: list[dict[str, str]] = []
    discontinuous: list[dict[str, Any]] = []
    split_contents: list[int] = []
    for rel_id, rel_type, args in ann.relations:
        if rel_type not in _RELATIONS:
            skipped.append({"relation": rel_id, "reason": f"relation type {rel_type!r}"})
            continue
        roles: dict[str, list[_TextBound]] = {}
        for role, span_id in args:
            match = _ROLE.match(role)
            if match and span_id in ann.spans:
                roles.setdefault(match[1], []).append(ann.spans[span_id])
        contents = roles.get("Content", [])
        if not contents:
            skipped.append({"relation": rel_id, "reason": "no Content"})
            continue
        source = roles["Source"][0] if "Source" in roles else None
        cue_bound = roles["Cue"][0] if "Cue" in roles else None
        try:
            speaker = _span(text, source, shift) if source else None
            cue = _span(text, cue_bound, shift) if cue_bound else None
            spans = [_span(text, bound, shift) for bound in contents]
        except ValueError as error:
            skipped.append({"relation": rel_id, "reason": str(error)})
            continue
        for number, (bound, content) in enumerate(zip(contents, spans, strict=True)):
            index = len(quotes)
            if number:
                split_contents.append(index)
            fragments = [(start - shift, end - shift) for start, end in bound.fragments]
            quotes.append(
                Quote(
                    content=content,
                    speaker=speaker,
                    cue=cue,
                    kind=quote_kind(text, fragments, mask),
                )
            )
            for role, part in (("content", bound), ("speaker", source), ("cue", cue_bound)):
                if part is not None and len(part.fragments) > 1:
                    discontinuous.append(
                        {
                            "quote": index,
                            "role": role,
                            "fragments": [[s - shift, e - shift] for s, e in part.fragments],
                        }
                    )
    meta: dict[str, Any] = {"annotator": annotator, "annotators": sorted(by_annotator)}
    if discontinuous:
        meta["discontinuous"] = discontinuous
    if split_contents:
        meta["split_contents"] = split_contents
    if skipped:
        meta["skipped"] = skipped
    return GoldDocument(
        id=text_path.stem,
        text=text,
        tasks=["quotes"],
        source="polnear",
        quotes=quotes,
        meta=meta,
    )


def _span(text: str, bound: _TextBound, shift: int) -> Span:
    """The full extent of ``bound``, checked against the text brat recorded for it."""
    fragments = [(start - shift, end - shift) for start, end in bound.fragments]
    joined = " ".join(text[max(start, 0) : end] for start, end in fragments)
    if min(start for start, _ in fragments) < 0 or not joined.startswith(bound.text):
        where = ";".join(f"{start} {end}" for start, end in bound.fragments)
        raise ValueError(f"{bound.label} {where}: offsets do not match its text")
    start = min(start for start, _ in fragments)
    end = max(end for _, end in fragments)
    return Span(text=text[start:end], start=start, end=end)


def _parse(path: Path) -> _Ann:
    """Text-bound annotations and relations of a brat ``.ann`` file; other lines are skipped."""
    ann = _Ann(spans={}, relations=[])
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("\t")
        try:
            if line.startswith("T") and len(fields) >= 2:
                label, _, offsets = fields[1].partition(" ")
                fragments = tuple(
                    (int(start), int(end))
                    for start, end in (part.split() for part in offsets.split(";"))
                )
                text = fields[2] if len(fields) > 2 else ""
                ann.spans[fields[0]] = _TextBound(label, fragments, text)
            elif line.startswith("E") and len(fields) >= 2:
                trigger, *rest = fields[1].split()
                args = [tuple(arg.split(":", 1)) for arg in rest]
                ann.relations.append(
                    (fields[0], trigger.split(":", 1)[0], [(a[0], a[-1]) for a in args])
                )
        except ValueError:
            raise InputError(f"{path}:{number}: not a brat annotation line") from None
    return ann
