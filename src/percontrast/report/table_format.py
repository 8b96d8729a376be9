"""The report's table format: a :class:`Table` of cells and its CSV, Markdown and LaTeX.

Why a module of its own: every table of the report, whoever builds it (:mod:`.paper_tables`,
:mod:`.own_tables`, :mod:`.controls`, the paper companions of :mod:`.compare`), is written the same
way, so what a cell may hold and how each file shows it is decided here once. The builders fill
cells; this module never reads a result.

Every number says what it is, because one DAG mixes scales and a reader must never take a
one-step run's score for a result:

* a main cell is a :class:`~percontrast.report.results.Value`: the mean with its n (test
  examples) and, from 10 examples on, its 95% bootstrap interval; a cell of a run or evaluation
  at pipeline scale gets a mark (``†``, ``‡``) whose footnote spells out the setting; the CSV
  keeps the number and puts n, the bounds and the scale in columns of their own;
* a Gain over fewer examples than its cells (partly overlapping metrics files) is marked ``§``
  with the number of common examples (:mod:`percontrast.report.gains`);
* a cell of a run this config does not define reads "not run" and names the config that runs it
  (``report.not_run_config``), distinct from "—" (defined, not finished yet).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from percontrast.report import escape
from percontrast.report import results as rs
from percontrast.report.gains import Gain
from percontrast.report.results import Value

DASH = "—"
NOT_RUN = "not run"


@dataclass(frozen=True)
class NotRun:
    """A cell of a run this config does not define: "not run", naming the config that runs it
    (``report.not_run_config``)."""

    config: str

    def __str__(self) -> str:
        return f"{NOT_RUN} ({self.config})"


def not_run(cfg) -> NotRun:
    return NotRun(rs.not_run_config(cfg))


@dataclass
class Table:
    """A titled grid of cells (str, number, :class:`Value`, :class:`Gain`, :class:`NotRun` or
    None), with notes and the runs it lacks."""

    name: str
    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    fmt: str = "{:.4f}"
    #: whether a Value cell shows its n (off where the table has an n column)
    n_in_cells: bool = True

    def cell(self, value: Any) -> str:
        if value is None:
            return DASH
        if isinstance(value, Value):
            text = self.fmt.format(float(value)) + rs.SCALE_MARKS.get(value.scale, "")
            if value.low is not None:
                text += f" [{self.fmt.format(value.low)}, {self.fmt.format(value.high)}]"
            if self.n_in_cells and value.n is not None:
                text += f" n={value.n}"
            return text
        if isinstance(value, float):
            return self.fmt.format(value)
        return str(value)

    def to_csv(self) -> str:
        """One CSV column per header. A column holding Gain cells gets five more beside it (its
        interval's bounds, p-value, n and whether it is over common examples only); a column
        holding Value cells gets four (n, the bounds, the scale: ``full``, ``pipeline`` or
        ``pipeline-eval``); a table with "not run" cells ends in a ``Status`` column. The CSV
        keeps numbers, never formatted text."""
        gain_cols = {j: f" ({v.unit})" if v.unit else "" for row in self.rows
                     for j, v in enumerate(row) if isinstance(v, Gain)}
        value_cols = {j for row in self.rows for j, v in enumerate(row) if isinstance(v, Value)}
        status = any(isinstance(v, NotRun) for row in self.rows for v in row)
        header: list[str] = []
        for j, h in enumerate(self.header):
            header.append(h)
            if j in gain_cols:
                header += [f"{h} {c}{gain_cols[j] if c.startswith('Gain CI') else ''}"
                           for c in Gain.CSV_COLUMNS]
            if j in value_cols:
                header += [f"{h} n", f"{h} CI low", f"{h} CI high", f"{h} scale"]
        if status:
            header.append("Status")
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([escape.csv_cell(h) for h in header])
        for row in self.rows:
            out: list[Any] = []
            for j, v in enumerate(row):
                if isinstance(v, Gain):
                    out += v.csv_fields()
                elif isinstance(v, Value):
                    out.append(round(float(v), 6))
                elif isinstance(v, NotRun):
                    out.append(None)
                else:
                    out.append(v)
                if j in gain_cols and not isinstance(v, Gain):
                    out += [None] * len(Gain.CSV_COLUMNS)
                if j in value_cols:
                    out += ([v.n, _round(v.low), _round(v.high), v.scale or "full"]
                            if isinstance(v, Value) else [None] * 4)
            if status:
                out.append(next((str(v) for v in row if isinstance(v, NotRun)), None))
            writer.writerow([escape.csv_cell("" if v is None else v) for v in out])
        return buf.getvalue()

    def to_markdown(self) -> str:
        lines = [f"### {escape.markdown(self.title)}", "",
                 "| " + " | ".join(escape.markdown(h) for h in self.header) + " |",
                 "|" + "|".join("---" for _ in self.header) + "|"]
        lines += ["| " + " | ".join(escape.markdown(self.cell(v)) for v in row) + " |"
                  for row in self.rows]
        lines += [""] + [f"- {escape.one_line(note)}" for note in self.notes]
        if self.missing:
            lines.append(f"- Missing runs ({len(self.missing)}), shown as {DASH}: "
                         + ", ".join(f"`{m}`" for m in self.missing[:20])
                         + (" ..." if len(self.missing) > 20 else ""))
        return "\n".join(lines).rstrip() + "\n"

    def to_latex(self) -> str:
        def esc(text: str) -> str:
            text = escape.latex(text)
            for a, b in ((DASH, "--"), ("\u2020", r"$^\dagger$"), ("\u2021", r"$^\ddagger$"),
                         ("\u00a7", r"\S")):
                text = text.replace(a, b)
            return text

        cols = "l" * 1 + "r" * (len(self.header) - 1)
        out = [f"% {escape.one_line(self.title)}", r"\begin{tabular}{" + cols + "}", r"\toprule",
               " & ".join(esc(h) for h in self.header) + r" \\", r"\midrule"]
        out += [" & ".join(esc(self.cell(v)) for v in row) + r" \\" for row in self.rows]
        out += [r"\bottomrule", r"\end{tabular}"]
        return "\n".join(out) + "\n"

    def write(self, folder: str | os.PathLike) -> list[Path]:
        from percontrast.io import write_text

        folder = Path(folder)
        paths = []
        for ext, text in (("csv", self.to_csv()), ("md", self.to_markdown()),
                          ("tex", self.to_latex())):
            path = folder / f"{self.name}.{ext}"
            write_text(path, text)
            paths.append(path)
        return paths


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)
