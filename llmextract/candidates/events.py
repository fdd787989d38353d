"""Event candidates: trigger words with plausible PLOVER types and their arguments.

Rules (:func:`find_events`)
    * Trigger lexicon ``EVENT_LEXICON`` (:mod:`~llmextract.candidates.lexicons`): word
      forms and phrases mapped to best-first PLOVER types (case-insensitive,
      longest match).  Some
      triggers (provide, send, supply, deliver) count only when an aid-like
      object (weapons, aid, support, engineers, ...) follows within 60
      characters in the sentence.
    * KAIROS triggers ``KAIROS_FRAMES`` (:mod:`~llmextract.candidates.lexicons`, derived
      from the KAIROS ontology): events PLOVER has no category for (deaths, injuries,
      trials, journeys...) are candidates with no type and the KAIROS type as ``kind``; a
      form in both lists keeps its PLOVER types and takes the KAIROS kind too.
    * Word senses that name no event (linguistic rules, stated before measuring):
      ``try`` followed by ``to`` is the control verb ("tried to recruit": the event is the
      verb after it, not a trial); ``suicide`` followed by a word modifies that noun ("a
      suicide bomber" is an agent, "a suicide attack" is the attack); the bare form
      ``back`` is the verb "to support" only with an object right after it (a determiner,
      a pronoun, a capitalised name: "back the plan"), else it is the adverb or particle
      ("back down", "pushed back"); so is bare ``jail``, else the place ("in jail", "jail
      cell"); the tail of a hyphenated word is no trigger ("counter-terrorism", as for
      quote cues: "so-called").
    * Verbs of saying that address someone or the public (``told``, ``asked``,
      ``reported``, ``declared``...; ``KAIROS_SAYING``) are one-way communication events
      (KAIROS ``Contact.Contact.Broadcast``); bare attribution verbs (``said``, ``added``)
      are not.
    * actor and recipient from the trigger's frame: the words before it (back to a comma,
      a conjunction or a preposition, past auxiliaries: "the gunman had"), the words after
      it up to a preposition or punctuation ("killed [12 people] in"), ``by`` after it (the
      doer of a passive), ``of``/``on``/``against`` after a noun trigger ("the death of
      X"). A name or pronoun inside those words is taken alone. Active with an object:
      subject = doer, object = undergoer; passive ("was killed"): subject = undergoer;
      no object ("X died"): the subject has the kind's subject role. The doer is the actor
      and the undergoer the recipient for a PLOVER-typed event; an untyped one fills only
      the slots its KAIROS frame maps (a Victim is a recipient; a Killer fills none).
      Triggers with no kind: nearest name (or he/she/they) before the trigger in its
      sentence as actor, nearest name (or him/them) after it as recipient.
    * location: a name right after ``in``/``at`` (optionally ``the``) in the
      sentence, the nearest one after the trigger, else the nearest before.
    * time (not for an untyped KAIROS event: the ontology has no time role): weekday
      names (with morning/evening/...), ``last/next/this``
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
    FRAME_AUXILIARY,
    FRAME_BOUNDARY,
    FRAME_DETERMINER,
    FRAME_NOT_OBJECT,
    FRAME_PASSIVE,
    KAIROS_FRAMES,
    KAIROS_SAYING,
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
    """A possible event: trigger span with plausible types and arguments.

    ``types`` is empty for an event PLOVER has no category for; ``kind`` then names it (a
    KAIROS type, e.g. ``Life.Die``). An actor or recipient found as a phrase ("12 people")
    is a :class:`Mention` of kind ``name`` with no resolved name.
    """

    start: int
    end: int
    text: str
    sentence: tuple[int, int]
    types: tuple[EventType, ...]
    actor: Mention | None
    recipient: Mention | None
    location: tuple[int, int] | None
    time: tuple[int, int] | None
    kind: str | None = None


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
_KINDS = {form: kind for kind, forms, _, _ in KAIROS_FRAMES for form in forms}
_KINDS.update({form: KAIROS_SAYING[0] for form in KAIROS_SAYING[1] if form not in _KINDS})
_FRAMES = {kind: (slots, place) for kind, _, slots, place in KAIROS_FRAMES}
_TRIGGER = re.compile(
    r"(?<![\w-])(?:" + alternation({*_EVENT_TYPES, *_KINDS}) + r")\b", re.IGNORECASE
)

_WORD = re.compile(r"[\w'\u2019.-]*\w|[^\w\s]")
_PHRASE_WORDS = 5
_VERB_WITH_OBJECT = frozenset({"back", "jail"})
_TRY = frozenset({"try", "tries", "tried", "trying"})
_TO = re.compile(r"\s+to\b")
_MODIFIER = re.compile(r"\s+[a-z]")
_BACK_OBJECT = re.compile(
    r"\s+(?:(?:" + alternation(FRAME_DETERMINER | OBJECT_PRONOUNS | {"us", "me", "it"}) + r")\b"
    r"|[A-Z])"
)


def _no_event(text: str, form: str, end: int) -> bool:
    """Whether a trigger form is used in a sense that names no event (module docstring)."""
    if form in _TRY:
        return bool(_TO.match(text, end))
    if form == "suicide":
        return bool(_MODIFIER.match(text, end))
    if form in _VERB_WITH_OBJECT:
        return not _BACK_OBJECT.match(text, end)
    return False


def _tokens(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text, start, end)]


def _phrase(
    text: str, words: Sequence[tuple[int, int, str]], mentions: Sequence[Mention]
) -> Mention | None:
    """The name or pronoun that ends ``words`` (a phrase's head comes last: "Wang Yi", not
    "Afghan" of "Afghan soldiers"), else the words."""
    if not words:
        return None
    start, end = words[0][0], words[-1][1]
    inside = [m for m in mentions if m.start >= start and m.end <= end]
    if inside and inside[-1].end == end:
        return inside[-1]
    return Mention(start, end, text[start:end], "name", None)


def _subject(
    text: str, sent: tuple[int, int], at: int, mentions: Sequence[Mention]
) -> tuple[Mention | None, bool]:
    """(the phrase before ``at``, whether a passive auxiliary stands between)."""
    words = _tokens(text, sent[0], at)
    passive = False
    while words and words[-1][2] in FRAME_AUXILIARY:
        passive = passive or words[-1][2] in FRAME_PASSIVE
        words.pop()
    if words and words[-1][2] in {"who", "which", "that"}:
        words.pop()
    taken: list[tuple[int, int, str]] = []
    for word in reversed(words):
        if word[2] in FRAME_BOUNDARY or not word[2][0].isalnum() or len(taken) == _PHRASE_WORDS:
            break
        taken.insert(0, word)
    return _phrase(text, taken, mentions), passive


def _after(
    text: str, sent: tuple[int, int], at: int, mentions: Sequence[Mention]
) -> tuple[str | None, Mention | None]:
    """(the preposition right after ``at`` or None, the phrase after it)."""
    words = _tokens(text, at, sent[1])
    head = None
    if words and words[0][2] in FRAME_BOUNDARY:
        head = words.pop(0)[2]
    if not words or words[0][2] in FRAME_NOT_OBJECT:
        return head, None
    taken: list[tuple[int, int, str]] = []
    for word in words:
        if word[2] in FRAME_BOUNDARY or not word[2][0].isalnum() or word[2] in FRAME_AUXILIARY:
            break
        if len(taken) == _PHRASE_WORDS:
            break
        taken.append(word)
    return head, _phrase(text, taken, mentions)


def _frame_arguments(
    text: str,
    sent: tuple[int, int],
    trig: re.Match[str],
    kind: str,
    typed: bool,
    mentions: Sequence[Mention],
) -> tuple[Mention | None, Mention | None]:
    """(actor, recipient) of a trigger with a KAIROS kind; see the module docstring."""
    (subject_slot, agent_slot, patient_slot), _ = _FRAMES[kind]
    if typed:
        agent_slot, patient_slot = "actor", "recipient"
        subject_slot = subject_slot or "actor"
    before = _tokens(text, sent[0], trig.start())
    nominal = bool(before) and (before[-1][2] in FRAME_DETERMINER or before[-1][2].endswith("'s"))
    head, following = _after(text, sent, trig.end(), mentions)
    filled: dict[str, Mention | None] = {}

    def put(slot: str | None, who: Mention | None) -> None:
        if slot is not None and who is not None and slot not in filled:
            filled[slot] = who

    if nominal:
        if head == "by":
            put(agent_slot, following)
        elif head in {"of", "on", "against"}:
            put(patient_slot, following)
    else:
        subject, passive = _subject(text, sent, trig.start(), mentions)
        if passive:
            put(patient_slot, subject)
            if head == "by":
                put(agent_slot, following)
        elif head is None and following is not None:
            put(agent_slot, subject)
            put(patient_slot, following)
        else:
            put(subject_slot, subject)
            if head in {"on", "against"}:
                put(patient_slot, following)
    return filled.get("actor"), filled.get("recipient")


def _closest(spans: Sequence[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    if not spans:
        return None
    return min(spans, key=lambda s: s[0] - end if s[0] >= end else start - s[1] + 0.5)


def _nearest_arguments(
    mentions: Sequence[Mention], start: int, end: int
) -> tuple[Mention | None, Mention | None]:
    """(nearest name or subject pronoun before, nearest name or object pronoun after)."""
    actor = next(
        (
            m
            for m in reversed(mentions)
            if m.end <= start and (m.kind == "name" or m.text.lower() in SUBJECT_PRONOUNS)
        ),
        None,
    )
    recipient = next(
        (
            m
            for m in mentions
            if m.start >= end and (m.kind == "name" or m.text.lower() in OBJECT_PRONOUNS)
        ),
        None,
    )
    return actor, recipient


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
            if _no_event(text, form, trig.end()):
                continue
            if form in NEEDS_AID_OBJECT and not AID_OBJECT.search(
                text, trig.end(), min(sent[1], trig.end() + 60)
            ):
                continue
            types = _EVENT_TYPES.get(form, ())
            kind = _KINDS.get(form)
            if kind is None:
                actor, recipient = _nearest_arguments(mentions, trig.start(), trig.end())
            else:
                actor, recipient = _frame_arguments(text, sent, trig, kind, bool(types), mentions)
            after = [s for s in locations if s[0] >= trig.end()]
            before = [s for s in locations if s[1] <= trig.start()]
            location = after[0] if after else (before[-1] if before else None)
            if kind is not None and not _FRAMES[kind][1]:
                location = None
            time = _closest(times, trig.start(), trig.end())
            out.append(
                EventCandidate(
                    trig.start(),
                    trig.end(),
                    trig.group(),
                    sent,
                    types,
                    actor,
                    recipient,
                    location,
                    time if types else None,
                    kind,
                )
            )
    return finish(out, limit)
