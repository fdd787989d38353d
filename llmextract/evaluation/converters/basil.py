"""BASIL (Fan et al. 2019) to the gold format: stances toward people, and quotes.

``src`` is the dataset folder: ``articles/<year>/<uuid>_<n>.json`` (``title`` and
``body-paragraphs``, a list of paragraphs, each a list of sentences) and
``annotations/<year>/<uuid>_<n>_ann.json``. One document per annotation file, in path
order; ``id`` is ``<uuid>_<n>`` as in the file names (``n`` is the publisher index of the
story triplet).

The text is the title, a blank line, then the paragraphs separated by a blank line
(``"\\n\\n"``), the sentences of a paragraph joined with one space; sentences are not
altered. A phrase's ``id`` says where its sentence-relative ``start``/``end`` point:
``p<k>`` is the k-th sentence of the body counted across paragraphs from 0, ``title`` the
title; the offsets are moved into the text by the start of that sentence.

BASIL marks only bias-bearing phrases, each with a polarity toward a target and, for
quotations, a quote flag and a speaker label. Each phrase becomes a :class:`GoldStance`
with ``holder=None`` (the phrase's holder is not annotated), ``target`` = the target label
with underscores as spaces (``Barack_Obama`` -> ``Barack Obama``), polarity ``pos`` ->
support, ``neg`` -> oppose, ``neu`` -> neutral, and ``evidence`` = the phrase. Each phrase
flagged as a quote also becomes a :class:`Quote` with ``content`` = the phrase,
``speaker_name`` = the speaker label as a name (None for the placeholders ``other_anti``,
``other_pro``, ``other_neutral``, which name nobody), ``speaker`` = the first whole-word,
case-insensitive occurrence of that name in the phrase's sentence outside the phrase (None
when there is none: most sentences use a surname or a pronoun), no cue, and ``kind`` by
:func:`llmextract.quotation.quote_kind`. Identical records (one phrase annotated twice
alike) are kept once.
``meta.speaker_labels`` keeps the raw label of each quote. Since unbiased quotations are
not annotated, ``meta.quote_recall_measurable`` is false: score quote precision only.
Phrases that cannot be placed (unknown sentence, offsets not matching ``txt``) or have an
unknown polarity are left out and listed in ``meta.skipped``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from llmextract.errors import InputError
from llmextract.evaluation.gold import GoldDocument, GoldStance
from llmextract.quotation import quote_kind, quoted_mask
from llmextract.schemas import Polarity, Quote, Span

__all__ = ["convert"]

_POLARITY: Final[dict[str, Polarity]] = {
    "pos": "support",
    "positive": "support",
    "neg": "oppose",
    "negative": "oppose",
    "neu": "neutral",
    "neutral": "neutral",
}
_PLACEHOLDER = re.compile(r"^other(_|$)", re.IGNORECASE)
_SENTENCE_SEP: Final = " "
_PARAGRAPH_SEP: Final = "\n\n"


def convert(src: Path) -> Iterator[GoldDocument]:
    """Gold documents of the BASIL folder (``articles/`` and ``annotations/``)."""
    annotations = Path(src) / "annotations"
    if not annotations.is_dir() or not (Path(src) / "articles").is_dir():
        raise InputError(f"{src}: not a BASIL folder (needs articles/ and annotations/)")
    for ann_path in sorted(annotations.glob("*/*_ann.json")):
        doc_id = ann_path.name.removesuffix("_ann.json")
        article_path = Path(src) / "articles" / ann_path.parent.name / f"{doc_id}.json"
        try:
            article = _load(article_path)
            annotation = _load(ann_path)
            yield _document(doc_id, article, annotation)
        except KeyError as error:
            raise InputError(f"{ann_path}: missing field {error.args[0]!r}") from None
        except (TypeError, ValueError) as error:
            raise InputError(f"{ann_path}: {str(error).splitlines()[0]}") from None


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a JSON object")
    return data


def _layout(article: dict[str, Any]) -> tuple[str, dict[str, tuple[int, str]]]:
    """The document text and, per phrase id, (offset, text) of its sentence."""
    sentences: dict[str, tuple[int, str]] = {}
    title = str(article["title"])
    sentences["title"] = (0, title)
    parts = [title]
    offset = len(title)
    index = 0
    for paragraph in article["body-paragraphs"]:
        offset += len(_PARAGRAPH_SEP)
        pieces = []
        for number, sentence in enumerate(paragraph):
            sentence = str(sentence)
            if number:
                offset += len(_SENTENCE_SEP)
            sentences[f"p{index}"] = (offset, sentence)
            pieces.append(sentence)
            offset += len(sentence)
            index += 1
        parts.append(_SENTENCE_SEP.join(pieces))
    return _PARAGRAPH_SEP.join(parts), sentences


def _document(doc_id: str, article: dict[str, Any], annotation: dict[str, Any]) -> GoldDocument:
    text, sentences = _layout(article)
    mask = quoted_mask(text)
    stances: list[GoldStance] = []
    quotes: list[Quote] = []
    speaker_labels: list[str] = []
    skipped: list[dict[str, str]] = []
    for phrase in annotation["phrase-level-annotations"]:
        phrase_id = str(phrase["id"])
        placed = sentences.get(phrase_id)
        start, end, txt = int(phrase["start"]), int(phrase["end"]), str(phrase["txt"])
        polarity = _POLARITY.get(str(phrase["polarity"]).lower())
        reason = None
        if placed is None:
            reason = "no such sentence"
        elif placed[1][start:end] != txt or not txt:
            reason = "offsets do not match txt"
        elif polarity is None:
            reason = f"unknown polarity {phrase['polarity']!r}"
        if reason or placed is None or polarity is None:
            skipped.append({"phrase": phrase_id, "txt": txt, "reason": reason or ""})
            continue
        offset, sentence = placed
        evidence = Span(text=txt, start=offset + start, end=offset + end)
        stance = GoldStance(
            holder=None,
            target=_name(str(phrase["target"])),
            polarity=polarity,
            evidence=evidence,
            label="stance",
        )
        if stance not in stances:
            stances.append(stance)
        if str(phrase["quote"]).lower() != "yes":
            continue
        label = str(phrase.get("speaker") or "")
        name = None if not label or _PLACEHOLDER.match(label) else _name(label)
        quote = Quote(
            content=evidence,
            speaker=_find(name, sentence, offset, (start, end)) if name else None,
            speaker_name=name,
            kind=quote_kind(text, [(evidence.start, evidence.end)], mask),
        )
        if quote not in quotes:
            quotes.append(quote)
            speaker_labels.append(label)
    meta: dict[str, Any] = {
        "quote_recall_measurable": False,
        "publisher": article.get("source"),
        "triplet": article.get("triplet-uuid"),
        "speaker_labels": speaker_labels,
    }
    if skipped:
        meta["skipped"] = skipped
    return GoldDocument(
        id=doc_id,
        text=text,
        tasks=["stances", "quotes"],
        source="basil",
        quotes=quotes,
        stances=stances,
        meta=meta,
    )


def _name(label: str) -> str:
    return " ".join(label.replace("_", " ").split())


def _find(name: str, sentence: str, offset: int, phrase: tuple[int, int]) -> Span | None:
    """First whole-word occurrence of ``name`` in ``sentence`` not overlapping ``phrase``."""
    pattern = re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)", re.IGNORECASE)
    for match in pattern.finditer(sentence):
        if match.end() <= phrase[0] or match.start() >= phrase[1]:
            return Span(text=match[0], start=offset + match.start(), end=offset + match.end())
    return None
