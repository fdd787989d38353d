"""The word lists the finders match: names' stopwords and titles, cue, event and stance verbs.

Each list is data only; the rules that use them live with their finder
(:mod:`~llmextract.candidates.mentions`, :mod:`~llmextract.candidates.quotes`,
:mod:`~llmextract.candidates.events`, :mod:`~llmextract.candidates.stances`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources

from llmextract.schemas import EventType, Polarity

__all__ = [
    "AID_OBJECT",
    "CLAUSE_PREPOSITIONS",
    "CONNECTORS",
    "CUE",
    "CUE_FORMS",
    "DEMONYMS",
    "DERIVED_CUES",
    "DERIVED_PHRASES",
    "DOTTED_TITLES",
    "EVENT_LEXICON",
    "FRAME_AUXILIARY",
    "FRAME_BOUNDARY",
    "FRAME_DETERMINER",
    "FRAME_NOT_OBJECT",
    "FRAME_PASSIVE",
    "INVERTING",
    "KAIROS_FRAMES",
    "KAIROS_SAYING",
    "LY_NOUNS",
    "MONTHS",
    "NEEDS_AID_OBJECT",
    "NOT_NAMES",
    "ORG_WORDS",
    "PARENTHESIS_OPENERS",
    "PHRASE_DETERMINERS",
    "PHRASE_STOPS",
    "PLACES",
    "POLARITY_THRESHOLD",
    "POLARITY_WORDS",
    "SAYING",
    "SPEAKER_PRONOUNS",
    "STANCE_LEXICON",
    "STOPWORDS",
    "SUBJECT_GAP",
    "SUBJECT_RELATIVES",
    "TITLES",
    "WEEKDAYS",
    "alternation",
]

# --------------------------------------------------------------------------- names and cues


def _wordset(words: str) -> frozenset[str]:
    """A set from a whitespace-separated word list (keeps the long lists readable)."""
    return frozenset(words.split())


STOPWORDS = _wordset(
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
MONTHS = (
    *("January", "February", "March", "April", "May", "June", "July", "August"),
    *("September", "October", "November", "December"),
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NOT_NAMES = STOPWORDS | frozenset(MONTHS) | frozenset(WEEKDAYS)

TITLES = _wordset(
    """President Minister Secretary Spokesman Spokeswoman Spokesperson Mayor Councillor
    Councilor Dr Mr Mrs Ms Miss Prof Professor Sen Senator Rep Representative Gov Governor
    Gen General Col Colonel Lt Sgt Capt Captain Adm Admiral Chancellor Premier King Queen
    Prince Princess Sheikh Pope Judge Justice Ambassador Envoy Director Chairman Chairwoman
    Chair Commissioner Chief Speaker Leader Lord Lady Sir Dame Rev Deputy Vice"""
)
# Abbreviated titles written with a full stop ("Mr. Smith").
DOTTED_TITLES = _wordset("Dr Mr Mrs Ms Prof Sen Rep Gov Gen Col Lt Sgt Capt Adm Rev St")
CONNECTORS = _wordset("bin ibn de da del della van von der den la le du al el dos das di")

# The subject of a cue verb (:mod:`~llmextract.candidates.speakers`): words skipped between
# a subject and its verb, words that open a parenthesis there, and the words that end a
# subject phrase read backwards (a determiner is its first word; a stop is not in it).
SUBJECT_GAP = _wordset(
    """also has have had is are was were be been will would could can may might should must
    shall did does do then later again once recently previously repeatedly reportedly never
    often still just already even only himself herself themselves itself not first last on
    this week month year night morning afternoon evening today yesterday tonight earlier now
    didn't doesn't don't wouldn't won't can't couldn't hasn't haven't isn't wasn't"""
) | {day.lower() for day in WEEKDAYS}
# Words ending in -ly that are not adverbs.
LY_NOUNS = _wordset(
    """family ally rally assembly supply italy july daily weekly monthly reply anomaly folly
    bully belly billy emily kelly sally holly lily"""
)
PHRASE_DETERMINERS = _wordset(
    """the a an this these those some many most several both all each every another any no
    few his her their its our my your such one two three four five six seven eight nine ten
    other"""
)
CLAUSE_PREPOSITIONS = _wordset("of in on at by for with from to into about against over under")
PHRASE_STOPS = CLAUSE_PREPOSITIONS | _wordset(
    """onto after before during since without through between among across like than as per
    via upon within toward towards and or but nor so yet because while although though if
    when whereas where whether unless until is are was were be been being am has have had
    do does did will would could can may might should must shall him them us me whom whose
    what there here not also then"""
)
SPEAKER_PRONOUNS = _wordset("he she they i we you it")
SUBJECT_RELATIVES = _wordset("who which that")
PARENTHESIS_OPENERS = PHRASE_DETERMINERS | _wordset(
    """who which whose however meanwhile though too for in also then like after speaking
    asked nonetheless moreover instead himself herself"""
)

# Countries, cities and groups that are names even as a lone sentence-initial word.
PLACES = _wordset(
    """Russia China Beijing Moscow Washington West East Europe Ukraine Kyiv Kiev Taiwan Taipei
    Iran Tehran Israel Syria Iraq India Pakistan Japan Tokyo Korea Germany Berlin France Paris
    Italy Rome Hungary Britain London America Canada Mexico Brazil Turkey Ankara Egypt Cairo
    Africa Asia Kremlin Pentagon Congress NATO EU UN US USA UK Xinjiang Tibet Gaza Lebanon
    Yemen Saudi Venezuela Cuba Spain Poland Brussels Geneva Munich Hong Kong United States
    Kingdom Nations"""
)
DEMONYMS = _wordset(
    """Russian Russians Chinese American Americans Ukrainian Ukrainians European Europeans
    Western Eastern Iranian Israeli Israelis Syrian Iraqi Indian Pakistani Japanese Korean
    German Germans French British Italian Hungarian Turkish Egyptian Arab Arabs Palestinian
    Palestinians Saudi Mexican Canadian Brazilian Polish Spanish"""
)
ORG_WORDS = _wordset(
    """Council Ministry Conference Agency Party Department Committee Court Office Government
    Union News TV Security House Senate Congress Commission Bank Fund Organization
    Organisation Association Institute University College School Times Post Press Group
    Company Corporation Inc Ltd Foundation Forces Army Navy Police Service Kingdom States
    Republic Federation Nations City County Street Market Square Agency Network Club
    Center Centre Board Authority Administration Assembly Parliament Cabinet Campaign
    Journal Herald Tribune Review Magazine Radio Channel Street Airlines Unit Alliance"""
)

CUE_FORMS: tuple[str, ...] = (
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


def _derived(name: str) -> tuple[str, ...]:
    """The first column of a data file of this package (``#`` lines are comments)."""
    text = (resources.files("llmextract.candidates") / name).read_text(encoding="utf-8")
    return tuple(
        line.split("\t")[0] for line in text.splitlines() if line.strip() and line[0] != "#"
    )


# Cue words of attributions that PolNeAR train annotates and the forms above missed
# (attitudes and acts: "seems", "wants", "plans"), counted by evals/scripts/derive_cues.py.
DERIVED_CUES = _derived("cues.txt")
# Cue phrases of two or three words, none of them a cue alone ("is expected", "referring
# to"), counted by evals/scripts/derive_cue_phrases.py.
DERIVED_PHRASES = _derived("cue_phrases.txt")
CUE_FORMS = (*CUE_FORMS, *DERIVED_CUES, *DERIVED_PHRASES)
# Cues after which "that" may follow an object or adverbials ("told Wang that ...").
SAYING = _wordset(
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
INVERTING = _wordset(
    """said says added adds asked wrote writes tweeted explained noted replied declared stated
    insisted argued recalled concluded continued"""
)


def alternation(forms: Iterable[str]) -> str:
    """A regex alternation of ``forms``, longest first; a space matches any whitespace."""
    ordered = sorted(set(forms), key=lambda f: (-len(f), f))
    return "|".join(re.escape(f).replace(r"\ ", r"\s+") for f in ordered)


# Not the tail of a hyphenated word: "so-called" is no cue.
CUE = re.compile(r"(?<![\w-])(?:" + alternation(CUE_FORMS) + r")\b")

# --------------------------------------------------------------------------- events

_C = EventType
# Trigger forms ("|"-separated; spaces match any whitespace) and their best-first types.
EVENT_LEXICON: tuple[tuple[str, tuple[EventType, ...]], ...] = (
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
NEEDS_AID_OBJECT = frozenset(EVENT_LEXICON[-1][0].split("|"))
AID_OBJECT = re.compile(
    r"\b(?:weapons?|arms|aid|ammunition|assistance|support|troops|engineers|equipment"
    r"|supplies|missiles|tanks|money|funds|help|humanitarian|food)\b",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------- KAIROS events


def _frames(name: str) -> tuple[tuple[str, tuple[str, ...], tuple[str | None, ...], bool], ...]:
    """(kind, trigger forms, (subject, agent, patient) slots, has a place) per line of a data
    file of this package; ``-`` is no slot."""
    text = (resources.files("llmextract.candidates") / name).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip() and line[0] != "#":
            kind, forms, subject, agent, patient, location = line.split("\t")
            slots = tuple(None if s == "-" else s for s in (subject, agent, patient))
            rows.append((kind, tuple(forms.split("|")), slots, location == "yes"))
    return tuple(rows)


# Words of an event's frame (:mod:`~llmextract.candidates.events`).
# A phrase stops at punctuation or one of these words.
FRAME_BOUNDARY = _wordset(
    """and but or nor that which who whom whose when where while after before as because
    if since until than said says say told tells in on at of for to with by from into
    onto over under near against during about through across between among amid since
    without within toward towards including outside inside beyond behind around along
    despite via like upon per"""
)
FRAME_AUXILIARY = _wordset(
    """was were is are be been being has have had will would could should may might must
    also reportedly allegedly later then already just not never still again got get gets"""
)
FRAME_PASSIVE = _wordset("was were is are be been being got get gets")
FRAME_DETERMINER = _wordset(
    "the a an this that these those its his her their our your my any another each"
)
FRAME_NOT_OBJECT = _wordset(
    """yesterday today tomorrow tonight last next this earlier later recently here there
    now then again too also so very more most up down out off back away"""
)
# Event types of the KAIROS ontology, their trigger words and argument frames, written by
# evals/scripts/derive_kairos.py from the ontology's keywords and templates.
KAIROS_FRAMES = _frames("kairos.tsv")

# --------------------------------------------------------------------------- stances

# Stance verb forms ("|"-separated; spaces match any whitespace) and the polarity they suggest.
STANCE_LEXICON: tuple[tuple[str, Polarity], ...] = (
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


def _scores(name: str) -> tuple[dict[str, float], float]:
    """(word -> score, threshold) of a data file of this package (``# threshold`` header)."""
    text = (resources.files("llmextract.candidates") / name).read_text(encoding="utf-8")
    scores, threshold = {}, 0.0
    for line in text.splitlines():
        key, _, value = line.partition("\t")
        if key == "# threshold":
            threshold = float(value)
        elif line.strip() and line[0] != "#":
            scores[key] = float(value)
    return scores, threshold


# Words' log-odds of favourable over unfavourable news sentences, and the summed score above
# which a phrase reads as favourable: written by evals/scripts/derive_polarity.py from the
# NewsMTSC train split (sentiment toward people in news sentences).
POLARITY_WORDS, POLARITY_THRESHOLD = _scores("polarity.tsv")

# --------------------------------------------------------------------------- KAIROS saying
# Verbs of saying as one-way communication events (KAIROS Contact.Contact.Broadcast, whose
# template reads "<arg1> communicated to <arg2> ... (one-way communication)"; the ontology's
# keywords name only broadcast/announce). The forms are the speech-act verbs of the PolNeAR
# train attribution cues (CUE_FORMS): saying, telling, asking, stating, reporting, declaring,
# confirming; not verbs of attitude (believe, think, hope, expect), not forms another
# trigger list already types (accuse, urge, warn, deny, call for...) and not forms mostly
# nouns in news ("states", "reports").
KAIROS_SAYING = (
    "Contact.Contact.Broadcast",
    _wordset(
        """told tells tell telling asked asks ask asking stated stating reported declared
        declares confirmed confirms replied responded"""
    ),
)
