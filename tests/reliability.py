"""Figures the reliability tests report; printed as tables at the end of the pytest run."""

from __future__ import annotations

from collections import Counter

FAULTS_INJECTED: Counter[str] = Counter()
FAULTS_SURVIVED: Counter[str] = Counter()
BAD_INPUTS: list[tuple[str, bool]] = []  # (input, got a clear error or the right result)
CRASHES: list[tuple[str, int, int, int, int]] = []  # (run, killed at, lines, lost, duplicated)
LEAKS: list[tuple[str, int, int]] = []  # (run, files and streams checked, leaks found)
# (area, defect probe, handled as documented): attacks and misuse tried from outside
PROBES: list[tuple[str, str, bool]] = []


def probe(area: str, name: str, handled: bool) -> bool:
    """Count one defect probe in the summary; return ``handled`` for the test to assert."""
    PROBES.append((area, name, handled))
    return handled


def render() -> list[str]:
    """The summary as lines, or nothing when no reliability test ran."""
    lines: list[str] = []
    if FAULTS_INJECTED:
        lines += ["faults injected / survived:"]
        for fault, count in sorted(FAULTS_INJECTED.items()):
            lines.append(f"  {fault:22} {count:4} / {FAULTS_SURVIVED[fault]:4}")
        total, survived = FAULTS_INJECTED.total(), FAULTS_SURVIVED.total()
        lines.append(f"  {'all':22} {total:4} / {survived:4}")
    if BAD_INPUTS:
        clear = sum(ok for _, ok in BAD_INPUTS)
        lines.append(
            f"bad inputs tried / clear errors or right results: {len(BAD_INPUTS)} / {clear}"
        )
        lines += [f"  {'ok ' if ok else 'BAD'} {name}" for name, ok in BAD_INPUTS if not ok]
    if CRASHES:
        lost = sum(c[3] for c in CRASHES)
        duplicated = sum(c[4] for c in CRASHES)
        lines.append(
            f"crash-resume runs: {len(CRASHES)}, lines lost: {lost}, duplicated: {duplicated}"
        )
        lines += [
            f"  {run}: killed at line {at}, {total} lines after resume"
            for run, at, total, _, _ in CRASHES
        ]
    if LEAKS:
        checked = sum(c[1] for c in LEAKS)
        found = sum(c[2] for c in LEAKS)
        lines.append(f"secret leaks: {found} in {checked} files and streams of {len(LEAKS)} runs")
    if PROBES:
        areas = sorted({area for area, _, _ in PROBES})
        handled = sum(ok for _, _, ok in PROBES)
        lines.append(f"defect probes tried / handled: {len(PROBES)} / {handled}")
        for area in areas:
            mine = [ok for a, _, ok in PROBES if a == area]
            lines.append(f"  {area:22} {len(mine):4} / {sum(mine):4}")
        lines += [f"  BAD {area}: {name}" for area, name, ok in PROBES if not ok]
    return lines
