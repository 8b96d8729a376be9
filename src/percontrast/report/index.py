"""results/index.md: every table and figure, one line on what it shows, and how to rebuild it.

The descriptions live here, next to nothing else, so the index, the README and the Snakemake
report captions can all say the same thing about each artifact.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from percontrast.report import escape

TABLES = {
    "table1": "ROUGE-L / METEOR per model x method x task at each method's best learning rate, "
              "with averages and the PerCE-over-CE Gain row (paper table 1)",
    "table2": "ROUGE-L across the learning-rate grid, mean and variance x1e-4 (paper table 2)",
    "table3": "cross-task transfer: trained on the row task, evaluated on the column task "
              "(paper tables 3 and 8)",
    "table4": "ALOE cross-scenario transfer: judge score 1-5 in dialogue rounds k = 6..10 and "
              "their average (paper tables 4 and 9)",
    "table5": "LaMP short-text tasks PNHG / PSTG / PTP, ROUGE-L and METEOR x100 (paper table 5)",
    "table6": "prompt length in tokens with and without the persona, from the tokenizer "
              "(paper table 6)",
    "table7": "hyperparameters of this run, from the config (paper table 7)",
    "table10": "LLM-as-judge personalization and quality, x20 (paper table 10)",
    "table11": "general QA: HotpotQA and DROP exact match / F1 (paper table 11)",
    "table12": "PerCE ROUGE-L over the clipping grid clip_min x clip_max (paper table 12)",
    "table_pir": "personal-token identification: precision / recall / F1 of PerContrast, word "
                 "matching and the LLM judge (paper figure 4 as a table)",
    "table_markers": "ground-truth personalization on the demo data: recall of the user's "
                     "profile-visible markers, own and other users' markers per generation, "
                     "CE vs. PerCE with bootstrap intervals (this project's own table)",
    "table_spc": "the real-data arm: CE vs. PerCE trained and evaluated on real "
                 "Synthetic-Persona-Chat dialogue, ROUGE-L / METEOR and persona use scored "
                 "against the speaker's own persona (persona vs. placebo words, grounded recall, "
                 "persona Hits@1), with intervals and the PerCE - CE row (this project's own)",
}
FIGURES = {
    "figure2_pir_heatmap": "tokens of persona-QA answers coloured by PIR (paper figure 2)",
    "figure4_pir_classification": "precision / recall / F1 of personal-token identification "
                                  "(paper figure 4)",
    "figure5_pir_histogram": "PIR distribution of personal vs. other tokens with the threshold "
                             "(paper figure 5)",
    "figure4_pir_pr_curves": "precision-recall curves of PIR as a personal-token classifier, one "
                             "per counterfactual, with the operating points of PIR > threshold, "
                             "the dev-chosen threshold, word matching and the LLM judge",
    "training_curves": "loss, mean token weight and share of clipped tokens per training step, "
                       "main learning rate",
    "estep_markers": "the online E-step on ground truth: mean PIR and mean token weight of the "
                     "demo users' personal-marker tokens vs. other response tokens per training "
                     "step, PerCE and CE (PIR measured, not used)",
    "lr_robustness": "ROUGE-L against learning rate per method and task (table 2 as a plot); "
                     "pipeline-scale points hollow, never joined to full-scale ones",
    "cross_task_heatmap": "source x target ROUGE-L for CE and PerCE and their difference "
                          "(tables 3 / 8 as heat-maps); pipeline-scale cells hatched",
    "aloe_by_round": "ALOE judge score by dialogue round, CE vs. PerCE per source task",
}
COMPANION_SUFFIX = "_vs_paper"


def describe(name: str) -> str:
    """One line on what a table or figure shows (companions: the paper side by side)."""
    if name.endswith(COMPANION_SUFFIX):
        base = name.removesuffix(COMPANION_SUFFIX)
        return f"the paper's published numbers next to this run's for {base}"
    return TABLES.get(name) or FIGURES.get(name) or name


def build_index(cfg: dict[str, Any], tables: list[str | os.PathLike],
                figures: list[str | os.PathLike], *, out_dir: str | os.PathLike = "results",
                configfile: str | None = None, claims: str | os.PathLike | None = None) -> str:
    """The Markdown of results/index.md; links are relative to ``out_dir``; ``claims``
    (claims.md) leads, with its verdict summary line."""
    out_dir = Path(out_dir)
    cf = f" --configfile {configfile}" if configfile else ""
    lines = [f"# {escape.markdown(cfg.get('report', {}).get('title', 'percontrast results'))}",
             "", f"Config `{cfg.get('run_name', '?')}`: "
             f"{escape.markdown(' '.join(cfg.get('description', '').split()))}",
             "", f"Everything below: `snakemake --cores all{cf}`. One file: `snakemake --cores all"
             f"{cf} --forcerun <rule> <path>` (rule `tables`, `figures`, `pir_figures`).", ""]
    if claims is not None:
        path = Path(claims)
        summary = next((line for line in path.read_text(encoding="utf-8").splitlines()
                        if line.startswith("Summary:")), "") if path.is_file() else ""
        link = os.path.relpath(path, out_dir)
        lines += ["## Claims", "", f"**[Does the paper hold here?]({link})**"
                  " — each headline claim of the paper with the paper's number, this run's with "
                  "its 95% paired-bootstrap interval and n, and a verdict computed from the "
                  f"result files. {summary}", "",
                  f"Rebuild: `snakemake --cores all{cf} --forcerun claims {path}`", ""]
    lines += ["## Tables", "", "CSV, Markdown and LaTeX of each table sit next to each other in "
             "`results/tables/`.", "", "| table | what it shows | rebuild |", "|---|---|---|"]
    for path in sorted(map(Path, tables), key=lambda p: _table_order(p.stem)):
        rel = os.path.relpath(path, out_dir)
        lines.append(f"| [{path.stem}]({rel}) | {describe(path.stem)} | "
                     f"`snakemake --cores all{cf} --forcerun tables {path}` |")
    lines += ["", "## Figures", "", "| figure | what it shows | rebuild |", "|---|---|---|"]
    for path in map(Path, figures):
        rel = os.path.relpath(path, out_dir)
        rule = "pir_figures" if path.stem.startswith("figure") else "figures"
        lines.append(f"| [{path.stem}]({rel}) | {describe(path.stem)} | "
                     f"`snakemake --cores all{cf} --forcerun {rule} {path}` |")
    lines += ["", "`snakemake --report report.html` bundles the same tables and figures with "
              "their captions into one HTML file.", ""]
    return "\n".join(lines)


def _table_order(stem: str) -> tuple:
    base = stem.removesuffix(COMPANION_SUFFIX)
    digits = "".join(c for c in base if c.isdigit())
    return (int(digits) if digits else 99, base, stem.endswith(COMPANION_SUFFIX))
