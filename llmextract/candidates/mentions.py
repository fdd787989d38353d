"""Mentions: names (capitalised runs, titles dropped) and personal pronouns, resolved.

Rules (:func:`find_mentions`)
    * A *name* is a run of capitalised words separated by single spaces.  A
      run may hold lower-case connectors between capitalised words (``bin``,
      ``de``, ``von``, ``van``, ``al``, ...), hyphenated or apostrophised words
      (``al-Assad``, ``O'Brien``) and initials (``J. Smith``, ``U.S.``).
    * A possessive ``'s`` ends the run and is not part of the name.
    * Stopwords (``The``, ``But``, ``While``, ``He``, ...), month and weekday
      names break runs and are never names.
    * Titles (``President``, ``Minister``, ``Secretary of State``, ``Mayor``,
      ``Councillor``, ``Dr.``, ``Mr.``, ``Sen.``, ...) are dropped together with
      everything before them in the run: ``Chinese Foreign Minister Wang Yi``
      gives ``Wang Yi``.  A run that is only a title gives nothing.
    * Countries, cities and demonyms count as names like any capitalised word.
    * A single capitalised word that starts a sentence (or follows an opening
      quote, bracket or colon) is kept only if it is a known country/city/
      demonym, appears capitalised elsewhere not sentence-initially, or is
      followed by a cue verb, possibly after up to three adverbial words
      (``Patrushev also told``, ``Qin on Monday urged``).
    * ``resolved`` of a name is the most recent earlier name whose words
      include all of its words and which is longer (``Wang`` -> ``Wang Yi``),
      otherwise the name itself (whitespace normalised).
    * *Pronouns* are the whole words he, she, they, his, her, him, them (any
      case).  he/she/his/her/him resolve to the nearest preceding person-like
      name (not a known place/demonym, no organisation word such as
      ``Council`` or ``Ministry``, not an all-capitals acronym); they/them to
      the nearest preceding name of any kind.  ``resolved`` is that name's
      resolved form, or ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from llmextract.candidates.lexicons import (
    CONNECTORS,
    CUE,
    DEMONYMS,
    DOTTED_TITLES,
    NOT_NAMES,
    ORG_WORDS,
    PLACES,
    TITLES,
    WEEKDAYS,
)
from llmextract.chunking import split_sentences

__all__ = ["Mention", "find_mentions", "person_like"]


@dataclass(frozen=True)
class Mention:
    """A person/organisation/country name, a pronoun, or (as a speaker) a common-noun phrase
    such as ``the judge``: ``text == article[start:end]``."""

    start: int
    end: int
    text: str
    kind: Literal["name", "pronoun", "phrase"]
    resolved: str | None


# A word: letters, optionally joined by single apostrophes or hyphens.  The joiner
# is required between repetitions, so the repetition cannot backtrack badly.
_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_PRONOUN = re.compile(r"\b(?:he|she|they|his|her|him|them)\b", re.IGNORECASE)
_SPACES = (" ", "\xa0")
# Between a sentence-initial name and its cue verb: "Qin on Monday urged", "Ode also said".
_BEFORE_CUE = re.compile(
    r"\s+(?:(?:also|has|had|have|then|later|again|on|last|this|earlier|recently|week|month"
    r"|year|night|morning|" + "|".join(WEEKDAYS) + r")\s+){0,3}(?=\S)"
)


def _capitalised(word: str) -> bool:
    if word[0].isupper():
        return True
    # "al-Assad", "bin-Salman": a lower-case particle glued to a capitalised name.
    head, sep, tail = word.partition("-")
    return bool(sep) and head in CONNECTORS and tail[:1].isupper()


def _possessive(word: str) -> bool:
    return word.endswith(("'s", "\u2019s")) and len(word) > 2


def _is_title(word: str) -> bool:
    return any(part in TITLES for part in word.split("-"))


def _sentence_initial(text: str, pos: int, sentence_starts: set[int]) -> bool:
    k = pos
    while True:
        if k in sentence_starts:
            return True
        if k == 0 or text[k - 1] not in " \t\"'\u201c\u2018([":
            break
        k -= 1
    return k > 0 and text[k - 1] in ":\n"


def _normalise(name: str) -> str:
    return " ".join(name.split())


def person_like(name: str) -> bool:
    """Whether a name looks like a person's: no place, demonym, organisation word or acronym."""
    words = name.replace(".", " ").split()
    if not words:
        return False
    if any(w in ORG_WORDS or w in PLACES or w in DEMONYMS for w in words):
        return False
    return not any(w.isupper() and len(w) > 1 for w in words)


def _name_runs(text: str) -> list[tuple[int, int, list[str], bool]]:
    """Capitalised runs as ``(start, end, words, sentence_initial)``, titles dropped."""
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    sentence_starts = {s for s, _ in split_sentences(text)}
    runs: list[tuple[int, int, list[str], bool]] = []
    n = len(tokens)
    i = 0
    while i < n:
        word = tokens[i][2]
        if not _capitalised(word) or word in NOT_NAMES:
            i += 1
            continue
        run = [i]
        title_end = -1  # index into run of the last title word (or its "of X" tail)
        if _is_title(word):
            title_end = 0
        j = i
        while j + 1 < n and not _possessive(tokens[j][2]):
            _, end, cur = tokens[j]
            nstart, nend, nxt = tokens[j + 1]
            gap = text[end:nstart]
            dotted = (len(cur) == 1 and cur.isupper()) or cur in DOTTED_TITLES
            if not (gap in _SPACES or (dotted and gap in (".", ". ", ".\xa0"))):
                break
            if _capitalised(nxt) and nxt not in NOT_NAMES:
                run.append(j + 1)
                j += 1
                if _is_title(nxt):
                    title_end = len(run) - 1
                continue
            connector = nxt in CONNECTORS or (nxt == "of" and _is_title(cur))
            if connector and gap in _SPACES and j + 2 < n:
                third = tokens[j + 2]
                if (
                    text[nend : third[0]] in _SPACES
                    and _capitalised(third[2])
                    and third[2] not in NOT_NAMES
                ):
                    run.extend([j + 1, j + 2])
                    j += 2
                    if nxt == "of" or _is_title(third[2]):
                        title_end = len(run) - 1
                    continue
            break
        i = j + 1
        kept = run[title_end + 1 :]
        if not kept:
            continue
        words = [tokens[k][2] for k in kept]
        start = tokens[kept[0]][0]
        end = tokens[kept[-1]][1]
        last = words[-1]
        if _possessive(last):
            cut = len(last) - 2
            words[-1] = last[:cut]
            end -= 2
        elif len(last) == 1 and text[end : end + 1] == ".":
            end += 1  # "U.S." keeps its final full stop
        if sum(len(w) for w in words) < 2 or start >= end:
            continue
        initial = _sentence_initial(text, start, sentence_starts)
        runs.append((start, end, words, initial))
    return runs


def find_mentions(text: str) -> list[Mention]:
    """Names (capitalised runs) and personal pronouns, resolved; see the module docstring."""
    runs = _name_runs(text)
    mid_sentence: set[str] = set()
    for _, _, words, initial in runs:
        mid_sentence.update(words[1:] if initial else words)
    found: list[tuple[int, int, Literal["name", "pronoun"]]] = []
    for start, end, words, initial in runs:
        if initial and len(words) == 1:
            word = words[0]
            known = word in PLACES or word in DEMONYMS or word in mid_sentence
            after = text[end : end + 80]
            cued = _BEFORE_CUE.match(after)
            if not known and not (cued and CUE.match(after, cued.end())):
                continue
        found.append((start, end, "name"))
    for m in _PRONOUN.finditer(text):
        found.append((m.start(), m.end(), "pronoun"))
    found.sort()

    mentions: list[Mention] = []
    names: list[tuple[str, frozenset[str], bool]] = []  # resolved, words, person-like
    for start, end, kind in found:
        surface = text[start:end]
        if kind == "name":
            parts = frozenset(surface.replace(".", " ").split())
            resolved = _normalise(surface)
            for full, full_parts, _ in reversed(names):
                if parts < full_parts:
                    resolved = full
                    break
            full_parts = frozenset(resolved.replace(".", " ").split())
            names.append((resolved, full_parts, person_like(resolved)))
            mentions.append(Mention(start, end, surface, "name", resolved))
        else:
            plural = surface.lower() in ("they", "them")
            target: str | None = None
            for full, _, person in reversed(names):
                if plural or person:
                    target = full
                    break
            mentions.append(Mention(start, end, surface, "pronoun", target))
    return mentions
