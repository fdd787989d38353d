"""Quote candidates: direct, indirect and mixed quotations with cue and plausible speakers.

Rules (:func:`find_quotes`)
    * Cue lexicon: said, says, say, told, tells, added, stated, urged, warned,
      claimed, insisted, denied, announced, noted, explained, argued, asked,
      accused, expressed, called for, called on, according to, wrote,
      tweeted, declared, stressed, emphasised/emphasized, dismissed and their
      -ing/-s forms, plus a few more reporting verbs (admitted, acknowledged,
      confirmed, suggested, replied, ...).  Ambiguous plural nouns (claims,
      notes, states, reports) are left out.
    * Doubled apostrophes typed for a double mark (``''No,'' he said``, as some
      papers' archives give quotations) are read as that mark to find candidates;
      a candidate's kind is still the one :mod:`llmextract.quotation` gives the
      text as written.
    * Direct: every outermost quotation that :mod:`llmextract.quotation` finds
      (its rule says which marks count, how quotations nest and where a
      quotation left open at a paragraph's end stops).  Content is the text
      inside the marks, trimmed of whitespace and a trailing ``,;:``; content
      of fewer than two words (scare quotes) is dropped, and so is a title: fewer
      than five words, all capitalised but ``a``, ``the``, ``of``, ..., and no
      cue (``"The Axe Files"``), and so is a markup attribute's value
      (``datetime="2015-12-02"``: the opening mark right after ``=``).  A
      quotation of fewer than five words starting in lower case with no cue takes in
      the noun phrase it completes, from a determiner up to five words before the
      opening mark (``the cause of "comprehensive immigration reform"``), and is
      then mixed.
    * Direct cue: a cue within 60 characters after the closing mark in the
      same sentence (``"...," Wang said``), else the last cue before the
      opening mark in the sentence (after any earlier quote), else any cue
      after the quote in the sentence.  A quote with no cue in a paragraph
      where an earlier direct quote had one inherits that cue
      (``"X," he said. "Y."``).
    * Parts of one quotation joined by a frame of up to 200 characters (no line
      break, no quotation mark) that holds their cue (``"X," Reed said. "Y."``,
      ``"X," Reed said, adding that .... "Y."``) form one candidate from the
      first part's start to the last part's end, frame included, as PolNeAR
      annotates them.
    * Indirect: every cue in a sentence that is outside quotation marks and
      not the cue of a direct quote standing before it, nor passive
      (followed by ``by``).  Content is:
      after ``According to SOURCE,`` (an appositive name after SOURCE is
      skipped) the rest of the sentence; before ``, according to SOURCE`` the
      sentence up to that comma; for ``CLAUSE, X said.`` (at most four words
      after the cue, no ``that``) the clause before the comma; otherwise the
      text after the cue (from ``that`` when ``that`` follows a saying verb
      within 12 words, ``NAME told Y that CLAUSE``) up to the sentence end,
      or up to the next cue coordinated by a comma or ``and`` (``urged X and
      called for Y``).  Final ``.!?``, trailing ``,;:`` and ``and`` are
      trimmed; content needs two words.  Content that is exactly one direct
      quote is not repeated as indirect.
    * Mixed: an indirect content holding a quotation mark.  A direct quote
      inside a mixed content whose cue is the same (or none) is dropped.
    * Speakers, best first, at most 3, distinct by resolved name: the cue's
      grammatical subject as written (:mod:`~llmextract.candidates.speakers`:
      ``the judge said``, ``Wang, the minister, said``, ``I told``, ``who said``),
      else the name or pronoun attached to the cue (``Wang on Monday said``; or
      after the cue: ``said Wang``, ``said a source close to ...``; for
      ``according to`` the names in the source phrase, person-like first, or the
      source as written when it names no person), then the speakers of an
      earlier cue in the same sentence (coordinated verbs), then the name nearest
      to the cue in the sentence outside the content, then the most recent best
      speaker of an earlier quote in the same paragraph.
"""

from __future__ import annotations

import dataclasses
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from llmextract.candidates.document import (
    Document,
    distinct,
    finish,
    nearest,
    subject_after,
    subject_before,
    word_count,
)
from llmextract.candidates.lexicons import CUE, INVERTING, SAYING
from llmextract.candidates.mentions import Mention, person_like
from llmextract.candidates.speakers import phrase_after, subject_of
from llmextract.quotation import QUOTE_MARKS, quotations, quote_kind, quoted_mask
from llmextract.schemas import QuoteKind

__all__ = ["QuoteCandidate", "find_quotes"]


@dataclass(frozen=True)
class QuoteCandidate:
    """A possible quote: content span, kind, cue span and plausible speakers."""

    start: int
    end: int
    text: str
    kind: QuoteKind
    cue: tuple[int, int] | None
    speakers: tuple[Mention, ...]


_PASSIVE_BY = re.compile(r"\s+by\b")
_THAT = re.compile(r"\bthat\b")
_STOP_BEFORE_THAT = re.compile(r"[.;:!?\"\u201c\u201d]")
_TRAILING_JUNK = re.compile(r"(?:[\s,;:]|\band\b)+$")
_FINAL_STOP = re.compile(r"[.!?\u2026]+$")
_SHORT_QUOTE_WORDS = 5
_TITLE_LINKS = frozenset(["a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "for"])
_WORD_SPAN = re.compile(r"\S+")
_SOURCE_WORDS = 12  # words of an "according to" source offered as its speaker
_AFTER_QUOTE_FRAME = re.compile(r"[\s,]*(?:[\w.'\u2019-]+\s+){0,5}")
# The noun phrase a short cue-less quotation completes: a determiner and up to five words
# right before the opening mark ("the Republican-repelling cause of ").
_NOUN_PHRASE_LEAD = re.compile(
    r"\b((?:the|a|an|his|her|its|their|this|our|my|your)\s+(?:[\w'\u2019-]+\s+){0,5})\Z",
    re.IGNORECASE,
)


@dataclass
class _Draft:
    start: int
    end: int
    kind: QuoteKind
    cue: tuple[int, int] | None
    attached: list[Mention]  # speakers attached to the cue
    nearby: list[Mention]  # other names in the sentence, nearest first
    paragraph: int
    sentence: int
    mark: tuple[int, int] | None = None  # opening/closing mark positions of a direct quote


def _trim(text: str, start: int, end: int, *, final: bool) -> tuple[int, int]:
    """Shrink ``[start, end)`` past whitespace and ``,;:`` at both ends, a trailing ``and``
    and (if ``final``) a final ``.!?``."""
    while start < end and (text[start].isspace() or text[start] in ",;:"):
        start += 1
    for _ in range(3):
        seg = text[start:end]
        m = _TRAILING_JUNK.search(seg)
        if m:
            end = start + m.start()
        if final:
            f = _FINAL_STOP.search(text[start:end])
            if f:
                end = start + f.start()
    return start, end


def _direct_drafts(doc: Document) -> list[_Draft]:
    text = doc.text
    drafts: list[_Draft] = []
    for quotation in quotations(text):
        if quotation.depth > 0:
            continue  # quoted inside another quotation: part of that one's content
        open_, close = quotation.open, quotation.close
        if text[open_ - 1 : open_] == "=":
            continue  # a markup attribute's value (<tweet datetime="2015-12-02">), no quote
        cstart, cend = _trim(text, open_ + 1, close, final=False)
        if word_count(text[cstart:cend]) < 2:
            continue
        si = doc.sentence_index(close if close < len(text) else open_)
        sent = doc.sentences[si]
        first = doc.sentences[doc.sentence_index(open_)]
        # Frames: the sentence text before the opening mark and after the closing mark.
        before_start = first[0]
        for k in range(open_ - 1, first[0] - 1, -1):
            if text[k] in QUOTE_MARKS:
                before_start = k + 1
                break
        after_end = max(sent[1], close + 1)
        for k in range(close + 1, min(after_end, len(text))):
            if text[k] in QUOTE_MARKS:
                after_end = k
                break
        after = [m for m in CUE.finditer(text, close + 1, after_end) if m.start() > close]
        before = list(CUE.finditer(text, before_start, open_))
        cue_m: re.Match[str] | None = None
        closes_clause = text[open_ + 1 : close].rstrip()[-1:] in ",.?!\u2026" or text[
            close + 1 : close + 3
        ].lstrip().startswith(",")
        if (
            after
            and closes_clause
            and _AFTER_QUOTE_FRAME.fullmatch(text, close + 1, after[0].start())
        ):
            cue_m = after[0]
        elif before:
            cue_m = before[-1]
        elif after:
            cue_m = after[0]
        cue = (cue_m.start(), cue_m.end()) if cue_m else None
        attached: list[Mention] = []
        if cue_m is not None:
            verb = " ".join(cue_m.group().split())
            blocked = [(open_, close)]
            lo = close + 1 if cue_m.start() > close else before_start
            subj = subject_of(doc, (cue_m.start(), cue_m.end()), lo)
            if subj is None:
                subj = subject_before(doc, cue_m.start(), (before_start, sent[1]), blocked)
            if subj is None and cue_m.start() > close:
                subj = subject_before(doc, cue_m.start(), (close + 1, sent[1]))
            if subj is None and verb in INVERTING:
                subj = subject_after(doc, cue_m.end(), (cue_m.end(), sent[1]))
            if subj is None and verb in INVERTING and cue_m.start() > close:
                subj = phrase_after(doc, cue_m.end(), sent[1])
            if subj is not None:
                attached.append(subj)
        around = [m for m in doc.mentions_in(first[0], sent[1]) if not open_ <= m.start < close + 1]
        anchor = cue[0] if cue else open_
        drafts.append(
            _Draft(
                cstart,
                cend,
                "direct",
                cue,
                attached,
                nearest(around, anchor),
                doc.paragraph_index(open_),
                si,
                (open_, close),
            )
        )
    # "X," he said. "Y.": a cue-less quote inherits the cue of an earlier one.
    for k, d in enumerate(drafts):
        if d.cue is None and k > 0:
            prev = drafts[k - 1]
            if prev.paragraph == d.paragraph and prev.cue is not None:
                d.cue = prev.cue
    # A title in quotation marks ("Morning Joe", "The Axe Files"): short, every word
    # capitalised (or a link word), with no cue, it is a name, not a quote.
    kept = [
        d
        for d in drafts
        if word_count(text[d.start : d.end]) >= _SHORT_QUOTE_WORDS
        or d.cue is not None
        or not all(
            w[:1].isupper() or w.lower() in _TITLE_LINKS for w in text[d.start : d.end].split()
        )
    ]
    # A short lower-case phrase quoted with no cue completes a noun phrase ("the cause of
    # "comprehensive immigration reform""): PolNeAR's content is the whole phrase.
    for k, d in enumerate(kept):
        if (
            d.cue is None
            and d.mark is not None
            and word_count(text[d.start : d.end]) < _SHORT_QUOTE_WORDS
            and text[d.start].islower()
        ):
            lead = _NOUN_PHRASE_LEAD.search(text, max(0, d.mark[0] - 80), d.mark[0])
            if lead is not None:
                # The closing mark too, as in every content holding an opening one.
                end = d.mark[1] + 1 if d.end == d.mark[1] else d.end
                kept[k] = dataclasses.replace(d, start=lead.start(1), end=end, kind="mixed")
    return kept


def _according_to(
    doc: Document, cue: re.Match[str], sent: tuple[int, int]
) -> tuple[int, int, list[Mention]] | None:
    text = doc.text
    lead = text[sent[0] : cue.start()]
    if not lead.strip(" \t\n\"'\u201c(") or lead.rstrip().endswith((":", ";")):
        # "According to SOURCE, CLAUSE."
        comma = text.find(",", cue.end(), sent[1])
        if comma == -1:
            return None
        source = (cue.end(), comma)
        nxt = text.find(",", comma + 1, sent[1])
        if nxt != -1:
            appositive = text[comma + 1 : nxt].strip()
            if any(m.text == appositive for m in doc.mentions_in(comma + 1, nxt)):
                source = (cue.end(), nxt)
                comma = nxt
        start, end = _trim(text, comma + 1, sent[1], final=True)
    else:
        # "CLAUSE, according to SOURCE."
        source = (cue.end(), sent[1])
        start, end = _trim(text, sent[0], cue.start(), final=False)
    names = [m for m in doc.mentions_in(*source) if m.kind == "name"]
    names.sort(key=lambda m: not (m.resolved and person_like(m.resolved)))
    phrase = _source_phrase(text, *source)
    if phrase is not None and not any(m.resolved and person_like(m.resolved) for m in names):
        names.insert(0, phrase)  # "according to the newspaper", "according to a new poll"
    return start, end, names


def _source_phrase(text: str, start: int, end: int) -> Mention | None:
    """The source of ``according to`` as written: up to a comma or the sentence's end."""
    comma = text.find(",", start, end)
    if comma != -1:
        end = comma
    start, end = _trim(text, start, end, final=True)
    words = list(_WORD_SPAN.finditer(text, start, end))[:_SOURCE_WORDS]
    if not words:
        return None
    end = words[-1].end()
    surface = text[start:end]
    return Mention(start, end, surface, "phrase", " ".join(surface.split()))


def _coordination_start(text: str, end: int) -> int:
    """Where the coordination that ends at ``end`` starts at the latest (``", "``,
    ``", and "`` or ``" and "``: what links two reported clauses), or -1 when none does.

    A content runs to the next cue after such a coordination; asking once per cue, rather
    than searching the text between every pair of cues, keeps a sentence full of cue verbs
    linear.
    """
    gap = end
    while gap > 0 and text[gap - 1].isspace():
        gap -= 1  # text[gap:end] is the whitespace before end
    latest = gap - 1 if gap > 0 and text[gap - 1] == "," else -1  # ",\s*"
    if gap < end and gap >= 3 and text[gap - 3 : gap] == "and":
        if gap >= 4 and text[gap - 4].isspace():
            return gap - 4  # "\s+and\s+" starting at its last space: later than any comma
        comma = gap - 3
        while comma > 0 and text[comma - 1].isspace():
            comma -= 1
        if comma > 0 and text[comma - 1] == ",":
            latest = max(latest, comma - 1)  # ",\s*and\s+"
    return latest


class _FirstAtLeast:
    """The first index from a given one whose value reaches a threshold, in O(log n) per
    question: the maxima of every power-of-two run of values, walked down by halves."""

    def __init__(self, values: Sequence[int]) -> None:
        self._levels = [list(values)]
        width = 1
        while width * 2 <= len(values):
            below = self._levels[-1]
            self._levels.append(
                [max(below[i], below[i + width]) for i in range(len(below) - width)]
            )
            width *= 2

    def first_at_least(self, start: int, threshold: int) -> int | None:
        at = start
        for level in range(len(self._levels) - 1, -1, -1):
            maxima = self._levels[level]
            if at < len(maxima) and maxima[at] < threshold:
                at += 1 << level  # no value of this run reaches the threshold: skip it
        values = self._levels[0]
        return at if at < len(values) and values[at] >= threshold else None


def _indirect_drafts(doc: Document, directs: Sequence[_Draft]) -> list[_Draft]:
    text = doc.text
    quoted = [d.mark for d in directs if d.mark is not None]
    used = {d.cue for d in directs if d.cue is not None and d.mark and d.cue[0] > d.mark[1]}
    drafts: list[_Draft] = []
    for si, sent in enumerate(doc.sentences):
        cues = [
            m
            for m in CUE.finditer(text, sent[0], sent[1])
            if not any(a < m.start() < b for a, b in quoted)
        ]
        cue_starts = [cue.start() for cue in cues]
        coordinated = _FirstAtLeast([_coordination_start(text, at) for at in cue_starts])
        previous: list[Mention] = []
        for ci, cue in enumerate(cues):
            span = (cue.start(), cue.end())
            if span in used:
                continue
            verb = " ".join(cue.group().split()).lower()
            if _PASSIVE_BY.match(text, cue.end()):
                continue  # "a statement cited by ...": the cue belongs to another clause
            attached: list[Mention] = []
            if verb == "according to":
                found = _according_to(doc, cue, sent)
                if found is None:
                    continue
                start, end, attached = found
            else:
                subj = subject_of(doc, span, sent[0])
                if subj is None:
                    subj = subject_before(doc, cue.start(), sent, quoted)
                if subj is None and verb in INVERTING:
                    subj = subject_after(doc, cue.end(), sent)
                if subj is not None:
                    attached.append(subj)
                rest = text[cue.end() : sent[1]]
                tail = _FINAL_STOP.sub("", rest.strip())
                lead = text[sent[0] : cue.start()]
                comma = lead.rfind(",")
                if (
                    word_count(tail) <= 4
                    and not _THAT.search(tail)
                    and comma != -1
                    and word_count(lead[comma:]) <= 6
                    and QUOTE_MARKS.isdisjoint(tail)
                ):
                    # "CLAUSE, a source said."
                    start, end = _trim(text, sent[0], sent[0] + comma, final=False)
                else:
                    start = cue.end()
                    if verb in SAYING:
                        window = text[start : min(sent[1], start + 120)]
                        that = _THAT.search(window)
                        if that:
                            between = window[: that.start()]
                            if word_count(between) <= 12 and not _STOP_BEFORE_THAT.search(between):
                                start += that.start()
                    elif text[start:].lstrip().startswith("that "):
                        start = text.index("that", start)
                    end = sent[1]
                    # The next cue whose lead-in coordination (", and said") lies past start.
                    after = bisect_right(cue_starts, start, lo=ci + 1)
                    nxt = coordinated.first_at_least(after, start)
                    if nxt is not None:
                        end = cue_starts[nxt]
                    start, end = _trim(text, start, end, final=end == sent[1])
            content = text[start:end]
            if word_count(content) < 2:
                continue
            # A content that is exactly one direct quote is that direct quote.
            if any(o == start and word_count(text[min(c, end) : end]) == 0 for o, c in quoted):
                continue
            kind: QuoteKind = "indirect" if QUOTE_MARKS.isdisjoint(content) else "mixed"
            others = [m for m in doc.mentions_in(sent[0], sent[1]) if not start <= m.start < end]
            nearby = previous + nearest(others, cue.start())
            drafts.append(
                _Draft(start, end, kind, span, attached, nearby, doc.paragraph_index(start), si)
            )
            if attached:
                previous = attached
    return drafts


# Between the parts of one quotation: the closing mark, a frame holding the cue
# ("," Reed said. "), and the next opening mark.  200 characters: PolNeAR train joins parts
# across long frames (span F1 0.586 at 80, 0.601 at 200, 0.601 at 400).
_PART_GAP = re.compile(r'[,.;:!?\u2026]?\s*["\u201d][^"\u201c\u201d\n]{1,200}?["\u201c]\s*')


def _joined(text: str, directs: list[_Draft]) -> list[_Draft]:
    """Direct quotes whose parts frame one cue (``"X," Reed said. "Y."``) as one draft."""
    out: list[_Draft] = []
    for draft in sorted(directs, key=lambda d: d.start):
        last = out[-1] if out else None
        if (
            last is not None
            and last.cue is not None
            and draft.paragraph == last.paragraph
            and last.end <= last.cue[0] < last.cue[1] <= draft.start
            and draft.cue in (None, last.cue)
            and _PART_GAP.fullmatch(text, last.end, draft.start)
        ):
            out[-1] = dataclasses.replace(last, end=draft.end)
            continue
        out.append(draft)
    return out


# Two apostrophes typed for a double quotation mark (``''No,'' he said``), as some papers'
# archives give their quotations; a third apostrophe beside them is a single mark.
_DOUBLED_APOSTROPHES = re.compile(r"''")
_BEFORE_OPENING = frozenset(" \t\r\n([\u2014\u2013")


def _doubled_as_marks(text: str) -> str:
    """``text`` with every doubled apostrophe read as one double mark, the same length:
    ``''No`` as `` "No`` (a mark that opens) and ``No,''`` as ``No," `` (one that closes)."""
    if "''" not in text:
        return text
    chars = list(text)
    for m in _DOUBLED_APOSTROPHES.finditer(text):
        at = m.start()
        if at == 0 or text[at - 1] in _BEFORE_OPENING:
            chars[at], chars[at + 1] = " ", '"'
        else:
            chars[at], chars[at + 1] = '"', " "
    return "".join(chars)


def find_quotes(text: str, *, limit: int | None = None) -> list[QuoteCandidate]:
    """Direct, indirect and mixed quote candidates; see the module docstring."""
    original, text = text, _doubled_as_marks(text)
    doc = Document(text)
    directs = _direct_drafts(doc)
    indirects = _indirect_drafts(doc, directs)
    mixed = [d for d in indirects if d.kind == "mixed"]
    kept = [
        d
        for d in directs
        if not any(
            m.start <= d.start and d.end <= m.end and (d.cue is None or d.cue == m.cue)
            for m in mixed
        )
    ]
    drafts = sorted([*_joined(text, kept), *indirects], key=lambda d: (d.start, d.end))
    out: list[QuoteCandidate] = []
    mask = quoted_mask(original) if original is not text else []
    last_speaker: dict[int, Mention] = {}
    for d in drafts:
        options = [*d.attached, *d.nearby]
        if d.paragraph in last_speaker:
            options.append(last_speaker[d.paragraph])
        speakers = distinct(options)
        if speakers:
            last_speaker[d.paragraph] = speakers[0]
        kind = d.kind
        if original is not text:
            # Found with the doubled apostrophes as marks, but of the kind the one rule of
            # llmextract.quotation gives the article as written (the metric's and gold's).
            kind = quote_kind(original, [(d.start, d.end)], mask)
            speakers = tuple(
                dataclasses.replace(m, text=original[m.start : m.end]) for m in speakers
            )
        out.append(QuoteCandidate(d.start, d.end, original[d.start : d.end], kind, d.cue, speakers))
    return finish(out, limit)
