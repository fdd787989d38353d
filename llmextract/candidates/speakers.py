"""Speakers of a cue: the grammatical subject before a cue verb, or the phrase after it.

Rules (:func:`subject_of`, :func:`phrase_after`)
    * Before the cue, going back from it: auxiliaries and adverbs (``has``, ``also``,
      ``on Monday``, ``-ly`` words), one control verb with ``to`` (``declined to say``,
      ``is expected to say``), and a parenthesis between commas that opens an appositive,
      a relative clause, an age or an aside (``Wang, the minister,``, ``Barkley, who ...,``,
      ``Benford, 58,``, ``, however,``) are skipped.
    * Then the subject is the noun phrase that ends there, as written: a pronoun (``he``,
      ``I``, ``we``, ``you``, ``it``, or a relative ``who``/``which``/``that``, resolved to
      the name before it), else the words back to a determiner (``the judge``, ``a White
      House spokesman``) or to a function word or punctuation (``officials``, ``Twenty-four
      percent``).  A phrase that ends with a name is that name (``Former Arkansas Gov. Mike
      Huckabee`` gives the mention ``Mike Huckabee``, resolved as the mentions resolve it);
      any other phrase is a mention of kind ``phrase``, resolved to its own words.
    * A participle after a comma (``Trump thanked Adelson, telling ...``) takes the subject
      of its clause: the subject of the clause's own cue (``"...," Jealous said, suggesting``),
      else the first name or subject pronoun after any quotation mark that is not after a
      preposition.  A contracted pronoun (``He's comparing``) is the pronoun alone.
    * After an inverted cue (``"...," said the man who built ...``): the phrase from the cue
      up to punctuation or a function word, starting with a determiner.
"""

from __future__ import annotations

import re

from llmextract.candidates.document import SUBJECT_PRONOUNS, Document
from llmextract.candidates.lexicons import (
    CLAUSE_PREPOSITIONS,
    CUE,
    LY_NOUNS,
    PARENTHESIS_OPENERS,
    PHRASE_DETERMINERS,
    PHRASE_STOPS,
    SPEAKER_PRONOUNS,
    STOPWORDS,
    SUBJECT_GAP,
    SUBJECT_RELATIVES,
)
from llmextract.candidates.mentions import Mention, person_like
from llmextract.quotation import QUOTE_MARKS

__all__ = ["phrase_after", "subject_of"]

_TOKEN = re.compile(r"[^\W_][\w'\u2019.\-]*(?<!\.)|[^\w\s]")
_ABBREVIATED = re.compile(r"(?:[A-Z]|Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Col|Lt|Sgt|Capt|Adm|Rev|St|Jr)")

_CONTRACTED = re.compile(r"(\w+)['\u2019](?:s|m|re|ve|d|ll)", re.IGNORECASE)
_PARENTHESIS_REACH = 30  # tokens
_PHRASE_WORDS = 10


def _tokens(text: str, lo: int, hi: int) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for m in _TOKEN.finditer(text, lo, hi):
        word = m.group()
        start, end = m.start(), m.end()
        # "Mr." and "U.S." keep their full stop; a word before a sentence's stop does not.
        if text[end : end + 1] == "." and _ABBREVIATED.fullmatch(word.split(".")[-1] or word):
            end += 1
            word += "."
        out.append((start, end, word))
    return out


def _is_word(token: str) -> bool:
    return token[0].isalnum()


def _skip_gap(tokens: list[tuple[int, int, str]], i: int) -> int:
    """The index of the last token before the gap that ends at ``i`` (inclusive)."""
    controlled = parenthesis = False
    while i >= 0:
        word = tokens[i][2]
        low = word.lower()
        if low in SUBJECT_GAP or (
            word.islower() and low.endswith("ly") and len(low) > 4 and low not in LY_NOUNS
        ):
            i -= 1
        elif low == "to" and not controlled and i > 0 and tokens[i - 1][2].islower():
            controlled = True  # "declined to say": the subject is the control verb's
            i -= 2
        elif word == ",":
            k = i - 1
            while k >= 0 and i - k <= _PARENTHESIS_REACH and tokens[k][2] != ",":
                if not _is_word(tokens[k][2]) and tokens[k][2] not in "-'\u2019":
                    return i
                k -= 1
            if k < 0 or tokens[k][2] != "," or k + 1 >= i:
                return i
            opener = tokens[k + 1][2]
            if not (opener.lower() in PARENTHESIS_OPENERS or opener[0].isdigit()):
                return i
            i = k - 1
            parenthesis = True
        elif parenthesis and word[0].isdigit() and i > 0 and tokens[i - 1][2] == ",":
            i -= 2  # "Benford, 58, who ...": an age before the parenthesis
        else:
            return i
    return i


def _clause_subject(doc: Document, lo: int, comma: int) -> Mention | None:
    text = doc.text
    cues = list(CUE.finditer(text, lo, comma))
    if cues:  # "..., Jealous said, suggesting ...": the subject of the clause's own cue
        return subject_of(doc, (cues[-1].start(), cues[-1].end()), lo)
    marks = [k for k in range(lo, comma) if text[k] in QUOTE_MARKS]
    if marks:
        lo = marks[-1] + 1
    for m in doc.mentions_in(lo, comma):
        if m.kind == "pronoun" and m.text.lower() not in SUBJECT_PRONOUNS:
            continue
        before = text[max(lo, m.start - 12) : m.start].split()
        if before and before[-1].lower() in CLAUSE_PREPOSITIONS:
            continue
        return m
    return None


def _antecedent(doc: Document, pos: int) -> str | None:
    """The resolved name just before a relative pronoun at ``pos`` (``Barkley, who``)."""
    lead = doc.text[max(0, pos - 80) : pos].rstrip(" ,")
    for m in reversed(doc.mentions_in(max(0, pos - 80), pos)):
        if m.kind == "name" and m.end - max(0, pos - 80) == len(lead):
            return m.resolved
        break
    words = lead.split()
    return words[-1] if words and words[-1][:1].isupper() else None


def _phrase(doc: Document, start: int, end: int) -> Mention:
    """The name that ends the phrase ``[start, end)``, else the phrase itself."""
    names = [m for m in doc.mentions_in(start, end) if m.kind == "name" and m.end == end]
    if names:
        return names[-1]
    surface = doc.text[start:end]
    return Mention(start, end, surface, "phrase", " ".join(surface.split()))


def subject_of(doc: Document, cue: tuple[int, int], lo: int) -> Mention | None:
    """The subject of the cue at ``cue`` within ``[lo, cue[0])``; see the module docstring."""
    text = doc.text
    tokens = _tokens(text, lo, cue[0])
    if not tokens:
        return None
    verb = text[cue[0] : cue[1]]
    if verb.endswith("ing") and tokens[-1][2] == ",":
        return _clause_subject(doc, lo, tokens[-1][0])
    i = _skip_gap(tokens, len(tokens) - 1)
    if i < 0 or not _is_word(tokens[i][2]):
        return None
    start, end, word = tokens[i]
    contracted = _CONTRACTED.fullmatch(word)
    if contracted and contracted.group(1).lower() in SPEAKER_PRONOUNS:
        word = contracted.group(1)  # "He's comparing", "I'm saying"
        end = start + len(word)
    low = word.lower()
    if low in SPEAKER_PRONOUNS or low in SUBJECT_RELATIVES:
        pronoun = next((m for m in doc.mentions_in(start, end) if m.kind == "pronoun"), None)
        if pronoun is not None:
            return pronoun
        resolved = _antecedent(doc, start) if low in SUBJECT_RELATIVES else None
        if low in SUBJECT_RELATIVES and resolved is None and low != "who":
            return None
        return Mention(start, end, word, "pronoun", resolved)
    if low in PHRASE_STOPS or low in PHRASE_DETERMINERS or word in STOPWORDS:
        return None
    first = i
    while first > 0 and i - first < _PHRASE_WORDS:
        prev = tokens[first - 1][2]
        if not _is_word(prev) and prev not in "-":
            break
        low = prev.lower()
        if low in PHRASE_DETERMINERS:
            first -= 1
            break
        if (
            low in PHRASE_STOPS
            or low in SUBJECT_RELATIVES
            or low in SPEAKER_PRONOUNS
            or prev in STOPWORDS
        ):
            break
        first -= 1
    return _phrase(doc, tokens[first][0], end)


def phrase_after(doc: Document, pos: int, hi: int) -> Mention | None:
    """The phrase after an inverted cue (``said the man who built ...``), if it starts with a
    determiner; see the module docstring."""
    tokens = _tokens(doc.text, pos, hi)
    if not tokens or tokens[0][2].lower() not in PHRASE_DETERMINERS:
        return None
    last = 0
    for k in range(1, min(len(tokens), _PHRASE_WORDS)):
        word = tokens[k][2]
        if not _is_word(word) or word.lower() in PHRASE_STOPS or word.lower() in SUBJECT_RELATIVES:
            break
        last = k
    if last == 0:
        return None
    found = _phrase(doc, tokens[0][0], tokens[last][1])
    if found.kind == "name" and not (found.resolved and person_like(found.resolved)):
        return None
    return found
