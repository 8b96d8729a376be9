"""Render the report's artefact sets from results/: every table (rule tables) and the training
figures (rule figures). The scripts only parse arguments and call these.

Tables are built in memory first and written only when every one of them built: a result file
that cannot be read (named in the error) leaves the tables already on disk as they were, rather
than a half-new set beside an index that describes the old one.

Figures get their points from :mod:`percontrast.report.results` with each point's scale, and the
config's words for each scale (:func:`percontrast.report.results.scale_labels`), so a one-step
run is drawn hollow (or hatched) and named as such, never as a result.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from percontrast import config as pc
from percontrast.report import figures
from percontrast.report import results as rs
from percontrast.report.compare import COMPANIONS, companions_of
from percontrast.report.tables import BUILDERS, Table

log = logging.getLogger(__name__)


def build_tables(cfg: dict[str, Any], results: str | os.PathLike, data: str | os.PathLike,
                 names: list[str] | None = None) -> list[Table]:
    """The base tables ``names`` (default: all) and, unless ``report.paper_comparison`` is
    false, each one's paper-vs-reproduction companion."""
    names = list(BUILDERS) if names is None else names
    builders = {name: BUILDERS[name] for name in names}
    if cfg.get("report", {}).get("paper_comparison", True):
        builders.update({name: COMPANIONS[name] for name in companions_of(names)})
    return [builder(cfg, results, data) if name.startswith("table6") else builder(cfg, results)
            for name, builder in builders.items()]


def render_tables(cfg: dict[str, Any], results: str | os.PathLike, data: str | os.PathLike,
                  out: str | os.PathLike, names: list[str] | None = None) -> list[Table]:
    """Build every table, then write them all (CSV, Markdown, LaTeX; each file atomically)."""
    tables = build_tables(cfg, results, data, names)
    for table in tables:
        table.write(out)
        log.info("%s: %d rows, %d missing runs", table.name, len(table.rows), len(table.missing))
    return tables


def render_figures(cfg: dict[str, Any], results: str | os.PathLike,
                   out: str | os.PathLike) -> list[Path]:
    """Training curves, the E-step on marker tokens, LR robustness, cross-task heat-maps and
    ALOE by round, from the runs of the config's grid only (a figure never shows a run the DAG
    does not make; runs not finished yet are drawn as "no data yet")."""
    out = Path(out)
    tr, ev = cfg["training"], cfg["evaluation"]
    main_lr, (lo, hi) = tr["main_learning_rate"], tr["clip"]
    paths = {name: out / f"{name}.png" for name in (
        "training_curves", "lr_robustness", "cross_task_heatmap", "estep_markers",
        "aloe_by_round")}

    labels = rs.scale_labels(cfg)
    logs = rs.training_logs(cfg, results)
    figures.training_curves(logs, paths["training_curves"], scale_labels=labels, title=(
        f"Training at LR {pc.fmt_num(main_lr)}, clip [{pc.fmt_num(lo)}, {pc.fmt_num(hi)}]"))
    log.info("training_curves: %d/%d runs with a log", *rs.count_present(logs, bool))

    lrs = rs.lr_scores(cfg, results)
    figures.lr_robustness(lrs, paths["lr_robustness"], main_lr=main_lr, scale_labels=labels)
    log.info("lr_robustness: %d/%d (model, task, method) LR series complete", *rs.count_present(
        lrs, lambda series: all(v is not None for v in series.values())))

    cross = rs.cross_task_scores(cfg, results)
    figures.cross_task_heatmap(cross, paths["cross_task_heatmap"], scale_labels=labels,
                               empty_text="cross-task evaluation is off in this config")
    log.info("cross_task_heatmap: %d/%d (model, source, method) rows complete",
             *rs.count_present(cross, lambda row: all(v is not None for v in row.values())))

    figures.estep_markers(logs, paths["estep_markers"], clip=(lo, hi), title=(
        f"Online E-step on the demo users' personal markers (LR {pc.fmt_num(main_lr)})"))
    log.info("estep_markers: %d/%d runs log marker-token statistics", *rs.count_present(
        logs, lambda rows: any("n_marker_tokens" in r for r in rows or [])))

    aloe = rs.aloe_scores(cfg, results)
    figures.aloe_by_round(aloe, paths["aloe_by_round"], rounds=ev.get("aloe", {}).get("rounds"),
                          empty_text="ALOE evaluation is off in this config")
    log.info("aloe_by_round: %d/%d runs scored", *rs.count_present(aloe, bool))
    return list(paths.values())
