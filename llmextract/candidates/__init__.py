"""Propose candidate quotes, events and stances with exact character offsets.

A tiny model cannot reliably find and copy spans, so this package does the
finding: it proposes candidate records whose offsets are exact, and the model
only decides among them (keep or not, which speaker, which event type, which
polarity).  Candidates therefore aim at high recall, with the most plausible
option first.  Everything here is plain regular expressions and small word
lists (no parser); every rule is listed in the docstring of its module.  All
offsets are Python ``str`` indices into the given text and every ``text`` field
equals ``text[start:end]``.  Every finder returns its records in text order
(by ``(start, end)``), without two records sharing ``(start, end)``; a
``limit`` keeps only the first ones.

Modules:

* :mod:`~llmextract.candidates.mentions`: names and pronouns (:func:`find_mentions`);
* :mod:`~llmextract.candidates.quotes`: direct, indirect and mixed quotes
  (:func:`find_quotes`);
* :mod:`~llmextract.candidates.speakers`: a cue's grammatical subject, the speaker offered
  first;
* :mod:`~llmextract.candidates.events`: event triggers and arguments (:func:`find_events`);
* :mod:`~llmextract.candidates.stances`: stance sentences (:func:`find_stances`);
* :mod:`~llmextract.candidates.lexicons`: the word lists they match;
* :mod:`~llmextract.candidates.document`: sentences, paragraphs and the look-ups they share.
"""

from __future__ import annotations

from llmextract.candidates.events import EventCandidate, find_events
from llmextract.candidates.mentions import Mention, find_mentions
from llmextract.candidates.quotes import QuoteCandidate, find_quotes
from llmextract.candidates.stances import StanceCandidate, find_stances, phrase_polarity

__all__ = [
    "EventCandidate",
    "Mention",
    "QuoteCandidate",
    "StanceCandidate",
    "find_events",
    "find_mentions",
    "find_quotes",
    "find_stances",
    "phrase_polarity",
]
