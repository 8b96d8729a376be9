"""This project's own tables, beyond the paper: personal markers on the demo data
(``table_markers``) and the real-data arm on Synthetic-Persona-Chat (``table_spc``).

Why a module of its own: these tables measure personalization against ground truth (the demo
users' markers, the speaker's own persona) that the paper has no number for, so they have no
paper companion; the cells and rows they share with the paper's tables are
:mod:`.table_cells`.
"""

from __future__ import annotations

from percontrast import config as pc
from percontrast import plan
from percontrast.methods import LABELS, METHODS
from percontrast.report.gains import Gain, notation
from percontrast.report.results import Results
from percontrast.report.results import label as _label
from percontrast.report.table_cells import (
    annotated,
    bootstrap_gain_row,
    gain_cells,
    not_run_row,
    seed_note,
    value,
)
from percontrast.report.table_format import Table

MARKER_COLUMNS = (("marker_recall", "Marker recall"), ("own_markers", "Own markers / gen"),
                  ("leaked_markers", "Leaked markers / gen"))


def marker_runs(cfg) -> list[tuple[plan.TrainRun, str]]:
    """(main run, evaluation task) pairs the marker table covers: every main-LR run evaluated on
    a task of ``tasks`` (its own task, and the other tasks where cross-task evaluation runs)."""
    main = {plan.main_run(cfg, m, t, method) for m in cfg["models"] for t in cfg["tasks"]
            for method in cfg["training"]["methods"]}
    return [(run, task) for run, tasks in plan.evaluations(cfg).items() if run in main
            for task in tasks if task in cfg["tasks"]]


@annotated
def table_markers(cfg, root) -> Table:
    """Ground-truth personalization (demo data): profile-visible marker recall, own and leaked
    markers per generation (:mod:`percontrast.markers`), per training task -> evaluation task."""
    t = Table("table_markers", "Personal markers in the generations (demo ground truth): "
              "recall of profile-visible reference markers, own and other users' markers per "
              "generation", ["Model", "Train task", "Eval task", "Method",
                             *[label for _, label in MARKER_COLUMNS], "n (recall)"],
              fmt="{:.3f}")
    res = Results(cfg, root, missing=t.missing)
    pairs = marker_runs(cfg)
    order = [m for m in pc.METHODS if m in cfg["training"]["methods"]]
    keys = dict.fromkeys((run.model, run.task, task) for run, task in pairs)
    for model, src, dst in sorted(keys, key=lambda k: (k[0], k[1] != k[2], k[1], k[2])):
        files = {}
        lead = [_label(cfg, "model", model), _label(cfg, "task", src), _label(cfg, "task", dst)]
        for method in order:
            run = plan.main_run(cfg, model, src, method)
            if (run, dst) not in pairs:
                continue
            m = res.metrics(run, dst)
            if m is not None and "marker_recall" not in m:
                t.notes.append(f"{run.path}/{dst}: no marker ground truth in its test data")
                continue
            files[method] = [[m]] * len(MARKER_COLUMNS)
            t.rows.append([*lead, LABELS[method],
                           *[value(cfg, m, key, run, dst) for key, _ in MARKER_COLUMNS],
                           m and m["n_marker_recall"]])
        if "ce" in files and "perce" in files:
            n_before = len(t.rows)
            bootstrap_gain_row(cfg, t, lead, files, [k for k, _ in MARKER_COLUMNS],
                               percent=False)
            if len(t.rows) > n_before:
                t.rows[-1].append(None)
    t.notes.append("Recall: of the reference's markers that occur in the retrieved profile "
                   "entries the prompt shows, the share the generation reproduces (records "
                   "without such a marker are left out; their number is n). Own / leaked: "
                   "distinct markers of the user / of the other test users per generation. "
                   "Rows whose train and eval task differ are cross-task transfers.")
    t.notes.append(notation(cfg, "PerCE - CE (recall as a share, markers per generation)"))
    t.notes += seed_note(cfg)
    t.missing = sorted(set(t.missing))
    return t


#: table_spc's metric columns: (metrics key, header, Gain in percent (ROUGE-L, METEOR, as table
#: 1) or as a plain difference (the persona counts and shares, as the marker table))
SPC_COLUMNS = (("rouge_l", "ROUGE-L", True), ("meteor", "METEOR", True),
               ("persona_words", "Persona words", False),
               ("placebo_words", "Placebo words", False),
               ("persona_lift", "Persona lift", False),
               ("grounded_recall", "Grounded recall", False),
               ("persona_hits1", "Persona Hits@1", False))


@annotated
def table_spc(cfg, root) -> Table:
    """The real-data arm: CE vs PerCE trained and evaluated on real Synthetic-Persona-Chat
    dialogue (``evaluation.dialogue``), each run on its own task. Per run: n, ROUGE-L, METEOR
    and the persona ground truth the score stage writes (persona words the reply uses that the
    conversation so far lacks, the same against another user's persona, their difference,
    grounded recall, Hits@1 of the true persona), each with its interval; then PerCE - CE
    (paired bootstrap; relative for ROUGE-L / METEOR, a difference for the persona metrics)."""
    t = Table("table_spc", "Real dialogue (Synthetic-Persona-Chat): CE vs PerCE, persona use "
              "against the speaker's own persona", ["Model", "Task", "Method", "n",
                                                    *[h for _, h, _ in SPC_COLUMNS],
                                                    "n (grounded)"],
              fmt="{:.3f}", n_in_cells=False)
    runs, res = plan.dialogue_runs(cfg), Results(cfg, root, missing=t.missing)
    if not runs:
        not_run_row(cfg, t, "the real-data arm (evaluation.dialogue: models x tasks of "
                    "Synthetic-Persona-Chat)")
        return t
    keys = [k for k, _, _ in SPC_COLUMNS]
    candidates: set[int] = set()
    for model in dict.fromkeys(r.model for r in runs):
        for task in dict.fromkeys(r.task for r in runs if r.model == model):
            lead = [_label(cfg, "model", model), _label(cfg, "task", task)]
            files: dict[str, dict | None] = {}
            methods = [r.method for r in runs if r.model == model and r.task == task]
            for method in sorted(methods, key=lambda m: METHODS.index(m)):
                run = plan.main_run(cfg, model, task, method)
                m = res.metrics(run, task)
                files[method] = m
                if m is not None and "persona_words" not in m:
                    t.notes.append(f"{run.path}/{task}: no persona metrics in its metrics file "
                                   "(rerun its score job)")
                if m is not None and isinstance(m.get("persona_candidates"), int):
                    candidates.add(m["persona_candidates"])
                t.rows.append([*lead, LABELS[method], m and m.get("n"),
                               *[value(cfg, m, k, run, task) for k in keys],
                               m and m.get("n_grounded_recall")])
            if files.get("ce") is not None and files.get("perce") is not None:
                cells: list[Gain | None] = []
                for key, _, percent in SPC_COLUMNS:
                    cells += gain_cells(cfg, t, [[files["ce"]]], [[files["perce"]]], [key],
                                        percent=percent, digits=3)
                n = next((c.estimate.n for c in cells if c is not None), None)
                t.rows.append([*lead, "PerCE - CE", n, *cells, None])
    chance = (f"chance = 1/{min(candidates)} = {1 / min(candidates):.3f}" if len(candidates) == 1
              else "chance = 1/k" + (f" (k = {', '.join(map(str, sorted(candidates)))})"
                                     if candidates else ""))
    t.notes.append("Persona words: distinct content words of the speaker's persona, absent from "
                   "the conversation so far, that the reply uses (per reply); placebo words: the "
                   "same against another user's persona; lift = persona - placebo. Grounded "
                   "recall: of the reference reply's persona words absent from the context, the "
                   "share the reply reproduces (over the n (grounded) replies whose reference "
                   "has one). Hits@1: the true persona ranks first among the candidate personas "
                   f"by the same count, ties sharing the credit ({chance}).")
    t.notes = [n for n in t.notes if n != notation(cfg)]  # the generic one: replaced
    t.notes.append(notation(cfg, "PerCE over CE in percent for ROUGE-L / METEOR, PerCE - CE "
                            "for the persona metrics"))
    t.notes += seed_note(cfg)
    t.missing = sorted(set(t.missing))
    return t
