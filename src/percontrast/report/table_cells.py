"""The cells and rows every table builder shares: a main cell from a metrics file, the average
over tasks, the PerCE-over-CE Gain row, the "not run" row and the footnotes a table's cells call
for (:func:`annotate`).

Why a module of its own: the paper's tables (:mod:`.paper_tables`), this project's own
(:mod:`.own_tables`) and the controls' (:mod:`.controls`) must mark scale, intervals and
missing runs the same way; each builder takes these pieces instead of restating them. A builder
takes the validated config and a results root, reads the metrics files of the runs the config
defines (:mod:`percontrast.config`), and returns a :class:`~.table_format.Table`; a run whose
file does not exist yet shows "—" and is listed in ``Table.missing``, never failing the report.
"""

from __future__ import annotations

import functools
from typing import Any

from percontrast import plan
from percontrast.report import results as rs
from percontrast.report.gains import Gain, gain, mean_interval, notation, partial_note
from percontrast.report.results import Value
from percontrast.report.results import mean_or_none as _mean
from percontrast.report.table_format import DASH, NOT_RUN, NotRun, Table, not_run


def annotate(cfg, table: Table) -> Table:
    """The footnotes a table's cells call for: the scale marks that occur, the partial-overlap
    mark, what a main cell shows, and which config runs the "not run" cells."""
    cells = [v for row in table.rows for v in row]
    values = [v for v in cells if isinstance(v, Value)]
    extra: list[str] = []
    if values:
        extra.append("Cells: the mean [its 95% bootstrap interval over the test examples, "
                     "from 10 examples on] and n = the examples it is over "
                     f"({notation(cfg).split('(', 1)[1].split(')')[0]}).")
    extra += rs.scale_notes(cfg, {v.scale for v in values})
    if any(isinstance(v, Gain) and v.common is not None for v in cells):
        extra.append(partial_note(cfg))
    if any(isinstance(v, NotRun) for v in cells):
        extra.append(f"{NOT_RUN}: this config (`{cfg.get('run_name', '?')}`) does not define "
                     f"the run; `{rs.not_run_config(cfg)}` runs it (`snakemake --cores all "
                     f"--configfile {rs.not_run_config(cfg)}`). {DASH}: a run this config "
                     "defines that has not finished yet.")
    table.notes += [n for n in extra if n not in table.notes]
    return table


def annotated(builder):
    """A builder whose table gets :func:`annotate`'s footnotes."""
    @functools.wraps(builder)
    def build(cfg, root, *args, **kwargs) -> Table:
        return annotate(cfg, builder(cfg, root, *args, **kwargs))
    return build


def value(cfg, m: dict | None, metric: str, run: plan.TrainRun | None, eval_task: str,
          factor: float = 1.0) -> Value | None:
    """A main cell: ``metric``'s mean in metrics file ``m`` with its n, interval and the scale
    of ``run`` evaluated on ``eval_task``; None while the file does not exist."""
    if m is None or m.get(metric) is None:
        return None
    n, low, high = mean_interval(cfg, [m], metric)
    scale = rs.scale_of(cfg, run, eval_task) if run is not None else rs.FULL
    v = Value(m[metric], n, low, high, scale)
    return v.scaled(factor) if factor != 1 else v


def worst_scale(values) -> str:
    """The scale a cell combining ``values`` carries: pipeline if any part is."""
    scales = {getattr(v, "scale", rs.FULL) for v in values}
    return next((s for s in (rs.PIPELINE, rs.PIPELINE_EVAL) if s in scales), rs.FULL)


def average(cfg, cells: list[Value | None], files: list[dict | None], metric: str,
            factor: float = 1.0) -> Value | None:
    """The average over tasks of ``cells`` (None if any is missing), with the stratified
    bootstrap interval of the mean of per-task means and the worst scale of its parts."""
    mean = _mean(cells)
    if mean is None:
        return None
    n, low, high = mean_interval(cfg, files, metric)
    return Value(mean, n, None if low is None else low * factor,
                 None if high is None else high * factor, worst_scale(cells))


def not_run_row(cfg, table: Table, what: str) -> None:
    """The one row of a table (or block) this config does not run: "not run", naming the
    config that does."""
    table.rows.append([not_run(cfg), *[""] * (len(table.header) - 1)])
    table.notes.append(f"Not run in this config: {what}.")


def bootstrap_gain_row(cfg, table: Table, prefix: list[Any],
                       files: dict[str, list[list[dict | None]]], metrics: list[str],
                       percent: bool = True, digits: int = 3) -> None:
    """The Gain row with intervals: ``files[method][column]`` lists the metrics files whose
    per-example ``metrics[column]`` scores make that column (several files = an average over
    tasks, each weighted equally); PerCE against CE on the same examples. A cell whose files
    cannot be compared shows "—" and the reason goes into the notes (the table still renders).
    """
    if "ce" in files and "perce" in files:
        table.rows.append([*prefix, "Gain", *gain_cells(cfg, table, files["ce"], files["perce"],
                                                        metrics, percent, digits)])


def gain_cells(cfg, table: Table, ce: list[list[dict | None]], perce: list[list[dict | None]],
               metrics: list[str], percent: bool = True, digits: int = 3) -> list[Gain | None]:
    """One Gain per column (see :func:`bootstrap_gain_row`); adds the notation note."""
    cells: list[Gain | None] = []
    for base, new, metric in zip(ce, perce, metrics, strict=True):
        try:
            cells.append(gain(cfg, base, new, metric, percent=percent, digits=digits))
        except ValueError as err:
            cells.append(None)
            if str(err) not in table.notes:
                table.notes.append(str(err))
    if percent and notation(cfg) not in table.notes:
        table.notes.append(notation(cfg))
    return cells


def seed_note(cfg) -> list[str]:
    """The note of tables whose main-run cells average several training seeds."""
    seeds = plan.training_seeds(cfg)
    if len(set([cfg["seed"], *seeds])) < 2:
        return []
    return [f"Main-run cells on their own task average {len(set([cfg['seed'], *seeds]))} "
            f"training seeds ({', '.join(str(s) for s in dict.fromkeys([cfg['seed'], *seeds]))}"
            "): each example's score is averaged over the seeds, then bootstrapped."]
