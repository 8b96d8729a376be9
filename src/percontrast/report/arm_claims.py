"""The claims of this project's own arms: CE vs PerCE on real Synthetic-Persona-Chat dialogue
(table_spc) and on the demo tasks' known markers (table_markers), PerCE against its two controls
(table_controls), and the shape of the replies behind SPC's ROUGE-L (table_reply_shape).

Each compares main runs (main LR and clip) on their own task through
:meth:`percontrast.report.evidence.Evidence.gain`: with several training seeds the interval covers
seeds x test examples, with one the test examples only, and "Interval covers" says which.
"""

from __future__ import annotations

from typing import Any

from percontrast import layout, plan
from percontrast.config import section_defaults
from percontrast.data.records import read_records
from percontrast.methods import LABELS
from percontrast.report.evidence import Evidence
from percontrast.report.paper_numbers import paper_average_gain, paper_spc
from percontrast.report.results import label
from percontrast.report.verdicts import Claim

#: The real-data arm's claims: (metric, relative gain?, statement, unit).
SPC_CLAIMS = (
    ("persona_words", False, "PerCE uses the speaker's persona more than CE on real dialogue: "
     "persona words per reply (content words of the speaker's persona that the conversation so "
     "far lacks), PerCE - CE", "words"),
    ("persona_lift", False, "... beyond a placebo: persona words minus another user's persona "
     "words per reply, PerCE - CE", "words"),
    ("persona_hits1", False, "... and its replies identify the speaker: Hits@1 of the true "
     "persona among k by the same count (chance 1/k), PerCE - CE", "Hits@1"),
    ("rouge_l", True, "PerCE > CE on ROUGE-L against the reference turn, real dialogue", "%"),
    ("meteor", True, "PerCE > CE on METEOR against the reference turn, real dialogue", "%"),
)

#: PerCE against its controls: (id, baseline, system, arm, metric, relative?, statement, unit).
#: The arm is "spc" (the dialogue tasks) or "markers" (the demo tasks, all of them at once).
CONTROL_CLAIMS = (
    ("shuffled_persona_words", "perce_shuffled", "perce", "spc", "persona_words", False,
     "Which tokens get the weight matters: PerCE > PerCE-shuffled (the same weights, permuted "
     "within each reply) on persona words per reply", "words"),
    ("shuffled_markers", "perce_shuffled", "perce", "markers", "marker_recall", False,
     "Which tokens get the weight matters: PerCE > PerCE-shuffled on marker recall", "pts"),
    ("normalized_persona_words", "ce", "perce_normalized", "spc", "persona_words", False,
     "The selection alone helps: PerCE-normalized (PerCE's weights at mean 1, CE's step size) "
     "> CE on persona words per reply", "words"),
    ("normalized_markers", "ce", "perce_normalized", "markers", "marker_recall", False,
     "The selection alone helps: PerCE-normalized > CE on marker recall", "pts"),
    ("normalized_rouge_l", "perce", "perce_normalized", "spc", "rouge_l", True,
     "PerCE's ROUGE-L loss comes from its larger steps: PerCE-normalized > PerCE on ROUGE-L",
     "%"),
)


def _num(x: float) -> str:
    return f"{x:.4f}" if abs(x) < 10 else f"{x:.2f}"


def _not_run_config(cfg: dict[str, Any]) -> str:
    return f"`{cfg.get('report', {}).get('not_run_config', 'configs/cpu-full.yaml')}`"


def _decide(ev: Evidence, c: Claim, pairs, metric: str, *, relative: bool, what: str,
            base: str, system: str, scores=None) -> None:
    """Fill ``c`` from :meth:`Evidence.gain` over ``pairs`` (inside ``ev.claim``)."""
    with ev.claim(c):
        g = ev.gain(pairs, metric, relative=relative, what=what, scores=scores)
        if g is not None:
            c.estimate, c.covers = g.estimate, g.covers
            c.note = f"{LABELS[base]} {_num(g.baseline)}, {LABELS[system]} {_num(g.system)}"


def _main_pairs(cfg, model: str, tasks, base: str, system: str):
    return [(plan.main_run(cfg, model, t, base), plan.main_run(cfg, model, t, system), t)
            for t in tasks]


def _dialogue_pairs(cfg) -> list[tuple[str, str | None]]:
    runs = plan.dialogue_runs(cfg)
    return list(dict.fromkeys((r.model, r.task) for r in runs)) or [
        (m, None) for m in cfg["models"][:1]]


def spc_claims(ev: Evidence) -> list[Claim]:
    """The real-data arm (``evaluation.dialogue``): CE vs PerCE on real Synthetic-Persona-Chat
    turns, persona use scored against SPC's own persona sentences (:mod:`percontrast.persona_use`)
    and ROUGE-L / METEOR against the reference turn."""
    cfg = ev.cfg
    out = []
    for model, task in _dialogue_pairs(cfg):
        where = (f"{label(cfg, 'task', task)}, " if task else "") + label(cfg, "model", model)
        for metric, relative, statement, unit in SPC_CLAIMS:
            c = Claim(f"spc_{metric}_{model}_{task or 'none'}", "table_spc",
                      f"{statement} ({where})", "this project (real SPC dialogue)",
                      paper_average_gain(metric) + " on LongLaMP (table 1)"
                      if relative else paper_spc(), unit)
            out.append(c)
            if task is None:
                c.note = ("the real-data arm is off in this config (evaluation.dialogue); "
                          f"{_not_run_config(cfg)} runs it")
                continue
            _decide(ev, c, _main_pairs(cfg, model, [task], "ce", "perce"), metric,
                    relative=relative, what="test turns", base="ce", system="perce")
            if metric == "persona_hits1" and c.estimate is not None:
                files = ev.seed_files(plan.main_run(cfg, model, task, "perce"), task) or [{}]
                c.note += f"; k = {files[0].get('persona_candidates')} personas"
    return out


def marker_claims(ev: Evidence) -> list[Claim]:
    """This project's own claim: PerCE reproduces more profile-visible markers than CE."""
    cfg = ev.cfg
    out = []
    for model in cfg["models"]:
        for task in [*cfg["tasks"], None]:
            where = (label(cfg, "task", task) if task else "all tasks, each weighted equally")
            c = Claim(f"markers_recall_{model}_{task or 'all'}", "markers",
                      "PerCE's generations reproduce more of the user's profile-visible personal "
                      f"markers than CE's (marker recall, {where}, "
                      f"{label(cfg, 'model', model)})", "this project (demo ground truth)",
                      "— (LongLaMP has no token-level ground truth)", "pts")
            out.append(c)
            tasks = cfg["tasks"] if task is None else [task]
            _decide(ev, c, _main_pairs(cfg, model, tasks, "ce", "perce"), "marker_recall",
                    relative=False, what="test examples with a profile-visible marker",
                    base="ce", system="perce")
    return out


def _arm_methods(cfg, arm: str) -> list[str]:
    if arm == "spc":
        return list(section_defaults("evaluation.dialogue",
                                     cfg["evaluation"].get("dialogue"))["methods"])
    return list(cfg["training"]["methods"])


def control_claims(ev: Evidence) -> list[Claim]:
    """PerCE against its controls (:data:`CONTROL_CLAIMS`): does the selection of tokens
    matter, or the total weight? A claim whose methods the config does not train is "not run"
    and names the config that trains them."""
    cfg = ev.cfg
    out = []
    spc = [(m, t) for m, t in _dialogue_pairs(cfg) if t is not None]
    for key, base, system, arm, metric, relative, statement, unit in CONTROL_CLAIMS:
        targets = ([(m, [t], label(cfg, "task", t)) for m, t in spc] if arm == "spc" else
                   [(m, list(cfg["tasks"]), "all demo tasks") for m in cfg["models"]])
        for model, tasks, where in targets or [(cfg["models"][0], [], "")]:
            c = Claim(f"control_{key}_{model}_{'-'.join(tasks) or 'none'}", "table_controls",
                      f"{statement} ({where}, {label(cfg, 'model', model)})",
                      "this project (controls)", "— (the paper has no such control)", unit)
            out.append(c)
            missing = [m for m in (base, system) if m not in _arm_methods(cfg, arm)]
            if missing or not tasks:
                c.note = (f"{', '.join(LABELS[m] for m in missing) or 'the arm'} not trained "
                          f"here; {_not_run_config(cfg)} trains it")
                continue
            what = "test turns" if arm == "spc" else "test examples with a visible marker"
            _decide(ev, c, _main_pairs(cfg, model, tasks, base, system), metric,
                    relative=relative, what=what, base=base, system=system)
    return out


def shape_scores_of(ev: Evidence, key: str):
    """A ``scores(run, task)`` for :meth:`Evidence.gain`: the reply-shape ``key`` of each
    training seed's generations (:mod:`percontrast.reply_shape`)."""
    from percontrast.reply_shape import seed_shape_scores

    records: dict[str, list] = {}

    def scores(run: plan.TrainRun, task: str):
        ev._note_scale(run, task)
        if task not in records:
            path = layout.path("processed", task=task, split="test")
            if not path.is_file():
                ev.res.missing.append(str(path))
                return None
            records[task] = read_records(path)
        seeds = seed_shape_scores(ev.cfg, ev.root, run, task, records[task], ev.res.missing)
        return None if seeds is None else [{i: s[key] for i, s in shapes.items()}
                                           for shapes in seeds]
    return scores


def reply_shape_claims(ev: Evidence) -> list[Claim]:
    """PerCE >= CE on ROUGE-L with each reply cut to its reference's length (SPC): is PerCE's
    lower ROUGE-L worse replies, or only longer ones?"""
    cfg = ev.cfg
    out = []
    for model, task in _dialogue_pairs(cfg):
        where = (f"{label(cfg, 'task', task)}, " if task else "") + label(cfg, "model", model)
        c = Claim(f"reply_shape_rouge_l_matched_{model}_{task or 'none'}", "table_reply_shape",
                  "PerCE >= CE on length-matched ROUGE-L (each reply cut to its reference's "
                  f"length in words; {where})", "this project (real SPC dialogue)",
                  paper_average_gain("rouge_l") + " on LongLaMP (table 1, unmatched)", "%")
        out.append(c)
        if task is None:
            c.note = f"the real-data arm is off in this config; {_not_run_config(cfg)} runs it"
            continue
        _decide(ev, c, _main_pairs(cfg, model, [task], "ce", "perce"), "rouge_l_matched",
                relative=True, what="test turns", base="ce", system="perce",
                scores=shape_scores_of(ev, "rouge_l_matched"))
    return out
