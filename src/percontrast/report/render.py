"""Render the report's artefact sets from results/: every table (rule tables), the training
figures (rule figures) and the PIR figures (rule pir_figures), each artefact by the builder the
catalogue (:mod:`percontrast.artefacts`) names; the figure builders live here. The commands
(``percontrast tables`` / ``figures`` / ``pir_figures``) only parse arguments and call these.

Tables are built in memory first and written only when every one of them built: a result file
that cannot be read (named in the error) leaves the tables already on disk as they were, rather
than a half-new set beside an index that describes the old one.

Figures get their points from :mod:`percontrast.report.results` with each point's scale, and the
config's words for each scale (:func:`percontrast.report.results.scale_labels`), so a one-step
run is drawn hollow (or hatched) and named as such, never as a result.
"""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from percontrast import artefacts, plan
from percontrast.io import read_json, read_jsonl
from percontrast.report import pir_figures, score_figures, training_figures
from percontrast.report import results as rs
from percontrast.report.table_format import Table

log = logging.getLogger(__name__)


def build_tables(cfg: dict[str, Any], results: str | os.PathLike, data: str | os.PathLike,
                 names: list[str] | None = None) -> list[Table]:
    """The base tables ``names`` (default: all, in catalogue order) and, unless
    ``report.paper_comparison`` is false, each one's paper-vs-reproduction companion; every
    builder is the catalogue's (:mod:`percontrast.artefacts`)."""
    names = list(dict.fromkeys(artefacts.base_table_names() if names is None else names))
    chosen = [artefacts.get(name) for name in names]
    if cfg.get("report", {}).get("paper_comparison", True):
        chosen += [artefacts.get(name) for name in artefacts.companions_of(names)]
    return [a.load()(cfg, results, data) if a.reads_data else a.load()(cfg, results)
            for a in chosen]


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
    """Every figure of rule ``figures`` in the catalogue (training curves, the E-step on marker
    tokens, LR robustness, cross-task heat-maps, ALOE by round), from the runs of the config's
    grid only (a figure never shows a run the DAG does not make; runs not finished yet are
    drawn as "no data yet"). Each is drawn by its catalogue builder
    ``builder(cfg, results, path)``."""
    out = Path(out)
    paths = []
    for name in artefacts.figure_names("figures"):
        paths.append(out / f"{name}.png")
        artefacts.get(name).load()(cfg, results, paths[-1])
    return paths


# --------------------------------------------------------------------------- rule figures
# One builder per figure of rule ``figures``: builder(cfg, results, path) -> Figure.

def training_curves(cfg: dict[str, Any], results: str | os.PathLike, path: Path):
    """Loss, mean token weight and share of clipped tokens per step, main learning rate."""
    tr = cfg["training"]
    main_lr, (lo, hi) = tr["main_learning_rate"], tr["clip"]
    logs = rs.training_logs(cfg, results)
    fig = training_figures.training_curves(logs, path, scale_labels=rs.scale_labels(cfg), title=(
        f"Training at LR {plan.fmt_num(main_lr)}, clip [{plan.fmt_num(lo)}, {plan.fmt_num(hi)}]"))
    log.info("training_curves: %d/%d runs with a log", *rs.count_present(logs, bool))
    return fig


def estep_markers(cfg: dict[str, Any], results: str | os.PathLike, path: Path):
    """The online E-step on the demo users' marker tokens (PIR measured, not used)."""
    tr = cfg["training"]
    main_lr, (lo, hi) = tr["main_learning_rate"], tr["clip"]
    logs = rs.training_logs(cfg, results)
    fig = training_figures.estep_markers(logs, path, clip=(lo, hi), title=(
        f"Online E-step on the demo users' personal markers (LR {plan.fmt_num(main_lr)})"))
    log.info("estep_markers: %d/%d runs log marker-token statistics", *rs.count_present(
        logs, lambda rows: any("n_marker_tokens" in r for r in rows or [])))
    return fig


def lr_robustness(cfg: dict[str, Any], results: str | os.PathLike, path: Path):
    """ROUGE-L against learning rate per method and task (table 2 as a plot)."""
    lrs = rs.lr_scores(cfg, results)
    fig = score_figures.lr_robustness(lrs, path, main_lr=cfg["training"]["main_learning_rate"],
                                      scale_labels=rs.scale_labels(cfg))
    log.info("lr_robustness: %d/%d (model, task, method) LR series complete", *rs.count_present(
        lrs, lambda series: all(v is not None for v in series.values())))
    return fig


def cross_task_heatmap(cfg: dict[str, Any], results: str | os.PathLike, path: Path):
    """Source x target ROUGE-L for CE and PerCE and their difference (tables 3 / 8)."""
    cross = rs.cross_task_scores(cfg, results)
    fig = score_figures.cross_task_heatmap(
        cross, path, scale_labels=rs.scale_labels(cfg),
        empty_text="cross-task evaluation is off in this config")
    log.info("cross_task_heatmap: %d/%d (model, source, method) rows complete",
             *rs.count_present(cross, lambda row: all(v is not None for v in row.values())))
    return fig


def aloe_by_round(cfg: dict[str, Any], results: str | os.PathLike, path: Path):
    """ALOE judge score by dialogue round, CE vs. PerCE per source task."""
    aloe = rs.aloe_scores(cfg, results)
    fig = score_figures.aloe_by_round(aloe, path,
                                      rounds=cfg["evaluation"].get("aloe", {}).get("rounds"),
                                      empty_text="ALOE evaluation is off in this config")
    log.info("aloe_by_round: %d/%d runs scored", *rs.count_present(aloe, bool))
    return fig


# --------------------------------------------------------------------------- rule pir_figures

@dataclass
class PirInputs:
    """What the PIR figures read: each PIR model's classification.json (``classification``,
    model -> content) and the first model's token scores (``tokens``, scores.jsonl), which
    feed figures 2 and 5; ``n_heatmap`` answers go into the heat-map."""

    classification: dict[str, dict]
    main: str
    tokens: list[dict]
    n_heatmap: int = 8

    @classmethod
    def read(cls, pir_dirs: list[str | os.PathLike], n_heatmap: int = 8) -> PirInputs:
        """From results/pir/{model} folders; the first one is the main model."""
        classification = {Path(d).name: read_json(Path(d) / "classification.json")
                          for d in pir_dirs}
        main_dir = Path(pir_dirs[0])
        return cls(classification, main_dir.name, read_jsonl(main_dir / "scores.jsonl"),
                   n_heatmap)


def render_pir_figures(pir_dirs: list[str | os.PathLike], out: str | os.PathLike,
                       n_heatmap: int = 8) -> list[Path]:
    """Every figure of rule ``pir_figures`` in the catalogue (figures 2, 4 and 5 and the PR
    curves), each by its builder ``builder(pir, path)``."""
    pir, out, paths = PirInputs.read(pir_dirs, n_heatmap), Path(out), []
    for name in artefacts.figure_names("pir_figures"):
        paths.append(out / f"{name}.png")
        artefacts.get(name).load()(pir, paths[-1])
    return paths


def pir_classification_figure(pir: PirInputs, path: Path):
    """Figure 4: precision / recall / F1 per method, one panel per PIR model."""
    return pir_figures.pir_classification_bars(pir.classification, path)


def pir_pr_curves_figure(pir: PirInputs, path: Path):
    """PR curves of PIR per counterfactual with the binary methods' operating points."""
    return pir_figures.pir_pr_curves(pir.classification, path)


def pir_histogram_figure(pir: PirInputs, path: Path):
    """Figure 5: the PIR of personal vs. other tokens of the main model, with its threshold."""
    return pir_figures.pir_histogram(pir.tokens, pir.classification[pir.main]["threshold"],
                                     path, title=f"PIR of answer tokens ({pir.main})")


def pir_heatmap_figure(pir: PirInputs, path: Path):
    """Figure 2: the first ``n_heatmap`` answers with a gold personal token, coloured by PIR."""
    answers = [list(group) for _, group in itertools.groupby(pir.tokens, key=lambda t: t["id"])]
    shown = [a for a in answers if any(t["gold"] for t in a)][:pir.n_heatmap]
    return pir_figures.pir_heatmap(shown, path,
                                   title=f"Per-token PIR on persona-QA answers ({pir.main})")
