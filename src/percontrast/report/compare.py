"""Paper vs. reproduction: every reproduced table next to the numbers the paper published.

A reader of ``table1`` sees our numbers only; whether they are close to the paper's, and at
what scale they were produced, needs the paper open beside it. Each companion ``{table}_vs_paper``
puts the two side by side, one row per cell: the cell's key (task, metric, method...), the paper
model and its value (from ``paper_results.yaml``, transcribed from the paper), and this run's
model and value (from the base table's builder, or for tables 4 and 10 from the stage's result
files). Where the paper has a Gain row, a derived Gain (PerCE over CE) follows for both sides.

Our models are not the paper's: each of ours is paired with one paper model of that table (the
registry's ``paper_model`` if it names one there, else the paper model with the same label, else
the paper's first model; none when ours is a paper model this table does not report). The notes
name the config, its models and its data scale, so a reader sees at a glance that e.g. a 135M
model on 4 demo records stands in for Qwen3-4B on LongLaMP.

Our number alone would still invite a comparison it cannot bear, so each row also carries this
run's 95% interval, n, scale (full, or the pipeline-scale setting with the base table's mark) and,
for a Gain row, a verdict from the interval (:func:`percontrast.report.verdicts.verdict`: holds
when it lies on the paper's side of 0, contradicted on the other, inconclusive when it contains
0). A cell of a run this config does not define reads "not run" and names the config that runs
it, as in the base table.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from percontrast import artefacts, layout, pir_methods, plan
from percontrast.artefacts import companions_of  # noqa: F401 (the companions' names)
from percontrast.methods import LABELS, METHODS
from percontrast.report import paper_tables as tb
from percontrast.report import results as rs
from percontrast.report.gains import Gain
from percontrast.report.results import Results
from percontrast.report.table_cells import worst_scale
from percontrast.report.table_format import NOT_RUN, NotRun, Table
from percontrast.report.verdicts import verdict

PAPER_RESULTS = Path(__file__).with_name("paper_results.yaml")
METHOD_ORDER = [LABELS[m] for m in METHODS]
# Paper keys (as typed in the YAML) -> the labels the reproduced tables print.
NAMES = {"rouge_l": "ROUGE-L", "meteor": "METEOR", "personalization": "Personalization",
         "quality": "Quality", "mean": "Mean", "variance_x1e-4": "Variance x1e-4",
         "average": "Average", "Avg": "Average", "precision": "Precision", "recall": "Recall",
         "f1": "F1", **{m.name: m.short for m in pir_methods.PAPER_METHODS}}

Cells = dict[tuple[str, ...], Any]


@functools.cache
def paper_results() -> dict[str, Any]:
    """The paper's numbers (read once; the YAML's header says where each came from)."""
    with open(PAPER_RESULTS, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def paper_value(table: str, *keys: Any) -> Any:
    """One published number, e.g. ``paper_value("table1", "Qwen3-4B", "PerCE", "PRW", "meteor")``;
    None where the paper has no such cell."""
    node: Any = paper_results().get(table)
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def norm(key: Any) -> str:
    """One spelling per key on both sides: numbers as :func:`percontrast.plan.fmt_num` writes
    them (LR "2e-6" and 2e-06 match), ALOE turns as ``k=6``, YAML keys as the tables print them."""
    text = str(key)
    if m := re.fullmatch(r"k=?(\d+)", text):
        return f"k={m.group(1)}"
    try:
        return plan.fmt_num(float(text))
    except ValueError:
        return NAMES.get(text, text)


def flatten(tree: Any, prefix: tuple[str, ...] = ()) -> Cells:
    """Nested dicts -> {(key, key, ...): leaf}, in the YAML's order, keys normalized."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: Cells = {}
    for key, sub in tree.items():
        out.update(flatten(sub, (*prefix, norm(key))))
    return out


class Ours(NamedTuple):
    """This run's cells for one model: registry name (None if unknown), shown label, cells, and
    the base table's bootstrap Gain cells (keyed like the cells, the method being "Gain")."""

    model: str | None
    label: str
    cells: Cells
    gains: Cells | None = None


@dataclass(frozen=True)
class Spec:
    """How one companion lines the paper up with a base table.

    ``paper``: the paper_results tables it covers (e.g. tables 3 and 8); ``columns``: the key
    columns, the method last when ``has_method``; ``paper_key`` maps a flattened paper key (model
    stripped) onto ``columns``. Whether it has a Gain row, and of which kind, is the paper's
    (the YAML's ``meta``), so it is not repeated here.
    """

    base: str
    title: str
    paper: tuple[str, ...]
    columns: tuple[str, ...]
    paper_key: Callable[[tuple[str, ...]], tuple[str, ...]] = lambda key: key
    has_method: bool = True
    fmt: str = "{:.4f}"

    @property
    def name(self) -> str:
        """The companion's table name: the base table's, with the catalogue's suffix."""
        return f"{self.base}{artefacts.COMPANION_SUFFIX}"

    @property
    def gain(self) -> str | None:
        """"relative" (percent), "absolute" (ALOE's score difference) or None (no Gain row)."""
        return paper_results()["meta"][self.paper[0]].get("gain")


# --------------------------------------------------------------------------- pairing rows

def paper_model_for(cfg: dict[str, Any], model: str | None, candidates: list[str]
                    ) -> str | None:
    """The paper model one of ours stands in for (see the module docstring); None when ours
    is itself a paper model that this table does not report (the paper config's Qwen3-14B
    in table 2 is not Qwen3-4B's stand-in)."""
    spec = cfg["model_registry"].get(model, {}) if model else {}
    for choice in (spec.get("paper_model"), spec.get("label", model)):
        if choice in candidates:
            return choice
    if {spec.get("paper_model"), spec.get("label", model)} & paper_models():
        return None
    return candidates[0]


@functools.cache
def paper_models() -> frozenset[str]:
    """Every model some paper table reports."""
    res = paper_results()
    return frozenset(m for name in PAPER_TABLE_COMPANION if name != "table7" for m in res[name])


def _paper_cells(spec: Spec) -> dict[str, Cells]:
    merged: dict[str, Any] = {}
    for name in spec.paper:
        merged.update(paper_results()[name])
    return {model: {spec.paper_key(k): v for k, v in flatten(tree).items()}
            for model, tree in merged.items()}


def _gain_of(kind: str | None, new: Any, old: Any) -> str | None:
    if not isinstance(new, int | float) or not isinstance(old, int | float):
        return None  # missing or not run
    if kind == "absolute":
        return None if new is None or old is None else f"{new - old:+.2f}"
    return rs.point_gain(new, old)


#: The evidence columns after "This run" (see the module docstring).
EVIDENCE = ["CI low", "CI high", "n", "Scale", "Verdict"]


def _scale_text(cfg: dict[str, Any], scale: str) -> str:
    mark = rs.SCALE_MARKS.get(scale, "")
    return "full" if scale == rs.FULL else f"{rs.scale_label(cfg, scale)} {mark}".strip()


def _evidence(cfg: dict[str, Any], ours: Any) -> list[Any]:
    """CI low, CI high, n, scale of one of our cells (blank for text and missing cells)."""
    if isinstance(ours, rs.Value):
        return [ours.low, ours.high, ours.n, _scale_text(cfg, ours.scale), None]
    if isinstance(ours, int | float):
        return [None, None, None, None, None]
    return [None] * len(EVIDENCE)


def _gain_verdict(g: Gain, paper_gain: Any) -> str:
    """holds / contradicted / inconclusive, on the paper's side of 0 (PerCE > CE when the
    paper gives no Gain), as claims.md decides."""

    side = -1 if isinstance(paper_gain, str) and paper_gain.startswith("-") else 1
    if g.low is None:
        found = "inconclusive (n too small for an interval)"
    else:
        found = verdict(g.estimate, side)
    return found + (f" (on {g.common} common examples)" if g.common is not None else "")


def _our_gain(cfg: dict[str, Any], spec: Spec, ours: Ours | None, group: tuple[str, ...],
              mine: Cells, paper_gain: Any) -> list[Any]:
    """This run's Gain value and evidence: the base table's bootstrap Gain where it is of the
    paper's kind (relative in percent, or an absolute difference), else derived from the cells
    without an interval."""
    pe, ce = mine.get((*group, "PerCE")), mine.get((*group, "CE"))
    g = ((ours.gains or {}).get((*group, "Gain")) if ours else None)
    if isinstance(g, Gain) and g.percent == (spec.gain == "relative"):
        shown = f"{g.value:+.2f}%" if g.percent else f"{g.value:+.{g.digits}f}"
        return [shown, g.low, g.high, g.estimate.n,
                _scale_text(cfg, worst_scale([pe, ce])), _gain_verdict(g, paper_gain)]
    derived = _gain_of(spec.gain, pe, ce)
    scale = _scale_text(cfg, worst_scale([pe, ce])) if derived else None
    return [derived, None, None, None, scale,
            "no interval (no per-example scores)" if derived else None]


def _block(cfg: dict[str, Any], spec: Spec, paper_model: str | None, paper: Cells,
           ours: Ours | None) -> list[list[Any]]:
    """Rows of one (paper model, our model) pair: every key either side has, grouped so that
    the methods of one cell sit together, then the Gain row of that cell."""
    mine = ours.cells if ours else {}
    keys = list(dict.fromkeys([*paper, *mine]))
    label = ours.label if ours else None
    if not spec.has_method:
        return [[*k, paper_model, paper.get(k), label, _plain(mine.get(k)),
                 *_evidence(cfg, mine.get(k))] for k in keys]
    rows = []
    groups: dict[tuple[str, ...], list[str]] = {}
    for k in keys:
        groups.setdefault(k[:-1], []).append(k[-1])
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    for group, methods in groups.items():
        for method in sorted(methods, key=lambda m: rank.get(m, len(rank))):
            k = (*group, method)
            rows.append([*k, paper_model, paper.get(k), label, _plain(mine.get(k)),
                         *_evidence(cfg, mine.get(k))])
        if spec.gain and {"CE", "PerCE"} <= set(methods):
            pe, ce = (*group, "PerCE"), (*group, "CE")
            paper_gain = _gain_of(spec.gain, paper.get(pe), paper.get(ce))
            rows.append([*group, "Gain", paper_model, paper_gain, label,
                         *_our_gain(cfg, spec, ours, group, mine, paper_gain)])
    return rows


def _plain(ours: Any) -> Any:
    """Our cell as a plain number (its interval, n and scale have columns of their own)."""
    return float(ours) if isinstance(ours, rs.Value) else ours


def config_notes(cfg: dict[str, Any]) -> list[str]:
    """What produced our side, at what scale, next to the paper's scale."""
    data, setup = cfg["data"], paper_results()["setup"]
    labels = ", ".join(rs.label(cfg, "model", m) for m in cfg["models"])
    return [f"This run: config `{cfg['run_name']}` ({cfg.get('description') or 'no description'})"
            f"; models {labels}; n_train {data.get('n_train')} / n_test {data.get('n_test')} "
            f"per task, top-{data.get('top_k')} {data.get('retriever')} retrieval. The paper: "
            f"n_train {setup['n_train']} / n_test {setup['n_test']} per task, top-"
            f"{setup['top_k']} Contriever."]


def _paper_note(spec: Spec) -> str:
    meta = paper_results()["meta"]
    where = "; ".join(f"{meta[name]['label']} ({meta[name]['section']}; {meta[name]['scale']})"
                      for name in spec.paper)
    return f"Paper: {where}, from percontrast/report/paper_results.yaml."


def compare(cfg: dict[str, Any], spec: Spec, ours: list[Ours], missing: Sequence[str] = ()
            ) -> Table:
    """The companion table of ``spec``: one block per model of ours (one paper-only block
    when this config has none)."""
    paper = _paper_cells(spec)
    candidates = list(paper)
    t = Table(spec.name, spec.title, [*spec.columns, "Paper model", "Paper", "This run model",
                                      "This run", *EVIDENCE], fmt=spec.fmt)
    pairs = [(paper_model_for(cfg, o.model, candidates), o) for o in ours] or [
        (candidates[0], None)]
    for paper_model, o in pairs:
        t.rows += _block(cfg, spec, paper_model, paper.get(paper_model, {}), o)
    t.notes += config_notes(cfg) + [_paper_note(spec)]
    t.notes.append("CI low / CI high: this run's 95% bootstrap interval (of the mean; of the "
                   "Gain for Gain rows, in its unit); n: the test examples it is over; Scale: "
                   "full, or the pipeline-scale setting the run or evaluation used "
                   "(training.pipeline_scale); Verdict (Gain rows): holds when the interval "
                   "lies on the paper's side of 0, contradicted on the other, inconclusive when "
                   "it contains 0.")
    if not ours:
        t.notes.append(f"{NOT_RUN} here: this config runs no model of this table; "
                       f"`{rs.not_run_config(cfg)}` runs it.")
    t.notes.append("Pairs (this run -> paper): " + (", ".join(
        f"{o.label} -> {p or 'none (the paper reports it elsewhere, not here)'}"
        for p, o in pairs if o) or "none: this config runs no model of "
        "this table"))
    unpaired = [m for m in candidates if m not in {p for p, _ in pairs}]
    if unpaired:
        t.notes.append(f"Paper models without a counterpart here: {', '.join(unpaired)}.")
    if spec.gain:
        t.notes.append("Gain = PerCE over CE, derived on both sides from the cells shown ("
                       + ("absolute difference, as the paper prints it" if spec.gain == "absolute"
                          else "percent; can differ from the paper's printed Gain by a few "
                          "hundredths, the paper used unrounded scores") + ").")
    t.missing = sorted(set(missing))
    return t


# --------------------------------------------------------------------------- our side

def _registry_name(cfg: dict[str, Any], label: str) -> str | None:
    return next((name for name, spec in cfg["model_registry"].items()
                 if spec.get("label", name) == label), None)


def cells_from(cfg: dict[str, Any], table: Table, n_lead: int,
               key: Callable[[list[Any], str], tuple[Any, ...]],
               label: Callable[[list[Any]], str] = lambda row: row[0]) -> list[Ours]:
    """Our cells from a base table whose rows are ``[model, *lead, *values]``: each value's key
    is ``key(lead, its column header)``; Gain rows are skipped (recomputed alongside)."""
    out: dict[str, Ours] = {}
    for row in table.rows:
        if isinstance(row[0], NotRun):  # the whole table is not run: no model of ours
            continue
        lead, values = row[1:1 + n_lead], row[1 + n_lead:]
        shown = label(row)
        ours = out.setdefault(shown, Ours(_registry_name(cfg, row[0]), shown, {}, {}))
        if any(isinstance(x, str) and x.startswith("Gain") for x in lead):
            if any(x == "Gain" for x in lead):  # kept for the companion's Gain row
                for column, value in zip(table.header[1 + n_lead:], values, strict=True):
                    ours.gains[tuple(norm(k) for k in key(lead, column))] = value
            continue
        for column, value in zip(table.header[1 + n_lead:], values, strict=True):
            ours.cells[tuple(norm(k) for k in key(lead, column))] = value
    return list(out.values())


def _task_metric(lead: list[Any], column: str) -> tuple[Any, ...]:
    """Header "PAG ROUGE-L" of a row [model, method, ...] -> (PAG, ROUGE-L, method)."""
    return (*column.rsplit(" ", 1), lead[0])


def _read_runs(cfg: dict[str, Any], runs: list[plan.TrainRun], path_of: Callable,
               cells_of: Callable, missing: list[str]) -> list[Ours]:
    """Our cells from per-run JSON files (ALOE, judge): one Ours per model, every model of the
    runs listed even when none of its files exist yet."""
    out: dict[str, Ours] = {}
    for run in runs:
        ours = out.setdefault(run.model, Ours(run.model, rs.label(cfg, "model", run.model), {}))
        path = path_of(run)
        if not path.is_file():
            missing.append(run.path)
            continue
        task, method = rs.label(cfg, "task", run.task), LABELS[run.method]
        for key, value in cells_of(rs.read_result(path)).items():
            ours.cells[(task, norm(key), method)] = value
    return list(out.values())


# --------------------------------------------------------------------------- the companions

SPECS = {spec.base: spec for spec in (
    Spec("table1", "Table 1 vs. paper: ROUGE-L and METEOR", ("table1",),
         ("Task", "Metric", "Method"), lambda k: (k[1], k[2], k[0])),
    Spec("table2", "Table 2 vs. paper: ROUGE-L across learning rates",
         ("table2",), ("LR", "Task", "Method"), lambda k: (k[1], k[2], k[0])),
    Spec("table3", "Tables 3 and 8 vs. paper: cross-task ROUGE-L",
         ("table3", "table8"), ("Source", "Target", "Method"),
         lambda k: (k[0], k[2], k[1])),
    Spec("table4", "Tables 4 and 9 vs. paper: ALOE judge score by turn",
         ("table4", "table9"), ("Source", "Turn", "Method"),
         lambda k: (k[0], k[2], k[1]), fmt="{:.2f}"),
    Spec("table5", "Table 5 vs. paper: LaMP ROUGE-L and METEOR (x100)",
         ("table5",), ("Task", "Metric", "Method"), lambda k: (k[1], k[2], k[0]),
         fmt="{:.2f}"),
    Spec("table6", "Table 6 vs. paper: prompt length in tokens",
         ("table6",), ("Setting", "Task"), has_method=False, fmt="{:.1f}"),
    Spec("table10", "Table 10 vs. paper: LLM-as-judge (x20)", ("table10",),
         ("Task", "Metric", "Method"), lambda k: (k[1], k[2], k[0]), fmt="{:.2f}"),
    Spec("table11", "Table 11 vs. paper: general QA (x100)", ("table11",),
         ("Task", "Metric", "Method"), lambda k: (k[1], "EM", k[0]), fmt="{:.1f}"),
    Spec("table12", "Table 12 vs. paper: PerCE ROUGE-L by clip thresholds",
         ("table12",), ("Task", "Clip min", "Clip max"), has_method=False),
    Spec("table_pir", "PIR benchmark vs. paper (appendix A, figure 4)",
         ("pir",), ("Method", "Metric"), has_method=False),
)}


def table1_vs_paper(cfg, root) -> Table:
    base = tb.table1(cfg, root)
    return compare(cfg, SPECS["table1"], cells_from(cfg, base, 1, _task_metric), base.missing)


def table2_vs_paper(cfg, root) -> Table:
    base = tb.table2(cfg, root)
    ours = cells_from(cfg, base, 2, lambda lead, col: (lead[1], col, lead[0]))
    return compare(cfg, SPECS["table2"], ours, base.missing)


def table3_vs_paper(cfg, root) -> Table:
    base = tb.table3(cfg, root)
    ours = cells_from(cfg, base, 2, lambda lead, col: (lead[0], col, lead[1]))
    return compare(cfg, SPECS["table3"], ours, base.missing)


def table4_vs_paper(cfg, root) -> Table:
    """Read from results/aloe/.../scores.json: the summary's ``k=N`` and ``average``."""
    missing: list[str] = []
    ours = _read_runs(cfg, plan.aloe_runs(cfg),
                      Results(cfg, root).aloe_path,
                      lambda found: found.get("summary") or {}, missing)
    return compare(cfg, SPECS["table4"], ours, missing)


def table5_vs_paper(cfg, root) -> Table:
    base = tb.table5(cfg, root)
    return compare(cfg, SPECS["table5"], cells_from(cfg, base, 1, _task_metric), base.missing)


def table6_vs_paper(cfg, root, data_root="data") -> Table:
    """Table 6 has no model column: its tokenizer is the config's first model's."""
    base = tb.table6(cfg, root, data_root)
    model = cfg["models"][0]
    cells = {(norm(row[0]), norm(column)): value for row in base.rows
             for column, value in zip(base.header[1:], row[1:], strict=True)}
    return compare(cfg, SPECS["table6"], [Ours(model, rs.label(cfg, "model", model), cells)],
                   base.missing)


def table7_vs_paper(cfg, root) -> Table:
    """Hyperparameters side by side, the data scale included: the quickest read of how far
    this run is from the paper's setting."""
    paper, setup, tr = paper_results()["table7"], paper_results()["setup"], cfg["training"]
    gen, data = cfg["generation"], cfg["data"]

    def nums(values) -> str:
        return ", ".join(plan.fmt_num(v) for v in values)

    def show(value) -> str | None:
        return value if value is None or isinstance(value, str) else plan.fmt_num(value)

    batch = ", ".join(f"{rs.label(cfg, 'model', m)}: "
                      f"{cfg['model_registry'][m].get('batch_size', tr['batch_size'])}"
                      for m in cfg["models"])
    epochs = plan.fmt_num(tr["epochs"]) + (f" (max_steps {tr['max_steps']})"
                                         if tr.get("max_steps", -1) > 0 else "")
    rows = [
        ["Batch size", ", ".join(f"{k}: {v}" for k, v in paper["batch_size"].items()), batch],
        ["Epoch", paper["epochs"], epochs],
        ["Learning rate", nums(paper["learning_rates"]), nums(tr["learning_rates"])],
        ["AdamW betas", nums(paper["adam_betas"]), nums(tr.get("adam_betas", [])) or None],
        ["Warmup ratio", paper["warmup_ratio"], tr.get("warmup_ratio")],
        ["Max length", paper["max_length"], tr.get("max_length")],
        ["Clip min / max", f"{plan.fmt_num(paper['clip_min'])} / {plan.fmt_num(paper['clip_max'])}",
         f"{plan.fmt_num(tr['clip'][0])} / {plan.fmt_num(tr['clip'][1])}"],
        ["Sampling temperature", paper["temperature"], gen.get("temperature")],
        ["Max new tokens", paper["max_new_tokens"], gen.get("max_new_tokens")],
        ["Train / test examples per task", f"{setup['n_train']} / {setup['n_test']}",
         f"{data.get('n_train')} / {data.get('n_test')}"],
        ["Top-k retrieved profile entries", setup["top_k"], data.get("top_k")],
    ]
    t = Table("table7_vs_paper", "Table 7 vs. paper: hyperparameters and scale",
              ["Hyperparameter", "Paper", "This run"],
              [[name, show(p), show(ours)] for name, p, ours in rows])
    t.notes += config_notes(cfg) + ["Paper: Table 7 (appendix B); the data scale from "
                                    "section 4 (Dataset, Setup)."]
    return t


def table10_vs_paper(cfg, root) -> Table:
    """Read from results/judge/...json; the Average is the mean over this config's tasks."""
    missing: list[str] = []
    ours = _read_runs(cfg, plan.judge_runs(cfg),
                      Results(cfg, root).judge_path,
                      lambda found: {k: found.get(k) for k in ("personalization", "quality")},
                      missing)
    tasks = [rs.label(cfg, "task", x) for x in cfg["tasks"]]
    for o in ours:
        for metric in ("Personalization", "Quality"):
            for method in LABELS.values():
                values = [o.cells.get((task, metric, method)) for task in tasks]
                if any(v is not None for v in values):
                    o.cells[("Average", metric, method)] = rs.mean_or_none(values)
    return compare(cfg, SPECS["table10"], ours, missing)


def table11_vs_paper(cfg, root) -> Table:
    """One block per (model, train task): the paper names no training task for table 11."""
    base = tb.table11(cfg, root)
    ours = cells_from(cfg, base, 2, lambda lead, col: (*col.rsplit(" ", 1), lead[1]),
                      label=lambda row: f"{row[0]} (trained on {row[1]})")
    t = compare(cfg, SPECS["table11"], ours, base.missing)
    t.notes.append("The paper names neither its metric nor the training task; its score is "
                   "set against our EM (its values look like accuracies on small samples).")
    return t


def table12_vs_paper(cfg, root) -> Table:
    base = tb.table12(cfg, root)
    ours = cells_from(cfg, base, 2, lambda lead, col: (lead[0], lead[1],
                                                       col.removeprefix("max ")))
    return compare(cfg, SPECS["table12"], ours, base.missing)


def table_pir_vs_paper(cfg, root) -> Table:
    """Read from results/pir/{model}/classification.json; the paper's text gives only word
    matching's recall and F1 (figure 4's bars are an image)."""
    ours, missing = [], []
    for model in cfg["pir"]["models"]:
        path = layout.in_results("pir_classification", root, model=model)
        found = rs.read_result(path) or {}
        if not found:
            missing.append(str(path))
        cells = {(norm(method), norm(metric)): found[method][metric]
                 for method in (m.name for m in pir_methods.PAPER_METHODS)
                 if found.get(method) for metric in ("precision", "recall", "f1")}
        ours.append(Ours(model, rs.label(cfg, "model", model), cells))
    t = compare(cfg, SPECS["table_pir"], ours, missing)
    threshold = paper_results()["meta"]["pir"]["threshold"]
    t.notes.append(f"PerContrast labels a token personal when PIR > {threshold:g} (paper); "
                   f"this run: PIR > {cfg['pir'].get('threshold', threshold):g}.")
    return t


#: name -> builder of every paper companion, from the artefact catalogue
COMPANIONS = {a.name: globals()[a.function] for a in artefacts.companion_tables()}
#: Which companion shows each table of paper_results.yaml (tables 8 and 9 are the second model
#: of tables 3 and 4, as in the base tables), read off the specs' ``paper`` fields; table 7, the
#: hyperparameters, is lined up by its own builder rather than a Spec.
PAPER_TABLE_COMPANION = {"table7": "table7_vs_paper",
                         **{paper: spec.name for spec in SPECS.values() for paper in spec.paper}}
NOT_TABLES = ("meta", "setup")  # keys of paper_results.yaml that hold no table
