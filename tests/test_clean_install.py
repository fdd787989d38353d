"""examples/claims on a clean install: the project's sdist built (offline), the wheel built
from it installed into a folder of its own, the sdist's examples/claims copied to a folder
outside the checkout, and the README's walkthrough commands run there as written, against
the oracle server: prompts list and new, extract, batch and its resume, render, eval of two
prompt versions and compare. What the package needs at run time (prompts, view assets, the
cue words, the oracle server) must come from the wheel, not the checkout."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, clean_environment, records

EXAMPLE = ROOT / "examples" / "claims"
WALKTHROUGH = re.compile(r"```(?:shell|bash|sh)\n(.*?)```", re.S)
SERVICE = re.compile(r"\s*&\s*$")


def walkthrough() -> list[str]:
    """The commands of examples/claims/README.md's shell blocks, in order."""
    text = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    return [
        line.strip()
        for block in WALKTHROUGH.findall(text)
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


@dataclass(frozen=True)
class Release:
    """What a user gets: the source distribution, unpacked, and the wheel built from it,
    installed alone into a folder."""

    source: Path
    site: Path


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """The project's sdist built with its build backend (PEP 517, no network), unpacked; its
    wheel built from it and installed with no dependencies into a folder of its own."""
    pytest.importorskip("hatchling", reason="building the release needs hatchling (dev extra)")
    built = tmp_path_factory.mktemp("dist")
    made = subprocess.run(
        [sys.executable, "-c", "import sys; from hatchling.build import build_sdist; "
         "print(build_sdist(sys.argv[1]))", str(built)],
        check=True, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    with tarfile.open(built / made.stdout.split()[-1]) as sdist:
        sdist.extractall(built, filter="data")
    [source] = (p for p in built.iterdir() if p.is_dir())
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(built),
         str(source)],
        check=True, capture_output=True, timeout=300, cwd=built,
    )  # fmt: skip
    [wheel] = built.glob("llmextract-*.whl")
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=300, cwd=built,
    )  # fmt: skip
    return Release(source, target)


@pytest.mark.parametrize("folder", ["examples/claims", "benchmarks"])
def test_the_sdist_carries_what_the_readme_points_to(release: Release, folder: str) -> None:
    shipped = {p.relative_to(release.source) for p in release.source.rglob("*") if p.is_file()}
    files = [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert files
    for path in files:
        assert path.relative_to(ROOT) in shipped


def user_environment(site: Path, tools: Path) -> dict[str, str]:
    """A user's shell: ``llmextract`` and ``python`` on the PATH, the installed package first
    on the import path, nothing of the checkout's."""
    tools.mkdir(exist_ok=True)
    python = tools / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    env = clean_environment()
    env["PYTHONPATH"] = str(site)
    env["PYTHONNOUSERSITE"] = "1"
    env["PATH"] = os.pathsep.join([str(tools), str(site / "bin"), env.get("PATH", "")])
    return env


def shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{command}"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _spans(record: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    return sorted(
        (k, v["start"], v["end"], v["text"]) for k, v in record.items() if isinstance(v, dict)
    )


def _claims_f1(run: Path) -> dict[str, float]:
    metrics = json.loads(run.read_text())["metrics"]
    return {k: m["f1"] for k, m in metrics.items() if k.startswith("claims.")}


def test_the_claims_walkthrough_runs_on_a_clean_install(release: Release, tmp_path: Path) -> None:
    # The example as the sdist ships it, run with the wheel built from that sdist.
    work = tmp_path / "claims"
    shutil.copytree(release.source / "examples" / "claims", work)
    installed = release.site
    env = user_environment(installed, tmp_path / "tools")

    where = shell(
        "command -v llmextract; python -c 'import llmextract, llmextract.prompts as p; "
        "print(llmextract.__file__); print(p.prompt_dir())'",
        work,
        env,
    )
    assert where.returncode == 0, where.stderr
    script, module, prompts = where.stdout.split()
    for path in (script, module, prompts):
        assert Path(path).is_relative_to(installed), where.stdout
        assert not Path(path).is_relative_to(ROOT)

    commands = walkthrough()
    server_line = next(c for c in commands if SERVICE.search(c))
    assert "llmextract.testing.server" in server_line and "--oracle gold.jsonl" in server_line
    readme_url = re.search(r"--base-url (\S+)", " ".join(commands))
    assert readme_url is not None
    # The README's fixed port may be taken here: port 0 picks a free one, which it prints.
    started = re.sub(r"--port \d+", "--port 0", SERVICE.sub("", server_line))
    server = subprocess.Popen(
        ["bash", "-c", f"exec {started}"], cwd=work, env=env, stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    gold = records(work / "gold.jsonl")
    ran: list[str] = []
    try:
        url = server.stdout.readline().split()[-1]
        env.update(LLMEXTRACT_BASE_URL=url, LLMEXTRACT_MODEL="oracle", LLMEXTRACT_API_KEY="x")
        for command in commands:
            if command == server_line:
                continue
            command = command.replace(readme_url.group(1), url)
            done = shell(command, work, env)
            assert done.returncode == 0, f"{command}\n{done.stderr}"
            assert "Traceback" not in done.stderr
            ran.append(command)
            _check(command, done, work, gold, env)
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
    steps = [c.split()[1] for c in ran if c.startswith("llmextract ")]
    assert steps == ["eval", "prompts", "prompts", "extract", "batch", "render", "eval", "eval",
                     "compare"]  # fmt: skip


def _check(
    command: str,
    done: subprocess.CompletedProcess[str],
    work: Path,
    gold: list[dict[str, Any]],
    env: dict[str, str],
) -> None:
    """What each walkthrough step promises, checked after it runs."""
    if command.startswith("llmextract eval"):
        run = work / command.split(" -o ")[1].split()[0]
        f1 = _claims_f1(run)
        assert set(f1) == {"claims.claim", "claims.claimant", "claims.checkable"}, f1
        assert all(value >= 0.99 for value in f1.values()), f1
    elif command.startswith("llmextract prompts list"):
        row = next(line.split() for line in done.stdout.splitlines() if line.startswith("claims"))
        assert row[1:] == ["copy", "default", str(work / "prompts")]
        assert "packaged" in done.stdout  # the built-in prompts, from the wheel
    elif command.startswith("llmextract prompts new"):
        # As the README says: edit the copy (the oracle still finds the article in it).
        copy = work / "prompts" / "claims.v2.jinja"
        copy.write_text(copy.read_text().replace("List the claims", "List every claim"))
    elif command.startswith("llmextract extract"):
        result = json.loads(done.stdout)
        found = [_spans(r) for r in result["records"]["claims"]]
        assert found == [_spans(g) for g in gold[0]["claims"]]
    elif command.startswith("llmextract batch"):
        output = work / command.split(" -o ")[1].split()[0]
        assert len(records(output)) == len(gold)
        # Stopped midway, then run again: it keeps the lines written and does the rest.
        lines = output.read_text().splitlines(keepends=True)
        output.write_text("".join(lines[:2]))
        again = shell(command, work, env)
        assert again.returncode == 0, again.stderr
        assert "2 already done" in again.stderr
        written = records(output)
        assert [line["id"] for line in written] == [doc["id"] for doc in gold]
        for line, doc in zip(written, gold, strict=True):
            claims = line["result"]["records"]["claims"]
            assert [_spans(r) for r in claims] == [_spans(g) for g in doc["claims"]]
    elif command.startswith("llmextract render"):
        page = (work / command.split(" -o ")[1].split()[0]).read_text()
        data = json.loads(page.split('id="data">')[1].split("</script>")[0])
        assert data["fields"] == {"claims": ["claimant", "claim"]}
        assert sum(len(r["spans"]) for d in data["documents"] for r in d["records"]) == sum(
            len(_spans(g)) for doc in gold for g in doc["claims"]
        )
    elif command.startswith("llmextract compare"):
        row = next(line for line in done.stdout.splitlines() if "| claims.claim |" in line)
        assert "1.000" in row
