"""Stance candidates: a sentence whose stance verb links a holder to a target.

Rules (:func:`find_stances`)
    * Verb lexicon ``STANCE_LEXICON`` (:mod:`~llmextract.candidates.lexicons`):
      support (backed, supported, welcomed, praised, endorsed, stick together
      with), oppose (dismissed, slammed, criticised, rejected, opposed,
      condemned, accused, blamed, warned against, voted against, expressed
      (deep) concern about/over), neutral (discussed, examined, commented on).
    * holder: the name/pronoun attached before the verb (same rules as the
      quote cue subject), else the nearest name/subject pronoun before it.
    * target: up to six words after the verb, stopping at punctuation,
      quotation marks and that/which/who/because/when/while/after/before.
    * The record spans the sentence, so a sentence gives at most one stance:
      the first verb that has a holder and a target.

Phrase polarity (:func:`phrase_polarity`)
    * The mean score of the phrase's words in ``POLARITY_WORDS`` (word log-odds of
      favourable over unfavourable news sentences, derived from NewsMTSC train): support
      above ``POLARITY_THRESHOLD``, else oppose. Neutral is never guessed: the phrases
      it is for are given as stances, which take a side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from llmextract.candidates.document import SUBJECT_PRONOUNS, Document, finish, subject_before
from llmextract.candidates.lexicons import (
    POLARITY_THRESHOLD,
    POLARITY_WORDS,
    STANCE_LEXICON,
    alternation,
)
from llmextract.candidates.mentions import Mention
from llmextract.schemas import Polarity

__all__ = ["StanceCandidate", "find_stances", "phrase_polarity"]


@dataclass(frozen=True)
class StanceCandidate:
    """A possible stance: the evidence passage, holder, target and polarity hint.

    ``holder`` is ``None`` for the article's own stance; ``polarity_hint`` is ``None`` when
    the code has no guess (a passage given by the caller, not found by a stance verb).
    ``options`` are the polarities a decision may take (empty: any); an answer outside them
    is replaced by the hint (else :func:`phrase_polarity`) when offered, else the first.
    """

    start: int
    end: int
    text: str
    holder: Mention | None
    target: str
    polarity_hint: Polarity | None
    options: tuple[Polarity, ...] = ()


_STANCE_POLARITY = {
    form: polarity for forms, polarity in STANCE_LEXICON for form in forms.split("|")
}
_STANCE_VERB = re.compile(
    r"\b(?:"
    + alternation(_STANCE_POLARITY)
    + r"|(?P<concern>expressed\s+[\"\u201c]?(?:(?:deep|grave|serious|great)\s+)?concern"
    + r"[\"\u201d]?\s+(?:about|over|at|regarding))"
    + r")(?!\w)"
)
_TARGET_STOP = re.compile(
    r"[,.;:!?()\"\u201c\u201d]|\b(?:that|which|who|because|when|while|after|before)\b"
)


_PHRASE_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def phrase_polarity(phrase: str) -> Polarity:
    """Support or oppose for a phrase that takes a side; see the module docstring."""
    words = set(_PHRASE_WORD.findall(phrase.lower()))
    known = [POLARITY_WORDS[w] for w in words if w in POLARITY_WORDS]
    score = sum(known) / len(known) if known else 0.0
    return "support" if score > POLARITY_THRESHOLD else "oppose"


def find_stances(text: str, *, limit: int | None = None) -> list[StanceCandidate]:
    """Stance candidates (one per sentence at most); see the module docstring."""
    doc = Document(text)
    out: list[StanceCandidate] = []
    for sent in doc.sentences:
        for verb in _STANCE_VERB.finditer(text, sent[0], sent[1]):
            if verb.group("concern"):
                polarity: Polarity = "oppose"
            else:
                polarity = _STANCE_POLARITY[" ".join(verb.group().split())]
            holder = subject_before(doc, verb.start(), sent)
            if holder is None:
                holder = next(
                    (
                        m
                        for m in reversed(doc.mentions_in(sent[0], verb.start()))
                        if m.kind == "name" or m.text.lower() in SUBJECT_PRONOUNS
                    ),
                    None,
                )
            if holder is None:
                continue
            stop = _TARGET_STOP.search(text, verb.end(), sent[1])
            phrase = text[verb.end() : stop.start() if stop else sent[1]]
            target = " ".join(phrase.split()[:6])
            if not target:
                continue
            out.append(
                StanceCandidate(sent[0], sent[1], text[sent[0] : sent[1]], holder, target, polarity)
            )
            break
    return finish(out, limit)
