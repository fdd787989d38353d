"""Benchmark 5: langextract against the same server, documents and latency.

langextract (``pip install langextract``) sends one plain chat completion per text chunk
with ``response_format: json_object`` and parses its own answer format, so the server is
given a script of that answer: the mayor's quotation, which every benchmark document holds.
Its OpenAI provider runs ``max_workers`` requests at once in threads, one batch of
``batch_length`` chunks at a time; all documents go in one batch, its fastest setting.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

QUOTE = "We cannot wait for the next flood to take the fish market,"
ANSWER = {"extractions": [{"quote": QUOTE, "quote_attributes": {"speaker": "Mayor Elena Ruiz"}}]}


def langextract_throughput(
    args: argparse.Namespace,
    server: Callable[..., AbstractContextManager[str]],
    article: Callable[[int], str],
    work: Path,
) -> dict[str, Any]:
    try:
        import langextract as lx
        from langextract.providers.openai import OpenAILanguageModel
    except ImportError:
        print("5. peers: langextract is not installed (pip install langextract); skipped")
        return {}
    script = work / "langextract-script.jsonl"
    with script.open("w", encoding="utf-8") as handle:
        for _ in range(args.docs + 10):
            handle.write(json.dumps({"content": json.dumps(ANSWER)}) + "\n")
    examples = [
        lx.data.ExampleData(
            text=f'"{QUOTE}" Mayor Elena Ruiz told reporters.',
            extractions=[
                lx.data.Extraction(
                    extraction_class="quote",
                    extraction_text=QUOTE,
                    attributes={"speaker": "Mayor Elena Ruiz"},
                )
            ],
        )
    ]
    documents = [lx.data.Document(text=article(i), document_id=f"doc{i}") for i in range(args.docs)]
    with server(args.latency_ms, script=script) as url:
        model = OpenAILanguageModel(
            model_id="scripted", api_key="none", base_url=url, max_workers=args.concurrency
        )
        started = time.perf_counter()
        results = list(
            lx.extract(
                text_or_documents=documents,
                prompt_description="Extract direct quotations and their speakers.",
                examples=examples,
                model=model,
                max_char_buffer=5000,  # one chunk, so one request, per document
                # All chunks in one batch: langextract runs its batches one after another,
                # so this is its fastest setting (batch_length = workers measured 1.61).
                batch_length=args.docs,
                max_workers=args.concurrency,
                fence_output=False,
                use_schema_constraints=False,
                show_progress=False,
            )
        )
        wall = time.perf_counter() - started
    found = sum(len(result.extractions or []) for result in results)
    ideal = args.docs * args.latency_ms / 1000 / args.concurrency
    version = importlib.metadata.version("langextract")
    print(
        f"5. peers: langextract {version}, {args.docs} docs ({found} quotes), latency "
        f"{args.latency_ms:.0f} ms, {args.concurrency} workers: {wall:.2f} s, ratio "
        f"{wall / ideal:.3f}"
    )
    return {"langextract_throughput_ratio": round(wall / ideal, 3)}
