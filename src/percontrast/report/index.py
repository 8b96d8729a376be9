"""results/index.md: every table and figure, one line on what it shows, and how to rebuild it.

The descriptions and the rule that rebuilds each artefact come from the artefact catalogue
(:mod:`percontrast.artefacts`).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

from percontrast import artefacts
from percontrast.artefacts import COMPANION_SUFFIX
from percontrast.config import section_defaults
from percontrast.report import escape


def describe(name: str) -> str:
    """One line on what a table or figure shows: the catalogue's (:mod:`percontrast.artefacts`;
    a companion's: the paper side by side)."""
    if artefacts.find(name) is None and name.endswith(COMPANION_SUFFIX):
        base = name.removesuffix(COMPANION_SUFFIX)
        return f"the paper's published numbers next to this run's for {base}"
    return artefacts.describe(name)


def build_index(cfg: dict[str, Any], tables: list[str | os.PathLike],
                figures: list[str | os.PathLike], *, out_dir: str | os.PathLike = "results",
                configfile: str | None = None, claims: str | os.PathLike | None = None) -> str:
    """The Markdown of results/index.md; links are relative to ``out_dir``; ``claims``
    (claims.md) leads, with its verdict summary line."""
    out_dir = Path(out_dir)
    # the commands are copied into a shell: a config path with spaces or `$(...)` is quoted
    cf = f" --configfile {shlex.quote(str(configfile))}" if configfile else ""

    def command(*args: str, in_table: bool = False) -> str:
        text = f"snakemake --cores all{cf}" + "".join(f" {shlex.quote(str(a))}" for a in args)
        return escape.code_span(text, in_table=in_table)

    lines = [f"# {escape.markdown(section_defaults('report', cfg.get('report'))['title'])}",
             "", f"Config `{cfg.get('run_name', '?')}`: "
             f"{escape.markdown(' '.join(cfg.get('description', '').split()))}",
             "", f"Everything below: {command()}. One file: "
             f"{escape.code_span(f'snakemake --cores all{cf} --forcerun <rule> <path>')} "
             "(rule `tables`, `figures`, `pir_figures`).", ""]
    if claims is not None:
        path = Path(claims)
        summary = next((line for line in path.read_text(encoding="utf-8").splitlines()
                        if line.startswith("Summary:")), "") if path.is_file() else ""
        link = os.path.relpath(path, out_dir)
        lines += ["## Claims", "", f"**[Does the paper hold here?]({link})**"
                  " — each headline claim of the paper with the paper's number, this run's with "
                  "its 95% paired-bootstrap interval and n, and a verdict computed from the "
                  f"result files. {summary}", "",
                  f"Rebuild: {command('--forcerun', 'claims', path)}", ""]
    lines += ["## Tables", "", "CSV, Markdown and LaTeX of each table sit next to each other in "
             "`results/tables/`.", "", "| table | what it shows | rebuild |", "|---|---|---|"]
    for path in sorted(map(Path, tables), key=lambda p: _table_order(p.stem)):
        rel = os.path.relpath(path, out_dir)
        lines.append(f"| [{path.stem}]({rel}) | {describe(path.stem)} | "
                     f"{command('--forcerun', 'tables', path, in_table=True)} |")
    lines += ["", "## Figures", "", "| figure | what it shows | rebuild |", "|---|---|---|"]
    for path in map(Path, figures):
        rel = os.path.relpath(path, out_dir)
        rule = artefacts.get(path.stem).rule
        lines.append(f"| [{path.stem}]({rel}) | {describe(path.stem)} | "
                     f"{command('--forcerun', rule, path, in_table=True)} |")
    lines += ["", "`snakemake --report report.html` bundles the same tables and figures with "
              "their captions into one HTML file.", ""]
    return "\n".join(lines)


def _table_order(stem: str) -> tuple:
    base = stem.removesuffix(COMPANION_SUFFIX)
    digits = "".join(c for c in base if c.isdigit())
    return (int(digits) if digits else 99, base, stem.endswith(COMPANION_SUFFIX))
