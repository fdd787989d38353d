"""Event candidates: trigger words with plausible PLOVER types and their arguments.

Rules (:func:`find_events`)
    * Trigger lexicon ``EVENT_LEXICON`` (:mod:`~llmextract.candidates.lexicons`): word
      forms and phrases mapped to best-first PLOVER types (case-insensitive,
      longest match).  Some
      triggers (provide, send, supply, deliver) count only when an aid-like
      object (weapons, aid, support, engineers, ...) follows within 60
      characters in the sentence.
    * actor: nearest name (or he/she/they) before the trigger in its
      sentence; recipient: nearest name (or him/them) after it.
    * location: a name right after ``in``/``at`` (optionally ``the``) in the
      sentence, the nearest one after the trigger, else the nearest before.
    * time: weekday names (with morning/evening/...), ``last/next/this``
      week/month/year/weekday, month names with optional day and year
      (``July, 2022``, ``March 3``), ``3 March 2022``, today/yesterday/
      tomorrow/tonight; the span excludes a leading preposition (``on
      Tuesday`` gives ``Tuesday``).  The nearest one to the trigger.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from llmextract.candidates.document import (
    OBJECT_PRONOUNS,
    SUBJECT_PRONOUNS,
    Document,
    finish,
)
from llmextract.candidates.lexicons import (
    AID_OBJECT,
    EVENT_LEXICON,
    MONTHS,
    NEEDS_AID_OBJECT,
    WEEKDAYS,
    alternation,
)
from llmextract.candidates.mentions import Mention
from llmextract.schemas import EventType

__all__ = ["EventCandidate", "find_events"]


@dataclass(frozen=True)
class EventCandidate:
    """A possible event: trigger span with plausible types and arguments."""

    start: int
    end: int
    text: str
    sentence: tuple[int, int]
    types: tuple[EventType, ...]
    actor: Mention | None
    recipient: Mention | None
    location: tuple[int, int] | None
    time: tuple[int, int] | None


_IN_AT = re.compile(r"\b(?:in|at)\s+(?:the\s+)?$")
_MONTH_RE = "|".join(
    [m for m in MONTHS if m != "May"] + [r"May(?=\s+\d)", r"(?:Jan|Feb|Aug|Sept|Oct|Nov|Dec)\."]
)
_WEEKDAY_RE = "|".join(WEEKDAYS)
_TIME = re.compile(
    r"\b(?:"
    rf"(?:last|next|this|earlier\s+this|later\s+this)\s+(?:week|month|year|weekend|"
    rf"spring|summer|autumn|fall|winter|{_WEEKDAY_RE})"
    rf"|(?:{_WEEKDAY_RE})(?:\s+(?:morning|afternoon|evening|night))?"
    rf"|\d{{1,2}}\s+(?:{_MONTH_RE})(?:,?\s+\d{{4}})?"
    rf"|(?:{_MONTH_RE})(?:\s+\d{{1,2}}(?:st|nd|rd|th)?\b)?(?:,?\s+\d{{4}})?"
    r"|today|yesterday|tomorrow|tonight"
    r")(?!\w)"
)


def _event_table() -> dict[str, tuple[EventType, ...]]:
    table: dict[str, tuple[EventType, ...]] = {}
    for forms, types in EVENT_LEXICON:
        for form in forms.split("|"):
            if form in table:
                raise ValueError(f"duplicate event trigger {form!r}")
            table[form] = types
    return table


_EVENT_TYPES = _event_table()
_TRIGGER = re.compile(r"\b(?:" + alternation(_EVENT_TYPES) + r")\b", re.IGNORECASE)


def _closest(spans: Sequence[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    if not spans:
        return None
    return min(spans, key=lambda s: s[0] - end if s[0] >= end else start - s[1] + 0.5)


def find_events(text: str, *, limit: int | None = None) -> list[EventCandidate]:
    """Event trigger candidates with types and arguments; see the module docstring."""
    doc = Document(text)
    out: list[EventCandidate] = []
    for sent in doc.sentences:
        mentions = doc.mentions_in(*sent)
        locations = [
            (m.start, m.end)
            for m in mentions
            if m.kind == "name" and _IN_AT.search(text, sent[0], m.start)
        ]
        times: list[tuple[int, int]] = [
            (m.start(), m.end()) for m in _TIME.finditer(text, sent[0], sent[1])
        ]
        for trig in _TRIGGER.finditer(text, sent[0], sent[1]):
            form = " ".join(trig.group().lower().split())
            if form in NEEDS_AID_OBJECT and not AID_OBJECT.search(
                text, trig.end(), min(sent[1], trig.end() + 60)
            ):
                continue
            actor = next(
                (
                    m
                    for m in reversed(mentions)
                    if m.end <= trig.start()
                    and (m.kind == "name" or m.text.lower() in SUBJECT_PRONOUNS)
                ),
                None,
            )
            recipient = next(
                (
                    m
                    for m in mentions
                    if m.start >= trig.end()
                    and (m.kind == "name" or m.text.lower() in OBJECT_PRONOUNS)
                ),
                None,
            )
            after = [s for s in locations if s[0] >= trig.end()]
            before = [s for s in locations if s[1] <= trig.start()]
            location = after[0] if after else (before[-1] if before else None)
            out.append(
                EventCandidate(
                    trig.start(),
                    trig.end(),
                    trig.group(),
                    sent,
                    _EVENT_TYPES[form],
                    actor,
                    recipient,
                    location,
                    _closest(times, trig.start(), trig.end()),
                )
            )
    return finish(out, limit)
