"""WikiEvents (KAIROS event annotation, Li et al. 2021) to the gold format.

The input is a WikiEvents JSONL file (e.g. ``dev.jsonl``): one document per line with
``tokens``, ``sentences``, ``entity_mentions`` and ``event_mentions`` whose triggers and
arguments are token offsets (``start`` inclusive, ``end`` exclusive, counted over the whole
document).

**The document text is rebuilt from the tokens**, because the file's ``text`` field runs
sentences together ("...in SyriaThe desert..."). The rule:

* each sentence is the file's sentence string (``sentences[i][1]``) from its first token to
  its last, so the spacing inside a sentence is the original one ("Deir ez-Zor",
  "Al-Monitor"); each token's character offsets are its offsets in that string;
* sentences are joined by a single newline;
* a sentence whose token offsets do not match its string is rebuilt instead as its tokens
  joined by single spaces ("Deir ez - Zor"); a line without ``sentences`` is one sentence
  built that way. Sentences without tokens are left out.

Each event mention becomes a :class:`GoldEvent`: the trigger span, ``type`` = the PLOVER
category of the KAIROS type (:mod:`.kairos_plover`, approximate, ``None`` when there is
none), ``source_type`` = the KAIROS type, ``arguments`` = role -> spans of the argument
entity mentions (file order, duplicates dropped). The PLOVER slots are filled from
:data:`ROLE_SLOTS` with the first argument of the first listed role present; KAIROS has
no time role, so ``time`` stays empty. An argument whose entity mention is missing from the
document is left out (with a warning on the ``llmextract`` logger). ``meta.kairos_event_ids``
lists the source event ids in the order of ``events``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from llmextract.errors import InputError
from llmextract.evaluation.converters.kairos_plover import plover_type
from llmextract.evaluation.gold import GoldDocument, GoldEvent
from llmextract.jsonl import numbered_lines
from llmextract.schemas import Span

__all__ = ["ROLE_SLOTS", "convert"]

logger = logging.getLogger(__name__)

# PLOVER slot -> KAIROS roles that fill it, in order of preference. Kept to the roles of
# the agent and the patient of the types that map to PLOVER (attack, demonstrate, contact,
# arrest, charge/investigate, donation) plus Victim and Place. KAIROS has no "Agent" role
# and no time role; symmetric roles (Contact.Meet's two Participants) fill no slot.
ROLE_SLOTS: Final[dict[str, tuple[str, ...]]] = {
    "actor": (
        "Attacker",
        "Communicator",
        "Demonstrator",
        "Jailer",
        "Prosecutor",
        "Investigator",
        "Giver",
    ),
    "recipient": ("Target", "Recipient", "Victim", "Detainee", "Defendant"),
    "location": ("Place",),
}


def convert(src: Path) -> Iterator[GoldDocument]:
    """Gold documents of a WikiEvents JSONL file, in file order."""
    for number, line in numbered_lines(src):
        try:
            document = _document(json.loads(line))
        except json.JSONDecodeError as error:
            raise InputError(f"{src}:{number}: not JSON ({error.msg})") from None
        except (KeyError, IndexError, TypeError, ValueError) as error:
            raise InputError(f"{src}:{number}: {_describe(error)}") from None
        yield document


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]!r}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _document(record: dict[str, Any]) -> GoldDocument:
    doc_id = str(record["doc_id"])
    text, offsets = _layout(record)

    def span(start: int, end: int, what: str) -> Span:
        if not 0 <= start < end <= len(offsets):
            raise ValueError(f"{what}: token range [{start}, {end}) is outside the document")
        first, last = offsets[start][0], offsets[end - 1][1]
        return Span(text=text[first:last], start=first, end=last)

    entities = {str(m["id"]): m for m in record.get("entity_mentions", [])}
    events: list[GoldEvent] = []
    ids: list[str] = []
    for mention in record.get("event_mentions", []):
        event_id = str(mention.get("id", ""))
        trigger = mention["trigger"]
        arguments: dict[str, list[Span]] = {}
        for argument in mention.get("arguments", []):
            entity = entities.get(str(argument["entity_id"]))
            if entity is None:
                logger.warning(
                    "%s %s: argument %s refers to unknown entity %s",
                    doc_id,
                    event_id,
                    argument["role"],
                    argument["entity_id"],
                )
                continue
            where = f"{event_id} argument {argument['entity_id']}"
            argument_span = span(int(entity["start"]), int(entity["end"]), where)
            spans = arguments.setdefault(str(argument["role"]), [])
            if argument_span not in spans:
                spans.append(argument_span)
        source_type = str(mention["event_type"])
        events.append(
            GoldEvent(
                type=plover_type(source_type),
                source_type=source_type,
                trigger=span(int(trigger["start"]), int(trigger["end"]), f"{event_id} trigger"),
                arguments=arguments,
                actor=_first(arguments, ROLE_SLOTS["actor"]),
                recipient=_first(arguments, ROLE_SLOTS["recipient"]),
                location=_first(arguments, ROLE_SLOTS["location"]),
            )
        )
        ids.append(event_id)
    return GoldDocument(
        id=doc_id,
        text=text,
        tasks=["events"],
        source="wikievents",
        events=events,
        meta={"kairos_event_ids": ids},
    )


def _first(arguments: dict[str, list[Span]], roles: Sequence[str]) -> Span | None:
    for role in roles:
        if arguments.get(role):
            return arguments[role][0]
    return None


def _layout(record: dict[str, Any]) -> tuple[str, list[tuple[int, int]]]:
    """The document text and the (start, end) character offsets of every token."""
    tokens = [str(token) for token in record["tokens"]]
    sentences = record.get("sentences") or [[[[token] for token in tokens], ""]]
    lines: list[str] = []
    offsets: list[tuple[int, int]] = []
    words: list[str] = []
    cursor = 0
    for sentence in sentences:
        entries, sentence_text = sentence[0], sentence[1]
        if not entries:
            continue
        sentence_words = [str(entry[0] if isinstance(entry, list) else entry) for entry in entries]
        line, local = _from_offsets(entries, sentence_words, sentence_text)
        if not local:
            line, local = _from_words(sentence_words)
        if lines:
            cursor += 1  # the newline between sentences
        lines.append(line)
        offsets.extend((cursor + start, cursor + end) for start, end in local)
        words.extend(sentence_words)
        cursor += len(line)
    if words != tokens:
        raise ValueError("the tokens of 'sentences' are not the document's 'tokens'")
    return "\n".join(lines), offsets


def _from_offsets(
    entries: Sequence[Any], words: Sequence[str], sentence_text: Any
) -> tuple[str, list[tuple[int, int]]]:
    """The sentence as written in the file, if every token sits at its offsets in it."""
    if not isinstance(sentence_text, str):
        return "", []
    try:
        starts = [int(entry[1]) for entry in entries]
        ends = [int(entry[2]) for entry in entries]
    except (IndexError, TypeError, ValueError):
        return "", []
    base = starts[0]
    local: list[tuple[int, int]] = []
    previous_end = 0
    for word, start, end in zip(words, starts, ends, strict=True):
        start, end = start - base, end - base
        if start < previous_end or sentence_text[start:end] != word:
            return "", []
        local.append((start, end))
        previous_end = end
    return sentence_text[: local[-1][1]], local


def _from_words(words: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """The sentence as its tokens joined by single spaces."""
    local: list[tuple[int, int]] = []
    position = 0
    for word in words:
        local.append((position, position + len(word)))
        position += len(word) + 1
    return " ".join(words), local
