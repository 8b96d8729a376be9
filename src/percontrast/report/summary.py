"""docs/results.md from a finished run: the verdict table, the configuration, the commit, the
date and the time it took, rendered from the run's files and never retyped.

Read:

* ``{results}/claims.json`` (:func:`percontrast.report.claims.write_claims`): the run's name, the
  bootstrap settings and one entry per claim (:meth:`percontrast.report.claims.Claim.to_dict`);
* ``{results}/index.md`` or ``{results}/claims.md``: the configuration's description (the line
  ``Config `name`: description`` both begin with);
* Snakemake's ``benchmark:`` files (``benchmarks/{rule}/....tsv``, ``benchmarks/{rule}.tsv``):
  jobs, job time and largest RSS per rule, when the run left them.

The commit is ``git rev-parse HEAD`` of the folder the command runs in (``unknown`` outside a
git checkout), the date is claims.json's modification time (UTC), and the wall time is what the
caller measured (``--wall-time``), since no file of the run records it. ``percontrast summarize
results --out docs/results.md`` writes the page; a re-measurement is a rerun plus a commit of
that file.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from percontrast.io import DataError, read_json
from percontrast.report import escape

#: the columns of the verdict table
COLUMNS = ("#", "Claim", "This run [CI]", "n", "Interval covers", "Verdict", "Holm")
_UNITS = {"%": "relative", "pts": "points x100"}
_CONFIG_LINE = re.compile(r"^Config `(?P<name>[^`]*)`: ?(?P<description>.*)$")


@dataclass(frozen=True)
class RuleTime:
    """One rule's Snakemake benchmark files: jobs, summed job time, largest RSS."""

    rule: str
    jobs: int
    seconds: float
    max_rss_mb: float | None


def read_claims(results: str | os.PathLike) -> dict[str, Any]:
    """``{results}/claims.json``, checked for the keys the page needs."""
    path = Path(results) / "claims.json"
    if not path.is_file():
        raise DataError(path, "no claims.json: run the pipeline's `claims` rule first "
                              "(snakemake --cores all) or name the results folder of a run")
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list):
        raise DataError(path, "expected an object with a 'claims' list "
                              "(percontrast.report.claims.write_claims)")
    for k, claim in enumerate(data["claims"]):
        for key in ("claim", "ours", "verdict"):
            if not isinstance(claim, dict) or key not in claim:
                raise DataError(path, f"claims[{k}] has no {key!r}", field=key)
    return data


def config_line(results: str | os.PathLike) -> tuple[str | None, str | None]:
    """(name, description) of the run's config, from index.md or claims.md; (None, None) when
    neither holds the ``Config `name`: ...`` line."""
    for name in ("index.md", "claims.md"):
        path = Path(results) / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[:8]:
            m = _CONFIG_LINE.match(line.strip())
            if m:
                return m["name"], m["description"].strip() or None
    return None, None


def git_commit(cwd: str | os.PathLike | None = None) -> str:
    """``git rev-parse HEAD`` in ``cwd``, or ``unknown`` (no git, not a checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    head = out.stdout.strip()
    return head if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", head) else "unknown"


def run_date(results: str | os.PathLike) -> str:
    """claims.json's modification time as a UTC date and time."""
    stamp = (Path(results) / "claims.json").stat().st_mtime
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def rule_times(benchmarks: str | os.PathLike) -> list[RuleTime]:
    """Per rule, from Snakemake's benchmark TSVs under ``benchmarks`` (the rule is the first
    path component, or the file's stem at the top level); longest job time first."""
    root = Path(benchmarks)
    if not root.is_dir():
        return []
    found: dict[str, list[tuple[float, float | None]]] = {}
    for path in sorted(root.rglob("*.tsv")):
        rel = path.relative_to(root)
        rule = rel.parts[0] if len(rel.parts) > 1 else path.stem
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        for row in rows:
            seconds = _number(row.get("s"))
            if seconds is None:
                raise DataError(path, "a benchmark row without a number in column 's'")
            found.setdefault(rule, []).append((seconds, _number(row.get("max_rss"))))
    times = []
    for rule, rows in found.items():
        rss = [r for _, r in rows if r is not None]
        times.append(RuleTime(rule, len(rows), sum(s for s, _ in rows),
                              max(rss) if rss else None))
    return sorted(times, key=lambda t: (-t.seconds, t.rule))


def _number(text: str | None) -> float | None:
    try:
        value = float(text)  # Snakemake writes "NA" for what it could not measure
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _duration(seconds: float) -> str:
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return (f"{h} h {m} min {s} s" if h else f"{m} min {s} s" if m else f"{s} s")


def _p(p: float | None, n_resamples: int | None) -> str:
    if p is None:
        return ""
    if p == 0 and n_resamples:
        return f"p < {1 / n_resamples:.1g}"
    return f"p {p:.3g}"


def verdict_rows(data: dict[str, Any]) -> list[list[str]]:
    """The verdict table's rows, in claims.json's order (cells already Markdown-escaped)."""
    n_resamples = (data.get("bootstrap") or {}).get("n_resamples")
    rows = []
    for i, c in enumerate(data["claims"], 1):
        estimate = c.get("estimate") or {}
        unit = _UNITS.get(c.get("unit", ""), c.get("unit", ""))
        ours = c["ours"] + (f" ({escape.markdown(unit)})" if unit and estimate else "")
        scale = " (pipeline scale)" if c.get("pipeline_scale") else ""
        holm = c.get("holm_verdict")
        holm_cell = "—" if holm is None else " ".join(
            x for x in (holm, f"({_p(c.get('holm_p'), n_resamples)})"
                        if c.get("holm_p") is not None else "") if x)
        rows.append([str(i), escape.markdown(c["claim"]), escape.markdown(ours),
                     str(estimate["n"]) if estimate.get("n") is not None else "—",
                     escape.markdown(c.get("covers") or "") or "—",
                     f"**{c['verdict']}**{scale}", holm_cell])
    return rows


def render(results: str | os.PathLike, *, benchmarks: str | os.PathLike | None = None,
           commit: str | None = None, date: str | None = None, wall_time: str | None = None,
           command: str | None = None) -> str:
    """The Markdown of docs/results.md for the run whose outputs are in ``results``."""
    results = Path(results)
    data = read_claims(results)
    name, description = config_line(results)
    name = name or data.get("run_name") or "unknown"
    commit = commit or git_commit()
    date = date or run_date(results)
    times = rule_times(benchmarks if benchmarks is not None else results.parent / "benchmarks")
    counts: dict[str, int] = {}
    holm_counts: dict[str, int] = {}
    for c in data["claims"]:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
        if c.get("holm_verdict") is not None:
            holm_counts[c["holm_verdict"]] = holm_counts.get(c["holm_verdict"], 0) + 1
    boot = data.get("bootstrap") or {}

    lines = [f"# Results: {escape.code_span(name)}", "",
             "Written by `percontrast summarize` from the run's `claims.json`, "
             "`index.md` and Snakemake benchmark files; regenerate it, do not edit it.", "",
             "| | |", "|---|---|",
             # the description comes from index.md / claims.md, already escaped for Markdown
             f"| configuration | {escape.code_span(name, in_table=True)}"
             + (f": {escape.one_line(description)}" if description else "") + " |",
             f"| commit | {escape.code_span(commit, in_table=True)} |",
             f"| date | {escape.markdown(date)} |",
             f"| wall time | {escape.markdown(wall_time) if wall_time else 'not recorded'} |"]
    if command:
        lines.append(f"| command | {escape.code_span(command, in_table=True)} |")
    if boot:
        lines.append(f"| bootstrap | {boot.get('n_resamples', '?')} paired resamples, "
                     f"{boot.get('confidence', 0.95):.0%} intervals, seed "
                     f"{boot.get('seed', '?')} |")
    lines += ["", "## Verdicts", "",
              "Summary: " + (", ".join(f"{n} {v}" for v, n in counts.items()) or "no claims")
              + ("; after Holm's adjustment: " + ", ".join(f"{n} {v}" for v, n in
                                                          holm_counts.items())
                 if holm_counts else ""), "",
              "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in verdict_rows(data)]
    notes = [(i, c) for i, c in enumerate(data["claims"], 1) if c.get("note") or
             c.get("missing")]
    if notes:
        lines += ["", "Notes:", ""]
        for i, c in notes:
            text = c.get("note") or ""
            missing = c.get("missing") or []
            if missing:
                text += ("; " if text else "") + f"{len(missing)} result file(s) missing"
            lines.append(f"- {i}: {escape.one_line(text)}")
    if any(c.get("pipeline_scale") for c in data["claims"]):
        lines += ["", "(pipeline scale): the config runs this stage only to exercise the "
                  "pipeline; its verdict describes this run, not the paper's setting."]
    if times:
        total = sum(t.seconds for t in times)
        lines += ["", "## Job times", "",
                  f"From Snakemake's `benchmark:` files: {sum(t.jobs for t in times)} jobs, "
                  f"{_duration(total)} of job time (jobs without a benchmark file are not "
                  "counted).", "", "| rule | jobs | job time | largest RSS |", "|---|---|---|---|"]
        for t in times:
            rss = f"{t.max_rss_mb / 1024:.2f} GB" if t.max_rss_mb is not None else "—"
            lines.append(f"| `{t.rule}` | {t.jobs} | {_duration(t.seconds)} | {rss} |")
    return "\n".join(lines) + "\n"
