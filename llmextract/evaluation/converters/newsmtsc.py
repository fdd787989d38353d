"""NewsMTSC (Hamborg & Donnay 2021) to the gold format, as sentiment marked as such.

NewsMTSC labels the *sentiment of a news sentence toward a target person*, not the stance
of a holder toward an issue. It is reported as stance only with that caveat: every record
is a :class:`GoldStance` with ``label="sentiment"``, ``holder=None`` (the sentence, i.e. the
author, is the implicit holder) and ``meta.label`` says so.

Two input formats are read, told apart per line:

* the dataset's own files (``train.jsonl``): ``{"primary_gid", "sentence_normalized",
  "targets": [{"Input.gid", "from", "to", "mention", "polarity", ...}]}`` with polarity
  2.0 / 4.0 / 6.0 = negative / neutral / positive;
* the Hugging Face splits (``hf-split-*/dev.jsonl``): one row per target,
  ``{"id", "sentence", "mention", "from", "to", "polarity"}`` with polarity -1 / 0 / 1.

``from`` / ``to`` are character offsets into the sentence (``to`` exclusive).

Rows with the same sentence text become one document (the whole file is read first, so the
rows need not be adjacent), in order of first appearance. ``id`` is ``newsmtsc-`` plus the
first 16 hex digits of the SHA-256 of the sentence, stable across files and runs;
``text`` is the sentence. Each target becomes a stance with ``target`` = the mention text,
``polarity`` positive -> support, negative -> oppose, neutral -> neutral, and
``evidence`` = the span of the target mention: NewsMTSC has no evidence span, so the
mention is the anchor (a scorer should match it loosely, not as the evidence of the
sentiment). ``further_mentions`` (automatic coreferences) are not used. Identical stances
(same target, polarity and span, e.g. the same mention listed for two target entities) are
kept once. ``meta.row_ids`` lists the source target ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from llmextract.errors import InputError
from llmextract.evaluation.gold import GoldDocument, GoldStance
from llmextract.jsonl import numbered_lines
from llmextract.schemas import Polarity, Span

__all__ = ["LABEL_NOTE", "convert"]

LABEL_NOTE: Final = "sentiment: reported as stance only with this caveat"

# polarity in the dataset's own files / in the Hugging Face splits -> stance polarity
_OWN_POLARITY: Final[dict[float, Polarity]] = {2.0: "oppose", 4.0: "neutral", 6.0: "support"}
_HF_POLARITY: Final[dict[float, Polarity]] = {-1.0: "oppose", 0.0: "neutral", 1.0: "support"}


class _Sentence:
    def __init__(self) -> None:
        self.stances: list[GoldStance] = []
        self.row_ids: list[str] = []


def convert(src: Path) -> Iterator[GoldDocument]:
    """Gold documents of a NewsMTSC JSONL file, one per distinct sentence."""
    sentences: dict[str, _Sentence] = {}
    for number, line in numbered_lines(src):
        try:
            record = json.loads(line)
            for sentence, row_id, stance in _targets(record):
                group = sentences.setdefault(sentence, _Sentence())
                group.row_ids.append(row_id)
                if stance not in group.stances:
                    group.stances.append(stance)
        except json.JSONDecodeError as error:
            raise InputError(f"{src}:{number}: not JSON ({error.msg})") from None
        except KeyError as error:
            raise InputError(f"{src}:{number}: missing field {error.args[0]!r}") from None
        except (TypeError, ValueError) as error:
            raise InputError(f"{src}:{number}: {str(error).splitlines()[0]}") from None
    for sentence, group in sentences.items():
        yield GoldDocument(
            id="newsmtsc-" + hashlib.sha256(sentence.encode("utf-8")).hexdigest()[:16],
            text=sentence,
            tasks=["stances"],
            source="newsmtsc",
            stances=group.stances,
            meta={"label": LABEL_NOTE, "row_ids": group.row_ids},
        )


def _targets(record: dict[str, Any]) -> Iterator[tuple[str, str, GoldStance]]:
    """(sentence, target id, stance) for each target of a row, in either format."""
    if "targets" in record:
        sentence = str(record["sentence_normalized"])
        for target in record["targets"]:
            yield sentence, str(target["Input.gid"]), _stance(sentence, target, _OWN_POLARITY)
    else:
        sentence = str(record["sentence"])
        yield sentence, str(record["id"]), _stance(sentence, record, _HF_POLARITY)


def _stance(sentence: str, target: dict[str, Any], polarities: dict[float, Polarity]) -> GoldStance:
    mention = str(target["mention"])
    start, end = int(target["from"]), int(target["to"])
    if sentence[start:end] != mention:
        raise ValueError(f"target {mention!r}: sentence[{start}:{end}] is {sentence[start:end]!r}")
    label = target["polarity"]
    polarity = polarities.get(float(label))
    if polarity is None:
        raise ValueError(f"target {mention!r}: unknown polarity {label!r}")
    return GoldStance(
        holder=None,
        target=mention,
        polarity=polarity,
        evidence=Span(text=mention, start=start, end=end),
        label="sentiment",
    )
