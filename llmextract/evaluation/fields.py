"""What the built-in tasks' scorers count, field by field, and the names scores share.

Every count is computed from one document alone (:func:`score_document`), so a corpus score is
a sum over documents and documents can be resampled (:func:`bootstrap`,
:func:`paired_bootstrap`). Fields, keyed ``task.field`` once aggregated:

``quotes``
    ``content`` (content spans, matched one-to-one), ``content_direct`` (the same on the
    DIRECT subset alone: see :func:`is_direct`), ``content_token`` (token overlap of content
    spans, BBC citron style: see :func:`token_prf`), and, over matched quotes, ``speaker``,
    ``cue`` and ``kind``.
``events``
    ``trigger`` (trigger spans, whatever the type), ``type`` (trigger matched *and* same PLOVER
    type; gold events and predictions without a type are left out), over matched triggers one
    field per argument role: ``arg:actor``, ``arg:recipient``, ``arg:location``, ``arg:time``, and
    ``arguments``: all roles end to end (arguments of missed and spurious events count too).
``stances``
    ``evidence`` (evidence spans), and, over matched stances, ``holder``, ``target`` and
    ``polarity``.
a user task
    each span and label field it declares (:mod:`~llmextract.evaluation.generic`), unless
    its :attr:`~llmextract.tasks.TaskSpec.scorer` counts others.

Attribute fields scored over matched pairs (``speaker``, ``cue``, ``holder``) count only the
gold side: a pair whose gold has the attribute is a true positive when the prediction gets it
right and a false negative otherwise, and a pair whose gold lacks it counts nothing, so their
recall is the attribution accuracy and their precision is 1 (or 0 when nothing counted).
Label fields over matched pairs (``kind``, ``target``, ``polarity``) count a wrong label as
both a false positive and a false negative. Argument roles count a predicted argument that
misses as both, a missing one as a false negative and one the gold lacks as a false positive.

Results are dataclasses of numbers and strings: ``dataclasses.asdict`` makes them JSON-ready.
Pure: no I/O, no client.
"""

from __future__ import annotations

__all__ = ["ARGUMENT_ROLES", "MISSED", "SPURIOUS", "split_key"]

MISSED = "MISSED"
SPURIOUS = "SPURIOUS"
ARGUMENT_ROLES = ("actor", "recipient", "location", "time")


def split_key(key: str) -> tuple[str, str]:
    """``("quotes", "content")`` of ``"quotes.content"``; a key without a task raises."""
    task, dot, name = key.partition(".")
    if not dot or not task:
        raise ValueError(f"field keys look like 'quotes.content', not {key!r}")
    return task, name
