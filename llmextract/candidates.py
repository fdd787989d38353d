"""Propose candidate quotes, events and stances with exact character offsets.

A tiny model cannot reliably find and copy spans, so this module does the
finding: it proposes candidate records whose offsets are exact, and the model
only decides among them (keep or not, which speaker, which event type, which
polarity).  Candidates therefore aim at high recall, with the most plausible
option first.  Everything here is plain regular expressions and small word
lists (no parser); every rule is listed below.  All offsets are Python ``str``
indices into the given text and every ``text`` field equals
``text[start:end]``.  Every finder returns its records in text order
(by ``(start, end)``), without two records sharing ``(start, end)``, capped at
``limit`` (the first ones are kept).

Mentions (:func:`find_mentions`)
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

Quotes (:func:`find_quotes`)
    * Cue lexicon: said, says, say, told, tells, added, stated, urged, warned,
      claimed, insisted, denied, announced, noted, explained, argued, asked,
      accused, expressed, called for, called on, according to, wrote,
      tweeted, declared, stressed, emphasised/emphasized, dismissed and their
      -ing/-s forms, plus a few more reporting verbs (admitted, acknowledged,
      confirmed, suggested, replied, ...).  Ambiguous plural nouns (claims,
      notes, states, reports) are left out.
    * Direct: paired double quotes (straight ``"``, curly ``\u201c \u201d``,
      low ``\u201e``) inside one paragraph (paragraphs are separated by blank
      lines; single line breaks are allowed inside a quote).  A quote still
      open at the end of a paragraph runs to the paragraph end if it opened
      with a curly mark or the next paragraph opens with a quote (the news
      convention for multi-paragraph quotes).  Content is the text inside
      the marks, trimmed of whitespace and a trailing ``,;:``; content of
      fewer than two words (scare quotes) is dropped.
    * Direct cue: a cue within 60 characters after the closing mark in the
      same sentence (``"...," Wang said``), else the last cue before the
      opening mark in the sentence (after any earlier quote), else any cue
      after the quote in the sentence.  A quote with no cue in a paragraph
      where an earlier direct quote had one inherits that cue
      (``"X," he said. "Y."``).
    * Parts of one quotation joined by a short frame that holds their cue
      (``"X," Reed said. "Y."``) form one candidate from the first part's start
      to the last part's end, frame included, as PolNeAR annotates them.
    * Indirect: every cue in a sentence that is outside quotation marks and
      not the cue of a direct quote standing before it, nor passive
      (followed by ``by``).  Content is:
      after ``According to SOURCE,`` (an appositive name after SOURCE is
      skipped) the rest of the sentence; before ``, according to SOURCE`` the
      sentence up to that comma; for ``CLAUSE, X said.`` (at most four words
      after the cue, no ``that``) the clause before the comma; otherwise the
      text after the cue (after ``that`` when ``that`` follows a saying verb
      within 12 words, ``NAME told Y that CLAUSE``) up to the sentence end,
      or up to the next cue coordinated by a comma or ``and`` (``urged X and
      called for Y``).  Final ``.!?``, trailing ``,;:`` and ``and`` are
      trimmed; content needs two words.  Content that is exactly one direct
      quote is not repeated as indirect.
    * Mixed: an indirect content holding a quotation mark.  A direct quote
      inside a mixed content whose cue is the same (or none) is dropped.
    * Speakers, best first, at most 3, distinct by resolved name: the name or
      pronoun attached to the cue (``Wang said``, ``Wang, the minister,
      said``, ``Wang on Monday said``, ``Nair, who ..., said``; or after the
      cue: ``said Wang``; for ``according to`` the names in the source
      phrase, person-like first), then the speakers of an earlier cue in the
      same sentence (coordinated verbs), then the name nearest to the cue in
      the sentence outside the content, then the most recent best speaker of
      an earlier quote in the same paragraph.

Events (:func:`find_events`)
    * Trigger lexicon ``_EVENT_LEXICON``: word forms and phrases mapped to
      best-first PLOVER types (case-insensitive, longest match).  Some
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

Stances (:func:`find_stances`)
    * Verb lexicon ``_STANCE_LEXICON``: support (backed, supported, welcomed,
      praised, endorsed, stick together with), oppose (dismissed, slammed,
      criticised, rejected, opposed, condemned, accused, blamed, warned
      against, voted against, expressed (deep) concern about/over),
      neutral (discussed, examined, commented on).
    * holder: the name/pronoun attached before the verb (same rules as the
      quote cue subject), else the nearest name/subject pronoun before it.
    * target: up to six words after the verb, stopping at punctuation,
      quotation marks and that/which/who/because/when/while/after/before.
    * The record spans the sentence, so a sentence gives at most one stance:
      the first verb that has a holder and a target.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from llmextract.chunking import split_sentences
from llmextract.schemas import EventType, QuoteKind

__all__ = [
    "EventCandidate",
    "Mention",
    "QuoteCandidate",
    "StanceCandidate",
    "find_events",
    "find_mentions",
    "find_quotes",
    "find_stances",
]


@dataclass(frozen=True)
class Mention:
    """A person/organisation/country name or a pronoun: ``text == article[start:end]``."""

    start: int
    end: int
    text: str
    kind: Literal["name", "pronoun"]
    resolved: str | None


@dataclass(frozen=True)
class QuoteCandidate:
    """A possible quote: content span, kind, cue span and plausible speakers."""

    start: int
    end: int
    text: str
    kind: QuoteKind
    cue: tuple[int, int] | None
    speakers: tuple[Mention, ...]


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


@dataclass(frozen=True)
class StanceCandidate:
    """A possible stance: the evidence passage, holder, target and polarity hint.

    ``holder`` is ``None`` for the article's own stance; ``polarity_hint`` is ``None`` when
    the code has no guess (a passage given by the caller, not found by a stance verb).
    """

    start: int
    end: int
    text: str
    holder: Mention | None
    target: str
    polarity_hint: Literal["support", "oppose", "neutral"] | None


# --------------------------------------------------------------------------- word lists


def _wordset(words: str) -> frozenset[str]:
    """A set from a whitespace-separated word list (keeps the long lists readable)."""
    return frozenset(words.split())


_STOPWORDS = _wordset(
    """A An The But And Or Nor So Yet If While When Whereas Although Though Because Since
    As After Before Until Once In On At By For From To Of With Without Under Over About
    Against During Into Through Among Across It Its This That These Those There Here He She
    They We I You His Her Their Our My Your Him Them Us Me What Which Who Whom Whose Why How
    Where Also However Meanwhile Elsewhere Still Then Now Today Yesterday Tomorrow Tonight
    Last Next Some Many Most All Both Each Every No Not Nobody None One Only Even Just More
    Less Other Another Such Several Few Asked According Photo Read Share Click Please Yes
    Thanks Thank Indeed Instead Despite Unlike Like Besides Moreover Furthermore Overall
    Later Earlier Already Again Never Ever Perhaps Maybe Why Let Do Does Did Is Are Was Were
    Be Been Has Have Had Will Would Can Could Should Must Shall Might"""
)
_MONTHS = (
    *("January", "February", "March", "April", "May", "June", "July", "August"),
    *("September", "October", "November", "December"),
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NOT_NAMES = _STOPWORDS | frozenset(_MONTHS) | frozenset(_WEEKDAYS)

_TITLES = _wordset(
    """President Minister Secretary Spokesman Spokeswoman Spokesperson Mayor Councillor
    Councilor Dr Mr Mrs Ms Miss Prof Professor Sen Senator Rep Representative Gov Governor
    Gen General Col Colonel Lt Sgt Capt Captain Adm Admiral Chancellor Premier King Queen
    Prince Princess Sheikh Pope Judge Justice Ambassador Envoy Director Chairman Chairwoman
    Chair Commissioner Chief Speaker Leader Lord Lady Sir Dame Rev Deputy Vice"""
)
# Abbreviated titles written with a full stop ("Mr. Smith").
_DOTTED_TITLES = _wordset("Dr Mr Mrs Ms Prof Sen Rep Gov Gen Col Lt Sgt Capt Adm Rev St")
_CONNECTORS = _wordset("bin ibn de da del della van von der den la le du al el dos das di")

# Countries, cities and groups that are names even as a lone sentence-initial word.
_PLACES = _wordset(
    """Russia China Beijing Moscow Washington West East Europe Ukraine Kyiv Kiev Taiwan Taipei
    Iran Tehran Israel Syria Iraq India Pakistan Japan Tokyo Korea Germany Berlin France Paris
    Italy Rome Hungary Britain London America Canada Mexico Brazil Turkey Ankara Egypt Cairo
    Africa Asia Kremlin Pentagon Congress NATO EU UN US USA UK Xinjiang Tibet Gaza Lebanon
    Yemen Saudi Venezuela Cuba Spain Poland Brussels Geneva Munich Hong Kong United States
    Kingdom Nations"""
)
_DEMONYMS = _wordset(
    """Russian Russians Chinese American Americans Ukrainian Ukrainians European Europeans
    Western Eastern Iranian Israeli Israelis Syrian Iraqi Indian Pakistani Japanese Korean
    German Germans French British Italian Hungarian Turkish Egyptian Arab Arabs Palestinian
    Palestinians Saudi Mexican Canadian Brazilian Polish Spanish"""
)
_ORG_WORDS = _wordset(
    """Council Ministry Conference Agency Party Department Committee Court Office Government
    Union News TV Security House Senate Congress Commission Bank Fund Organization
    Organisation Association Institute University College School Times Post Press Group
    Company Corporation Inc Ltd Foundation Forces Army Navy Police Service Kingdom States
    Republic Federation Nations City County Street Market Square Agency Network Club
    Center Centre Board Authority Administration Assembly Parliament Cabinet Campaign
    Journal Herald Tribune Review Magazine Radio Channel Street Airlines Unit Alliance"""
)

_CUE_FORMS = (
    *("said", "says", "say", "saying", "told", "tells", "tell", "telling"),
    *("added", "adds", "adding", "stated", "stating", "urged", "urges", "urging"),
    *("warned", "warns", "warning", "claimed", "claiming", "insisted", "insists", "insisting"),
    *("denied", "denies", "denying", "announced", "announces", "announcing", "noted"),
    *("explained", "explains", "explaining", "argued", "argues", "arguing", "asked", "asks"),
    *("accused", "accuses", "accusing", "expressed", "expresses", "expressing"),
    *("called for", "calls for", "call for", "calling for", "called on", "calls on"),
    *("call on", "calling on", "according to", "According to", "wrote", "writes", "tweeted"),
    *("declared", "declares", "stressed", "stresses", "emphasised", "emphasized"),
    *("emphasises", "emphasizes", "dismissed", "dismisses", "admitted", "admits"),
    *("acknowledged", "acknowledges", "confirmed", "confirms", "suggested", "suggests"),
    *("replied", "responded", "recalled", "predicted", "predicts", "vowed", "vows"),
    *("promised", "believes", "believed", "thinks", "contended", "complained", "asserted"),
    *("alleged", "pointed out", "maintained", "conceded", "observed", "remarked"),
    *("concluded", "reiterated", "announced", "revealed", "reported"),
    # Wider reporting/attitude verbs seen in PolNeAR attributions.
    *("reports", "notes", "pointing out", "points out", "cited", "cites", "mentioned"),
    *("questioned", "questioning", "demanded", "demands", "demanding", "encouraged"),
    *("encouraging", "indicated", "ruled", "charged", "charges", "thinks", "think"),
    *("believe", "hopes", "hoped", "expects", "shows", "showed", "learned"),
)
# Cues after which "that" may follow an object or adverbials ("told Wang that ...").
_SAYING = _wordset(
    """said says say saying told tells tell telling added adds adding stated stating warned
    warns warning claimed claiming insisted insists insisting announced announces announcing
    noted explained explains argued argues wrote writes tweeted declared declares stressed
    stresses emphasised emphasized emphasises emphasizes admitted admits acknowledged
    acknowledges confirmed confirms suggested suggests replied responded recalled predicted
    predicts vowed vows promised believes believed thinks contended complained asserted
    alleged maintained conceded observed remarked concluded reiterated revealed
    reported reports notes cited cites mentioned indicated ruled charged charges think
    believe hopes hoped expects shows showed learned"""
) | {"pointed out", "pointing out", "points out"}
# Cues that may stand before their subject ("..., said Wang").
_INVERTING = _wordset(
    """said says added adds asked wrote writes tweeted explained noted replied declared stated
    insisted argued recalled concluded continued"""
)


def _alternation(forms: Iterable[str]) -> str:
    ordered = sorted(set(forms), key=lambda f: (-len(f), f))
    return "|".join(re.escape(f).replace(r"\ ", r"\s+") for f in ordered)


_CUE = re.compile(r"\b(?:" + _alternation(_CUE_FORMS) + r")\b")

# --------------------------------------------------------------------------- regexes

# A word: letters, optionally joined by single apostrophes or hyphens.  The joiner
# is required between repetitions, so the repetition cannot backtrack badly.
_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_PRONOUN = re.compile(r"\b(?:he|she|they|his|her|him|them)\b", re.IGNORECASE)
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_QUOTE_MARK = re.compile('["\u201c\u201d\u201e]|\\n[ \\t\\r\\f\\v]*\\n')
_QUOTE_CHARS = '"\u201c\u201d\u201e'
_WORDS = re.compile(r"\w+")
# Between a subject and its verb: an appositive ", the secretary of X," or a relative
# clause opener ", who", then up to four words ("has", "also", "on Monday").
_SUBJECT_GAP = re.compile(
    r"\s*(?:,[^,;:\"\u201c\u201d()]{1,120},\s*|,\s*(?:who|which)\s+)?(?:[\w'\u2019-]+\s+){0,4}"
)
_APPOSITIVE_COMMA = re.compile(r"\s*,\s*")
_AFTER_CUE_GAP = re.compile(r"\s+(?:[\w'\u2019.-]+\s+){0,3}")
_PASSIVE_BY = re.compile(r"\s+by\b")
_THAT = re.compile(r"\bthat\b")
_STOP_BEFORE_THAT = re.compile(r"[.;:!?\"\u201c\u201d]")
_COORDINATION = re.compile(r"(?:,\s*(?:and\s+)?|\s+and\s+)$")
_TRAILING_JUNK = re.compile(r"(?:[\s,;:]|\band\b)+$")
_FINAL_STOP = re.compile(r"[.!?\u2026]+$")
_IN_AT = re.compile(r"\b(?:in|at)\s+(?:the\s+)?$")
_SPACES = (" ", "\xa0")
# Between a sentence-initial name and its cue verb: "Qin on Monday urged", "Ode also said".
_BEFORE_CUE = re.compile(
    r"\s+(?:(?:also|has|had|have|then|later|again|on|last|this|earlier|recently|week|month"
    r"|year|night|morning|" + "|".join(_WEEKDAYS) + r")\s+){0,3}(?=\S)"
)
# Between a closing mark and a cue that follows it: "...," Wang said / "...?" asked Wang.
_AFTER_QUOTE_FRAME = re.compile(r"[\s,]*(?:[\w.'\u2019-]+\s+){0,5}")
_SUBJECT_PRONOUNS = frozenset({"he", "she", "they"})
_OBJECT_PRONOUNS = frozenset({"him", "them"})

_MONTH_RE = "|".join(
    [m for m in _MONTHS if m != "May"] + [r"May(?=\s+\d)", r"(?:Jan|Feb|Aug|Sept|Oct|Nov|Dec)\."]
)
_WEEKDAY_RE = "|".join(_WEEKDAYS)
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

# --------------------------------------------------------------------------- documents


class _Doc:
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


def _capitalised(word: str) -> bool:
    if word[0].isupper():
        return True
    # "al-Assad", "bin-Salman": a lower-case particle glued to a capitalised name.
    head, sep, tail = word.partition("-")
    return bool(sep) and head in _CONNECTORS and tail[:1].isupper()


def _possessive(word: str) -> bool:
    return word.endswith(("'s", "\u2019s")) and len(word) > 2


def _is_title(word: str) -> bool:
    return any(part in _TITLES for part in word.split("-"))


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


def _person_like(name: str) -> bool:
    words = name.replace(".", " ").split()
    if not words:
        return False
    if any(w in _ORG_WORDS or w in _PLACES or w in _DEMONYMS for w in words):
        return False
    return not any(w.isupper() and len(w) > 1 for w in words)


# --------------------------------------------------------------------------- mentions


def _name_runs(text: str) -> list[tuple[int, int, list[str], bool]]:
    """Capitalised runs as ``(start, end, words, sentence_initial)``, titles dropped."""
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    sentence_starts = {s for s, _ in split_sentences(text)}
    runs: list[tuple[int, int, list[str], bool]] = []
    n = len(tokens)
    i = 0
    while i < n:
        word = tokens[i][2]
        if not _capitalised(word) or word in _NOT_NAMES:
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
            dotted = (len(cur) == 1 and cur.isupper()) or cur in _DOTTED_TITLES
            if not (gap in _SPACES or (dotted and gap in (".", ". ", ".\xa0"))):
                break
            if _capitalised(nxt) and nxt not in _NOT_NAMES:
                run.append(j + 1)
                j += 1
                if _is_title(nxt):
                    title_end = len(run) - 1
                continue
            connector = nxt in _CONNECTORS or (nxt == "of" and _is_title(cur))
            if connector and gap in _SPACES and j + 2 < n:
                third = tokens[j + 2]
                if (
                    text[nend : third[0]] in _SPACES
                    and _capitalised(third[2])
                    and third[2] not in _NOT_NAMES
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
            known = word in _PLACES or word in _DEMONYMS or word in mid_sentence
            after = text[end : end + 80]
            cued = _BEFORE_CUE.match(after)
            if not known and not (cued and _CUE.match(after, cued.end())):
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
            names.append((resolved, full_parts, _person_like(resolved)))
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


# --------------------------------------------------------------------------- shared helpers


def _key(m: Mention) -> str:
    return m.resolved if m.resolved is not None else m.text.lower()


def _distinct(mentions: Iterable[Mention], limit: int = 3) -> tuple[Mention, ...]:
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


def _subject_before(
    doc: _Doc, pos: int, sent: tuple[int, int], blocked: Sequence[tuple[int, int]] = ()
) -> Mention | None:
    """The name or subject pronoun attached before ``pos`` (``Wang, the minister, has said``)."""
    text = doc.text
    for m in reversed(doc.mentions_in(sent[0], pos)):
        if any(a <= m.start < b for a, b in blocked):
            continue
        if m.kind == "pronoun" and m.text.lower() not in _SUBJECT_PRONOUNS:
            continue
        gap = text[m.end : pos]
        if any(c in gap for c in _QUOTE_CHARS):
            return None
        if _SUBJECT_GAP.fullmatch(gap):
            return m
        if _APPOSITIVE_COMMA.fullmatch(gap) and text[: m.start].rstrip().endswith(","):
            return m  # "The minister, Priya Nair, welcomed"
    return None


def _subject_after(doc: _Doc, pos: int, sent: tuple[int, int]) -> Mention | None:
    """The name right after an inverting cue (``said Kremlin spokesman Dmitry Peskov``)."""
    reachable: list[Mention] = []
    for m in doc.mentions_in(pos, sent[1]):
        if m.kind == "pronoun" and m.text.lower() not in _SUBJECT_PRONOUNS:
            break
        if not _AFTER_CUE_GAP.fullmatch(doc.text[pos : m.start]):
            break
        reachable.append(m)
    for m in reachable:
        if m.resolved is not None and _person_like(m.resolved):
            return m
    return reachable[0] if reachable else None


def _nearest(mentions: Sequence[Mention], pos: int) -> list[Mention]:
    """Names, person-like first, then nearest to ``pos`` first."""
    names = [m for m in mentions if m.kind == "name"]
    return sorted(
        names,
        key=lambda m: (
            not (m.resolved and _person_like(m.resolved)),
            min(abs(m.start - pos), abs(m.end - pos)),
        ),
    )


def _word_count(s: str) -> int:
    return len(_WORDS.findall(s))


_R = TypeVar("_R", QuoteCandidate, EventCandidate, StanceCandidate)


def _finish(records: Iterable[_R], limit: int) -> list[_R]:
    seen: set[tuple[int, int]] = set()
    out: list[_R] = []
    for r in sorted(records, key=lambda r: (r.start, r.end)):
        if (r.start, r.end) in seen:
            continue
        seen.add((r.start, r.end))
        out.append(r)
        if len(out) >= limit:
            break
    return out


# --------------------------------------------------------------------------- quotes


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


def _quote_marks(text: str) -> list[tuple[int, int]]:
    """``(open, close)`` index pairs of double quotes; ``close`` may be a paragraph end."""
    pairs: list[tuple[int, int]] = []
    opened: int | None = None
    for m in _QUOTE_MARK.finditer(text):
        ch = m.group()
        if ch.startswith("\n"):
            if opened is not None:
                rest = text[m.end() :].lstrip()
                if text[opened] == "\u201c" or rest[:1] in ('"', "\u201c"):
                    pairs.append((opened, m.start()))
            opened = None
        elif opened is None:
            if ch != "\u201d":
                opened = m.start()
        elif ch in ("\u201c", "\u201e"):
            opened = m.start()  # an unbalanced opener: start again here
        else:
            pairs.append((opened, m.start()))
            opened = None
    if opened is not None and text[opened] == "\u201c":
        pairs.append((opened, len(text)))
    return pairs


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


def _direct_drafts(doc: _Doc) -> list[_Draft]:
    text = doc.text
    drafts: list[_Draft] = []
    for open_, close in _quote_marks(text):
        cstart, cend = _trim(text, open_ + 1, close, final=False)
        if _word_count(text[cstart:cend]) < 2:
            continue
        si = doc.sentence_index(close if close < len(text) else open_)
        sent = doc.sentences[si]
        first = doc.sentences[doc.sentence_index(open_)]
        # Frames: the sentence text before the opening mark and after the closing mark.
        before_start = first[0]
        for k in range(open_ - 1, first[0] - 1, -1):
            if text[k] in _QUOTE_CHARS:
                before_start = k + 1
                break
        after_end = max(sent[1], close + 1)
        for k in range(close + 1, min(after_end, len(text))):
            if text[k] in _QUOTE_CHARS:
                after_end = k
                break
        after = [m for m in _CUE.finditer(text, close + 1, after_end) if m.start() > close]
        before = list(_CUE.finditer(text, before_start, open_))
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
            subj = _subject_before(doc, cue_m.start(), (before_start, sent[1]), blocked)
            if subj is None and cue_m.start() > close:
                subj = _subject_before(doc, cue_m.start(), (close + 1, sent[1]))
            if subj is None and verb in _INVERTING:
                subj = _subject_after(doc, cue_m.end(), (cue_m.end(), sent[1]))
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
                _nearest(around, anchor),
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
    return drafts


def _according_to(
    doc: _Doc, cue: re.Match[str], sent: tuple[int, int]
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
    names.sort(key=lambda m: not (m.resolved and _person_like(m.resolved)))
    return start, end, names


def _indirect_drafts(doc: _Doc, directs: Sequence[_Draft]) -> list[_Draft]:
    text = doc.text
    quoted = [d.mark for d in directs if d.mark is not None]
    used = {d.cue for d in directs if d.cue is not None and d.mark and d.cue[0] > d.mark[1]}
    drafts: list[_Draft] = []
    for si, sent in enumerate(doc.sentences):
        cues = [
            m
            for m in _CUE.finditer(text, sent[0], sent[1])
            if not any(a < m.start() < b for a, b in quoted)
        ]
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
                subj = _subject_before(doc, cue.start(), sent, quoted)
                if subj is None and verb in _INVERTING:
                    subj = _subject_after(doc, cue.end(), sent)
                if subj is not None:
                    attached.append(subj)
                rest = text[cue.end() : sent[1]]
                tail = _FINAL_STOP.sub("", rest.strip())
                lead = text[sent[0] : cue.start()]
                comma = lead.rfind(",")
                if (
                    _word_count(tail) <= 4
                    and not _THAT.search(tail)
                    and comma != -1
                    and _word_count(lead[comma:]) <= 6
                    and not any(c in tail for c in _QUOTE_CHARS)
                ):
                    # "CLAUSE, a source said."
                    start, end = _trim(text, sent[0], sent[0] + comma, final=False)
                else:
                    start = cue.end()
                    if verb in _SAYING:
                        window = text[start : min(sent[1], start + 120)]
                        that = _THAT.search(window)
                        if that:
                            between = window[: that.start()]
                            if _word_count(between) <= 12 and not _STOP_BEFORE_THAT.search(between):
                                start += that.end()
                    elif text[start:].lstrip().startswith("that "):
                        start = text.index("that", start) + 4
                    end = sent[1]
                    for nxt in cues[ci + 1 :]:
                        if nxt.start() > start and _COORDINATION.search(text[start : nxt.start()]):
                            end = nxt.start()
                            break
                    start, end = _trim(text, start, end, final=end == sent[1])
            content = text[start:end]
            if _word_count(content) < 2:
                continue
            # A content that is exactly one direct quote is that direct quote.
            if any(o == start and _word_count(text[min(c, end) : end]) == 0 for o, c in quoted):
                continue
            kind: QuoteKind = "mixed" if any(c in content for c in _QUOTE_CHARS) else "indirect"
            others = [m for m in doc.mentions_in(sent[0], sent[1]) if not start <= m.start < end]
            nearby = previous + _nearest(others, cue.start())
            drafts.append(
                _Draft(start, end, kind, span, attached, nearby, doc.paragraph_index(start), si)
            )
            if attached:
                previous = attached
    return drafts


# Between the parts of one quotation: the closing mark, a short frame holding the cue
# ("," Reed said. "), and the next opening mark.
_PART_GAP = re.compile(r'[,.;:!?\u2026]?\s*["\u201d][^"\u201c\u201d\n]{1,80}?["\u201c]\s*')


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


def find_quotes(text: str, *, limit: int = 24) -> list[QuoteCandidate]:
    """Direct, indirect and mixed quote candidates; see the module docstring."""
    doc = _Doc(text)
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
    last_speaker: dict[int, Mention] = {}
    for d in drafts:
        options = [*d.attached, *d.nearby]
        if d.paragraph in last_speaker:
            options.append(last_speaker[d.paragraph])
        speakers = _distinct(options)
        if speakers:
            last_speaker[d.paragraph] = speakers[0]
        out.append(QuoteCandidate(d.start, d.end, text[d.start : d.end], d.kind, d.cue, speakers))
    return _finish(out, limit)


# --------------------------------------------------------------------------- events

_C = EventType
# Trigger forms ("|"-separated; spaces match any whitespace) and their best-first types.
_EVENT_LEXICON: tuple[tuple[str, tuple[EventType, ...]], ...] = (
    (
        "meet|meets|met|meeting|meetings|talks|hold talks|holds talks|held talks|holding talks"
        "|visit|visits|visited|visiting|negotiate|negotiates|negotiated|negotiating"
        "|negotiation|negotiations|consult|consults|consulted|consulting|consultation"
        "|summit|discuss|discusses|discussed|discussing",
        (_C.CONSULT,),
    ),
    (
        "urge|urges|urged|urging|call for|calls for|called for|calling for|call on|calls on"
        "|called on|calling on|demand|demands|demanded|demanding|request|requests|requested"
        "|requesting|appeal|appeals|appealed|appealing",
        (_C.REQUEST,),
    ),
    (
        "accuse|accuses|accused|accusing|blame|blames|blamed|blaming|slam|slams|slammed"
        "|slamming|denounce|denounces|denounced|condemn|condemns|condemned|condemning",
        (_C.ACCUSE,),
    ),
    (
        "criticise|criticises|criticised|criticising|criticize|criticizes|criticized"
        "|criticizing|criticism",
        (_C.ACCUSE, _C.PROTEST),
    ),
    (
        "back|backs|backed|backing|support|supports|supported|supporting|endorse|endorses"
        "|endorsed|endorsing|praise|praises|praised|praising|welcome|welcomes|welcomed"
        "|welcoming",
        (_C.SUPPORT,),
    ),
    (
        "agree|agrees|agreed|agreeing|agreement|pledge|pledges|pledged|pledging|promise"
        "|promises|promised|promising|sign|signs|signed|signing|approve|approves|approved"
        "|approving|deal",
        (_C.AGREE,),
    ),
    (
        "cooperate|cooperates|cooperated|cooperating|cooperation|co-operate|co-operation"
        "|stick together|sticks together|stuck together|sticking together|partner"
        "|partners|partnered|partnership|ally|allies",
        (_C.COOPERATE,),
    ),
    ("aid|aided|aiding|arm|arms|armed|arming", (_C.AID,)),
    (
        "reject|rejects|rejected|rejecting|dismiss|dismisses|dismissed|dismissing|refuse"
        "|refuses|refused|refusing|deny|denies|denied|denying|veto|vetoed|rebuff|rebuffed",
        (_C.REJECT,),
    ),
    ("threaten|threatens|threatened|threatening|threat|threats", (_C.THREATEN,)),
    ("warn|warns|warned|warning", (_C.THREATEN, _C.REQUEST)),
    (
        "protest|protests|protested|protesting|protesters|protestors|demonstrate"
        "|demonstrates|demonstrated|demonstrating|demonstration|demonstrations|rally"
        "|rallies|rallied|rallying",
        (_C.PROTEST,),
    ),
    ("boycott|boycotts|boycotted", (_C.PROTEST, _C.SANCTION)),
    (
        "sanction|sanctions|sanctioned|sanctioning|ban|bans|banned|banning|embargo|embargoes",
        (_C.SANCTION,),
    ),
    (
        "mobilise|mobilises|mobilised|mobilising|mobilisation|mobilize|mobilizes|mobilized"
        "|mobilizing|mobilization|deploy|deploys|deployed|deploying|deployment|troops",
        (_C.MOBILIZE,),
    ),
    (
        "arrest|arrests|arrested|arresting|detain|detains|detained|detaining|detention"
        "|expel|expels|expelled|expelling|seize|seizes|seized|seizing|jail|jailed"
        "|imprison|imprisoned",
        (_C.COERCE,),
    ),
    (
        "attack|attacks|attacked|attacking|strike|strikes|struck|airstrike|airstrikes"
        "|bombed|bombing|bombings|kill|kills|killed|killing|shell|shells|shelled"
        "|shelling|invade|invades|invaded|invading|invasion|war|wars|fighting|fought"
        "|hostilities|clashes|clashed|explode|explodes|exploded|exploding|explosion"
        "|explosions|detonate|detonates|detonated|detonating|detonation|blast|blasts"
        "|blew up|blown up|injure|injures|injured|injuring|injuries|wound|wounded|wounding"
        "|shooting|shootings|shot dead|gunned down|assassinate|assassinated|assassination"
        "|assassinations",
        (_C.ASSAULT,),
    ),
    (
        "concede|concedes|conceded|conceding|yield|yields|yielded|yielding|release"
        "|releases|released|releasing|ease|eases|eased|easing",
        (_C.CONCEDE,),
    ),
    (
        "withdraw|withdraws|withdrew|withdrawn|withdrawing|withdrawal|retreat|retreats"
        "|retreated|retreating|pull out|pulls out|pulled out|pulling out",
        (_C.RETREAT,),
    ),
    (
        "provide|provides|provided|providing|send|sends|sent|sending|supply|supplies"
        "|supplied|supplying|deliver|delivers|delivered|delivering",
        (_C.AID,),
    ),
)
# Triggers that are events only with an aid-like object shortly after them.
_NEEDS_AID_OBJECT = frozenset(_EVENT_LEXICON[-1][0].split("|"))
_AID_OBJECT = re.compile(
    r"\b(?:weapons?|arms|aid|ammunition|assistance|support|troops|engineers|equipment"
    r"|supplies|missiles|tanks|money|funds|help|humanitarian|food)\b",
    re.IGNORECASE,
)


def _event_table() -> dict[str, tuple[EventType, ...]]:
    table: dict[str, tuple[EventType, ...]] = {}
    for forms, types in _EVENT_LEXICON:
        for form in forms.split("|"):
            if form in table:
                raise ValueError(f"duplicate event trigger {form!r}")
            table[form] = types
    return table


_EVENT_TYPES = _event_table()
_TRIGGER = re.compile(r"\b(?:" + _alternation(_EVENT_TYPES) + r")\b", re.IGNORECASE)


def _closest(spans: Sequence[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    if not spans:
        return None
    return min(spans, key=lambda s: s[0] - end if s[0] >= end else start - s[1] + 0.5)


def find_events(text: str, *, limit: int = 24) -> list[EventCandidate]:
    """Event trigger candidates with types and arguments; see the module docstring."""
    doc = _Doc(text)
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
            if form in _NEEDS_AID_OBJECT and not _AID_OBJECT.search(
                text, trig.end(), min(sent[1], trig.end() + 60)
            ):
                continue
            actor = next(
                (
                    m
                    for m in reversed(mentions)
                    if m.end <= trig.start()
                    and (m.kind == "name" or m.text.lower() in _SUBJECT_PRONOUNS)
                ),
                None,
            )
            recipient = next(
                (
                    m
                    for m in mentions
                    if m.start >= trig.end()
                    and (m.kind == "name" or m.text.lower() in _OBJECT_PRONOUNS)
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
    return _finish(out, limit)


# --------------------------------------------------------------------------- stances

_Polarity = Literal["support", "oppose", "neutral"]
_STANCE_LEXICON: tuple[tuple[str, _Polarity], ...] = (
    (
        "backed|backs|backing|supported|supports|supporting|welcomed|welcomes|welcoming"
        "|praised|praises|praising|endorsed|endorses|endorsing|stick together with"
        "|sticks together with|stuck together with|voiced support for"
        "|expressed support for|voted for",
        "support",
    ),
    (
        "dismissed|dismisses|slammed|slams|criticised|criticized|criticises|criticizes"
        "|rejected|rejects|opposed|opposes|condemned|condemns|accused|accuses|blamed|blames"
        "|warned against|warns against|voted against|denounced|denounces"
        "|stick together against|sticks together against",
        "oppose",
    ),
    ("discussed|discusses|examined|examines|commented on|comments on", "neutral"),
)
_STANCE_POLARITY = {
    form: polarity for forms, polarity in _STANCE_LEXICON for form in forms.split("|")
}
_STANCE_VERB = re.compile(
    r"\b(?:"
    + _alternation(_STANCE_POLARITY)
    + r"|(?P<concern>expressed\s+[\"\u201c]?(?:(?:deep|grave|serious|great)\s+)?concern"
    + r"[\"\u201d]?\s+(?:about|over|at|regarding))"
    + r")(?!\w)"
)
_TARGET_STOP = re.compile(
    r"[,.;:!?()\"\u201c\u201d]|\b(?:that|which|who|because|when|while|after|before)\b"
)


def find_stances(text: str, *, limit: int = 24) -> list[StanceCandidate]:
    """Stance candidates (one per sentence at most); see the module docstring."""
    doc = _Doc(text)
    out: list[StanceCandidate] = []
    for sent in doc.sentences:
        for verb in _STANCE_VERB.finditer(text, sent[0], sent[1]):
            if verb.group("concern"):
                polarity: _Polarity = "oppose"
            else:
                polarity = _STANCE_POLARITY[" ".join(verb.group().split())]
            holder = _subject_before(doc, verb.start(), sent)
            if holder is None:
                holder = next(
                    (
                        m
                        for m in reversed(doc.mentions_in(sent[0], verb.start()))
                        if m.kind == "name" or m.text.lower() in _SUBJECT_PRONOUNS
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
    return _finish(out, limit)
