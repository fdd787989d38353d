"""A text's sentences, paragraphs and mentions, and the look-ups every finder shares."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from llmextract.candidates.mentions import Mention, find_mentions, person_like
from llmextract.chunking import split_sentences
from llmextract.quotation import QUOTE_MARKS

__all__ = [
    "OBJECT_PRONOUNS",
    "SUBJECT_PRONOUNS",
    "Document",
    "distinct",
    "finish",
    "nearest",
    "subject_after",
    "subject_before",
    "word_count",
]

SUBJECT_PRONOUNS = frozenset({"he", "she", "they"})
OBJECT_PRONOUNS = frozenset({"him", "them"})

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_WORDS = re.compile(r"\w+")
# Between a subject and its verb: an appositive ", the secretary of X," or a relative
# clause opener ", who", then up to four words ("has", "also", "on Monday").
_SUBJECT_GAP = re.compile(
    r"\s*(?:,[^,;:\"\u201c\u201d()]{1,120},\s*|,\s*(?:who|which)\s+)?(?:[\w'\u2019-]+\s+){0,4}"
)
_APPOSITIVE_COMMA = re.compile(r"\s*,\s*")
_AFTER_CUE_GAP = re.compile(r"\s+(?:[\w'\u2019.-]+\s+){0,3}")


class Document:
    """Sentences, paragraphs and mentions of a text, with position look-ups."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sentences = split_sentences(text)
        self.sentence_starts = [s for s, _ in self.sentences]
        self.paragraph_cuts = [m.start() for m in _BLANK_LINE.finditer(text)]
        self.mentions = find_mentions(text)
        self.mention_starts = [m.start for m in self.mentions]

    def sentence_index(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.sentence_starts, pos) - 1)

    def paragraph_index(self, pos: int) -> int:
        return bisect.bisect_right(self.paragraph_cuts, pos)

    def mentions_in(self, start: int, end: int) -> list[Mention]:
        i = bisect.bisect_left(self.mention_starts, start)
        out: list[Mention] = []
        while i < len(self.mentions) and self.mentions[i].start < end:
            if self.mentions[i].end <= end:
                out.append(self.mentions[i])
            i += 1
        return out


def _key(m: Mention) -> str:
    return m.resolved if m.resolved is not None else m.text.lower()


def distinct(mentions: Iterable[Mention], limit: int = 3) -> tuple[Mention, ...]:
    """The first ``limit`` mentions that resolve to different names."""
    out: list[Mention] = []
    seen: set[str] = set()
    for m in mentions:
        k = _key(m)
        if k not in seen:
            seen.add(k)
            out.append(m)
        if len(out) == limit:
            break
    return tuple(out)


def subject_before(
    doc: Document, pos: int, sent: tuple[int, int], blocked: Sequence[tuple[int, int]] = ()
) -> Mention | None:
    """The name or subject pronoun attached before ``pos`` (``Wang, the minister, has said``)."""
    text = doc.text
    for m in reversed(doc.mentions_in(sent[0], pos)):
        if any(a <= m.start < b for a, b in blocked):
            continue
        if m.kind == "pronoun" and m.text.lower() not in SUBJECT_PRONOUNS:
            continue
        gap = text[m.end : pos]
        if not QUOTE_MARKS.isdisjoint(gap):
            return None
        if _SUBJECT_GAP.fullmatch(gap):
            return m
        if _APPOSITIVE_COMMA.fullmatch(gap) and text[: m.start].rstrip().endswith(","):
            return m  # "The minister, Priya Nair, welcomed"
    return None


def subject_after(doc: Document, pos: int, sent: tuple[int, int]) -> Mention | None:
    """The name right after an inverting cue (``said Kremlin spokesman Dmitry Peskov``)."""
    reachable: list[Mention] = []
    for m in doc.mentions_in(pos, sent[1]):
        if m.kind == "pronoun" and m.text.lower() not in SUBJECT_PRONOUNS:
            break
        if not _AFTER_CUE_GAP.fullmatch(doc.text[pos : m.start]):
            break
        reachable.append(m)
    for m in reachable:
        if m.resolved is not None and person_like(m.resolved):
            return m
    return reachable[0] if reachable else None


def nearest(mentions: Sequence[Mention], pos: int) -> list[Mention]:
    """Names, person-like first, then nearest to ``pos`` first."""
    names = [m for m in mentions if m.kind == "name"]
    return sorted(
        names,
        key=lambda m: (
            not (m.resolved and person_like(m.resolved)),
            min(abs(m.start - pos), abs(m.end - pos)),
        ),
    )


def word_count(s: str) -> int:
    return len(_WORDS.findall(s))


class _Located(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


_R = TypeVar("_R", bound=_Located)


def finish(records: Iterable[_R], limit: int | None) -> list[_R]:
    """``records`` in text order, one per ``(start, end)``, the first ``limit`` of them."""
    seen: set[tuple[int, int]] = set()
    out: list[_R] = []
    for r in sorted(records, key=lambda r: (r.start, r.end)):
        if (r.start, r.end) in seen:
            continue
        seen.add((r.start, r.end))
        out.append(r)
        if len(out) == limit:
            break
    return out
