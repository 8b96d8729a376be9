"""The report's artefacts: one record per table and figure, and everything derived from them.

Each :class:`Artefact` holds its name (the file stem under ``results/tables`` or
``results/figures``), its kind, the Snakemake rule that writes it, its builder (a dotted path,
imported only when called), a one-line description (``results/index.md``), its Snakemake
report caption (a file under ``workflow/report/``) and its paper-vs-reproduction companion.

Every other place that names an artefact takes it from here: the workflow's target lists
(``workflow/rules/common.smk``), the tables' and companions' builder registries
(:mod:`percontrast.report.paper_tables`, :mod:`percontrast.report.own_tables`,
:mod:`percontrast.report.compare`), the renderers (:mod:`percontrast.report.render`), the
index's descriptions and rebuild commands (:mod:`percontrast.report.index`) and the tests.

**Adding a figure** is one entry in :data:`CATALOGUE` plus its builder function. A builder's
arguments are its rule's:

- rule ``tables``: ``builder(cfg, results) -> Table`` (``builder(cfg, results, data)`` when the
  record has ``reads_data``);
- rule ``figures``: ``builder(cfg, results, path) -> Figure``
  (see :mod:`percontrast.report.render`);
- rule ``pir_figures``: ``builder(pir, path) -> Figure``, ``pir`` a
  :class:`percontrast.report.render.PirInputs`.

Kept free of heavy imports (no numpy, scipy, matplotlib): the Snakefile reads it while
planning, like :mod:`percontrast.methods`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TABLE, FIGURE = "table", "figure"
#: The suffix of a paper-vs-reproduction companion table's name.
COMPANION_SUFFIX = "_vs_paper"


@dataclass(frozen=True)
class Artefact:
    """One table or figure of the report."""

    name: str
    kind: str  # TABLE or FIGURE
    rule: str  # the Snakemake rule that writes it
    builder: str  # "package.module.function", imported when first called
    description: str  # one line: what it shows (results/index.md)
    caption: str  # the Snakemake report caption, a file under workflow/report/
    companion: str | None = None  # the name of its paper-vs-reproduction table, if any
    companion_of: str | None = None  # for a companion: the table it sets against the paper
    reads_data: bool = False  # a table builder that also takes the data folder (table 6)

    @property
    def module(self) -> str:
        return self.builder.rpartition(".")[0]

    @property
    def function(self) -> str:
        return self.builder.rpartition(".")[2]

    def load(self) -> Callable[..., Any]:
        """The builder function (its module imported now)."""
        return getattr(importlib.import_module(self.module), self.function)


_PAPER_TABLES = "percontrast.report.paper_tables"
_OWN_TABLES = "percontrast.report.own_tables"
_COMPARE = "percontrast.report.compare"
_RENDER = "percontrast.report.render"
_CONTROLS = "percontrast.report.controls"


def _table(name: str, description: str, *, companion: bool = True,
           reads_data: bool = False, module: str = _PAPER_TABLES) -> list[Artefact]:
    """A base table written by rule ``tables`` (builder ``{module}.{name}``) and, if
    ``companion``, its paper companion (builder ``percontrast.report.compare.{name}_vs_paper``)."""
    twin = f"{name}{COMPANION_SUFFIX}" if companion else None
    out = [Artefact(name, TABLE, "tables", f"{module}.{name}", description, "tables.rst",
                    companion=twin, reads_data=reads_data)]
    if twin:
        out.append(Artefact(twin, TABLE, "tables", f"{_COMPARE}.{twin}",
                            f"the paper's published numbers next to this run's for {name}",
                            "tables.rst", companion_of=name, reads_data=reads_data))
    return out


def _pir_figure(name: str, builder: str, description: str) -> Artefact:
    return Artefact(name, FIGURE, "pir_figures", f"{_RENDER}.{builder}", description,
                    "pir_figures.rst")


def _run_figure(name: str, description: str) -> Artefact:
    return Artefact(name, FIGURE, "figures", f"{_RENDER}.{name}", description, f"{name}.rst")


#: Every artefact, base tables in the paper's order (tables 8 and 9 are the second model blocks
#: of tables 3 and 4), each followed by its companion; then the PIR and the run figures.
CATALOGUE: tuple[Artefact, ...] = (
    *_table("table1", "ROUGE-L / METEOR per model x method x task at each method's best "
                      "learning rate, with averages and the PerCE-over-CE Gain row (paper "
                      "table 1)"),
    *_table("table2", "ROUGE-L across the learning-rate grid, mean and variance x1e-4 (paper "
                      "table 2)"),
    *_table("table3", "cross-task transfer: trained on the row task, evaluated on the column "
                      "task (paper tables 3 and 8)"),
    *_table("table4", "ALOE cross-scenario transfer: judge score 1-5 in dialogue rounds k = "
                      "6..10 and their average (paper tables 4 and 9)"),
    *_table("table5", "LaMP short-text tasks PNHG / PSTG / PTP, ROUGE-L and METEOR x100 (paper "
                      "table 5)"),
    *_table("table6", "prompt length in tokens with and without the persona, from the "
                      "tokenizer (paper table 6)", reads_data=True),
    *_table("table7", "hyperparameters of this run, from the config (paper table 7)"),
    *_table("table10", "LLM-as-judge personalization and quality, x20 (paper table 10)"),
    *_table("table11", "general QA: HotpotQA and DROP exact match / F1 (paper table 11)"),
    *_table("table12", "PerCE ROUGE-L over the clipping grid clip_min x clip_max (paper "
                       "table 12)"),
    *_table("table_pir", "personal-token identification: precision / recall / F1 of "
                         "PerContrast, word matching and the LLM judge (paper figure 4 as a "
                         "table)"),
    *_table("table_markers", "ground-truth personalization on the demo data: recall of the "
                             "user's profile-visible markers, own and other users' markers per "
                             "generation, CE vs. PerCE with bootstrap intervals (this project's "
                             "own table)", companion=False, module=_OWN_TABLES),
    *_table("table_spc", "the real-data arm: CE vs. PerCE trained and evaluated on real "
                         "Synthetic-Persona-Chat dialogue, ROUGE-L / METEOR and persona use "
                         "scored against the speaker's own persona (persona vs. placebo words, "
                         "grounded recall, persona Hits@1), with intervals and the PerCE - CE "
                         "row (this project's own)", companion=False, module=_OWN_TABLES),
    *_table("table_controls", "is it the tokens? PerCE against PerCE-shuffled (its weights "
                              "permuted within each reply) and PerCE-normalized (its selection at "
                              "CE's step size): persona metric, ROUGE-L, mean token weight and "
                              "the shares at the clip bounds (this project's own)",
            companion=False, module=_CONTROLS),
    *_table("table_reply_shape", "longer or worse? reply length, replies at max_new_tokens, "
                                 "persona-sentence repetition, ROUGE-L precision / recall and "
                                 "length-matched ROUGE-L per method (this project's own)",
            companion=False, module=_CONTROLS),
    _pir_figure("figure2_pir_heatmap", "pir_heatmap_figure",
                "tokens of persona-QA answers coloured by PIR (paper figure 2)"),
    _pir_figure("figure4_pir_classification", "pir_classification_figure",
                "precision / recall / F1 of personal-token identification (paper figure 4)"),
    _pir_figure("figure4_pir_pr_curves", "pir_pr_curves_figure",
                "precision-recall curves of PIR as a personal-token classifier, one per "
                "counterfactual, with the operating points of PIR > threshold, the dev-chosen "
                "threshold, word matching and the LLM judge"),
    _pir_figure("figure5_pir_histogram", "pir_histogram_figure",
                "PIR distribution of personal vs. other tokens with the threshold (paper "
                "figure 5)"),
    _run_figure("training_curves", "loss, mean token weight and share of clipped tokens per "
                                   "training step, main learning rate"),
    _run_figure("estep_markers", "the online E-step on ground truth: mean PIR and mean token "
                                 "weight of the demo users' personal-marker tokens vs. other "
                                 "response tokens per training step, PerCE and CE (PIR "
                                 "measured, not used)"),
    _run_figure("lr_robustness", "ROUGE-L against learning rate per method and task (table 2 "
                                 "as a plot); pipeline-scale points hollow, never joined to "
                                 "full-scale ones"),
    _run_figure("cross_task_heatmap", "source x target ROUGE-L for CE and PerCE and their "
                                      "difference (tables 3 / 8 as heat-maps); pipeline-scale "
                                      "cells hatched"),
    Artefact("figure_controls", FIGURE, "figures", f"{_CONTROLS}.figure_controls",
             "PerCE against PerCE-shuffled and PerCE-normalized: each arm's persona metric per "
             "method with its interval (table_controls as bars)", "controls.rst"),
    _run_figure("aloe_by_round", "ALOE judge score by dialogue round, CE vs. PerCE per source "
                                 "task"),
)
_BY_NAME = {a.name: a for a in CATALOGUE}


def get(name: str) -> Artefact:
    """The record of ``name``; KeyError naming the known ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no artefact {name!r}; known: {', '.join(_BY_NAME)}") from None


def find(name: str) -> Artefact | None:
    """The record of ``name``, or None."""
    return _BY_NAME.get(name)


def base_tables() -> list[Artefact]:
    """The tables rule ``tables`` always writes, in catalogue order (no companions)."""
    return [a for a in CATALOGUE if a.kind == TABLE and a.companion_of is None]


def base_table_names() -> list[str]:
    return [a.name for a in base_tables()]


def companion_tables() -> list[Artefact]:
    """The paper-vs-reproduction companions, in catalogue order."""
    return [a for a in CATALOGUE if a.companion_of is not None]


def companions_of(tables: list[str]) -> list[str]:
    """The companion names of the given base tables, in their order (``table1`` ->
    ``table1_vs_paper``); names without one (this project's own tables) are skipped."""
    return [a.companion for a in map(find, tables) if a is not None and a.companion]


def figure_names(rule: str) -> list[str]:
    """The figures rule ``rule`` (``figures`` or ``pir_figures``) writes, in catalogue order."""
    return [a.name for a in CATALOGUE if a.kind == FIGURE and a.rule == rule]


def describe(name: str) -> str:
    """One line on what a table or figure shows (the name itself for an unknown one)."""
    found = find(name)
    return found.description if found else name
