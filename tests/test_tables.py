"""Paper tables rendered from metrics files the test writes: values, gains, missing runs, LaTeX."""

from __future__ import annotations

import json
import re

import pytest

from percontrast import artefacts, layout, plan
from percontrast import config as pc
from percontrast.report.gains import Gain
from percontrast.report.paper_tables import table1, table2, table3, table12
from percontrast.report.table_format import DASH


def BUILDERS():  # noqa: N802  (name -> builder of every base table, from the catalogue)
    return {a.name: a.load() for a in artefacts.base_tables()}


@pytest.fixture
def cfg(repo):
    return pc.load_config(repo / "configs/tiny.yaml")


def put(root, run: plan.TrainRun, task: str, examples: list[dict] | None = None, **metrics):
    """A metrics file; without ``examples``, twelve test examples that each score the means."""
    if examples is None:
        examples = [{"id": f"{task}-{k}", **{m: v for m, v in metrics.items()
                                             if isinstance(v, (int, float))}} for k in range(12)]
    path = layout.in_results("metrics", root, run, eval_task=task)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**metrics, "examples": examples}))


def shown(cells) -> list:
    """Gain cells as the Markdown shows them (other cells unchanged)."""
    return [str(c) if isinstance(c, Gain) else c for c in cells]


def test_table1_takes_the_best_lr_and_computes_gains(cfg, tmp_path):
    lr1, lr2 = cfg["training"]["learning_rates"]
    clip = cfg["training"]["clip"]
    for task in cfg["tasks"]:
        put(tmp_path, plan.TrainRun("tiny-llama", task, "ce", lr1, *clip), task,
            rouge_l=0.20, meteor=0.10)
        put(tmp_path, plan.TrainRun("tiny-llama", task, "ce", lr2, *clip), task,
            rouge_l=0.10, meteor=0.30)  # worse ROUGE-L: not chosen, whatever its METEOR
        put(tmp_path, plan.TrainRun("tiny-llama", task, "perce", lr2, *clip), task,
            rouge_l=0.25, meteor=0.12)
    table = table1(cfg, tmp_path)
    rows = {row[1]: row[2:] for row in table.rows}
    assert rows["CE"][:2] == [0.20, 0.10]
    assert rows["PerCE"][:2] == [0.25, 0.12]
    # every example scores the mean, so the interval has no width and excludes 0
    assert shown(rows["Gain"][:2]) == ["+25.00% [+25.0, +25.0]*", "+20.00% [+20.0, +20.0]*"]
    assert shown(rows["Gain"][-2:]) == shown(rows["Gain"][:2])  # averages
    assert rows["LossCE"] == [None] * 8  # never ran
    assert any("lossce" in m for m in table.missing)
    md = table.to_markdown()
    assert f"| Tiny-Llama | LossCE | {DASH} |" in md and "Missing runs" in md


def test_table2_mean_and_variance(cfg, tmp_path):
    lr1, lr2 = cfg["training"]["learning_rates"]
    clip = cfg["training"]["clip"]
    put(tmp_path, plan.TrainRun("tiny-llama", "abstract", "perce", lr1, *clip), "abstract",
        rouge_l=0.30, meteor=0)
    put(tmp_path, plan.TrainRun("tiny-llama", "abstract", "perce", lr2, *clip), "abstract",
        rouge_l=0.34, meteor=0)
    rows = [r for r in table2(cfg, tmp_path).rows if r[1] == "PerCE"]
    assert rows[2][2:4] == ["Mean", pytest.approx(0.32)]
    assert rows[3][2] == "Variance x1e-4" and rows[3][3] == pytest.approx(4.0)  # 0.02^2 * 1e4
    assert rows[3][4] is None  # PRW never ran


def test_table3_cross_task_and_table12_clip_grid(cfg, tmp_path):
    run_ce = plan.main_run(cfg, "tiny-llama", "review", "ce")
    run_pe = plan.main_run(cfg, "tiny-llama", "review", "perce")
    for dst, (a, b) in {"abstract": (0.2, 0.3), "review": (0.1, 0.15)}.items():
        put(tmp_path, run_ce, dst, rouge_l=a, meteor=0)
        put(tmp_path, run_pe, dst, rouge_l=b, meteor=0)
    rows = [r for r in table3(cfg, tmp_path).rows if r[1] == "PRW"]
    assert rows[0][3:] == [0.2, 0.1, None] and rows[1][3:] == [0.3, 0.15, None]
    assert shown(rows[2][3:]) == ["+50.00% [+50.0, +50.0]*", "+50.00% [+50.0, +50.0]*", None]
    grid = cfg["training"]["clip_grid"]
    put(tmp_path, plan.TrainRun("tiny-llama", "topic", "perce", grid["learning_rate"], 0.8, 2.0),
        "topic", rouge_l=0.42, meteor=0)
    rows = [r for r in table12(cfg, tmp_path).rows if r[1] == "PTW"]
    assert rows[0][2:] == ["0.8", 0.42, None]
    assert rows[1][2:] == ["Gain vs CE (0.8)", None, None]  # CE at that LR has not run
    put(tmp_path, plan.TrainRun("tiny-llama", "topic", "ce", grid["learning_rate"],
                              *cfg["training"]["clip"]), "topic", rouge_l=0.40, meteor=0)
    rows = [r for r in table12(cfg, tmp_path).rows if r[1] == "PTW"]
    assert shown(rows[1][3:]) == ["+5.00% [+5.0, +5.0]*", None]


def test_every_table_renders_from_nothing_without_failing(cfg, tmp_path):
    for name, builder in BUILDERS().items():
        if name == "table6":
            continue  # needs a tokenizer and data; covered by the workflow test
        table = builder(cfg, tmp_path)
        assert table.name == name
        paths = table.write(tmp_path / "tables")
        assert [p.suffix for p in paths] == [".csv", ".md", ".tex"]
        assert all(p.stat().st_size > 0 for p in paths)


def test_latex_is_plain_balanced_tabular(cfg, tmp_path):
    put(tmp_path, plan.main_run(cfg, "tiny-llama", "review", "ce"), "review", rouge_l=0.5,
        meteor=0.25)
    put(tmp_path, plan.main_run(cfg, "tiny-llama", "review", "perce"), "review", rouge_l=0.6,
        meteor=0.25)
    tex = table3(cfg, tmp_path).to_latex()
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0].strip().splitlines()
    header = re.search(r"\\toprule\n(.*) \\\\", tex).group(1)
    n_cols = len(re.search(r"\\begin\{tabular\}\{(\w+)\}", tex).group(1))
    assert header.count("&") == n_cols - 1
    assert all(line.endswith(r"\\") and line.count("&") == n_cols - 1 for line in body)
    assert r"\%" in tex and "%" not in tex.replace(r"\%", "").split("\n", 1)[1]  # escaped
    assert tex.count(r"\begin{tabular}") == tex.count(r"\end{tabular}") == 1


def test_table4_aloe_rounds_and_gain_as_score_difference(cfg, tmp_path):
    runs = plan.aloe_runs(cfg)
    ce = next(r for r in runs if r.method == "ce")
    perce = next(r for r in runs if r.method == "perce" and r.task == ce.task)
    rounds = cfg["evaluation"]["aloe"]["rounds"]
    for run, base in ((ce, 2.0), (perce, 2.5)):
        path = layout.in_results("aloe_scores", tmp_path, run)
        path.parent.mkdir(parents=True)
        summary = {f"k={k}": base + 0.1 * k for k in range(1, rounds + 1)}
        summary["average"] = base
        path.write_text(json.dumps({"summary": summary}))
    table = BUILDERS()["table4"](cfg, tmp_path)
    assert table.header[3:] == [f"k={k}" for k in range(1, rounds + 1)] + ["Average"]
    rows = [r for r in table.rows if r[1] == table.rows[0][1]]
    assert [r[2] for r in rows] == ["CE", "PerCE", "Gain"]
    assert rows[0][-1] == 2.0 and rows[1][-1] == 2.5
    assert rows[2][-1] == "+0.50"  # a difference of scores, not a percentage
    other = [r for r in table.rows if r[1] != table.rows[0][1]]
    assert all(v is None for r in other if r[2] != "Gain" for v in r[3:])
    assert len(table.missing) == len(runs) - 2


def test_table10_judge_scores_with_percent_gain(cfg, tmp_path):
    runs = plan.judge_runs(cfg)
    for run in runs:
        path = layout.in_results("judge", tmp_path, run)
        path.parent.mkdir(parents=True, exist_ok=True)
        value = 60.0 if run.method == "perce" else 50.0
        path.write_text(json.dumps({"personalization": value, "quality": value + 20}))
    table = BUILDERS()["table10"](cfg, tmp_path)
    rows = {r[1]: r[2:] for r in table.rows}
    n_tasks = len(cfg["tasks"])
    assert rows["CE"] == [50.0, 70.0] * n_tasks + [50.0, 70.0]
    assert rows["Gain"][:2] == ["+20.00%", "+14.29%"]
    assert table.missing == []


def test_gain_cells_carry_paired_bootstrap_intervals(cfg, tmp_path):
    """Per-example scores decide the interval: a noisy gain is not starred, a consistent one is;
    the CSV keeps the bounds and p-value in their own columns."""
    lr1, lr2 = cfg["training"]["learning_rates"]
    clip = cfg["training"]["clip"]
    base = [0.1, 0.4, 0.2, 0.5, 0.3, 0.6, 0.2, 0.4] * 2
    for task in cfg["tasks"]:
        ids = [f"{task}-{k}" for k in range(len(base))]
        consistent = [x + 0.05 for x in base]              # every example gains 0.05
        noisy = [x + (0.3 if k % 2 else -0.28) for k, x in enumerate(base)]
        for method, rouge in (("ce", base), ("perce", consistent)):
            for lr in (lr1, lr2):
                put(tmp_path, plan.TrainRun("tiny-llama", task, method, lr, *clip), task,
                    rouge_l=sum(rouge) / 16,
                    meteor=sum(noisy if method == "perce" else base) / 16,
                    examples=[{"id": i, "rouge_l": r, "meteor": m} for i, r, m in zip(
                        ids, rouge, noisy if method == "perce" else base, strict=True)])
    table = table1(cfg, tmp_path)
    gain_row = next(r for r in table.rows if r[1] == "Gain")
    rouge, meteor = gain_row[2], gain_row[3]
    assert rouge.value == pytest.approx(0.05 / 0.3375 * 100)
    assert rouge.estimate.decided and str(rouge).endswith("*")
    assert rouge.low < rouge.value < rouge.high
    assert not meteor.estimate.decided and not str(meteor).endswith("*")
    assert meteor.low < 0 < meteor.high
    csv_rows = list(__import__("csv").reader(table.to_csv().splitlines()))
    header = csv_rows[0]
    j = header.index(table.header[2])
    h = table.header[2]
    assert header[j + 1:j + 4] == [f"{h} Gain CI low (%)", f"{h} Gain CI high (%)", f"{h} Gain p"]
    gain_csv = next(r for r in csv_rows if r[1] == "Gain")
    assert float(gain_csv[j]) == pytest.approx(rouge.value, rel=1e-5)
    assert float(gain_csv[j + 3]) < 0.01  # one-sided p of PerCE > CE
    ce_csv = next(r for r in csv_rows if r[1] == "CE")
    assert ce_csv[j + 1:j + 4] == ["", "", ""]
    assert any("paired-bootstrap" in n for n in table.notes)
    # table 2 adds a Gain row per learning rate both methods ran
    t2 = table2(cfg, tmp_path)
    assert [r[2] for r in t2.rows if r[1] == "Gain"] == [plan.fmt_num(lr1), plan.fmt_num(lr2)]


def test_cells_of_several_training_seeds_are_averaged_per_example(cfg, tmp_path):
    cfg["training"]["seeds"] = [cfg["seed"], 7]
    clip = cfg["training"]["clip"]
    lr = cfg["training"]["main_learning_rate"]
    cfg["training"]["learning_rates"] = [lr]
    ids = [f"e{k}" for k in range(12)]
    for task in cfg["tasks"]:
        for method, shift in (("ce", 0.0), ("perce", 0.1)):
            for seed, noise in ((None, -0.02), (7, 0.02)):
                run = plan.TrainRun("tiny-llama", task, method, lr, *clip, seed=seed)
                vals = [0.2 + 0.05 * (k % 6) + shift + noise for k in range(12)]
                put(tmp_path, run, task, rouge_l=sum(vals) / 12, meteor=0.1,
                    examples=[{"id": i, "rouge_l": v, "meteor": 0.1}
                              for i, v in zip(ids, vals, strict=True)])
    table = table1(cfg, tmp_path)
    rows = {r[1]: r for r in table.rows}
    assert rows["CE"][2] == pytest.approx(0.325) and rows["PerCE"][2] == pytest.approx(0.425)
    gain = rows["Gain"][2]
    assert gain.value == pytest.approx(0.1 / 0.325 * 100) and gain.estimate.n == 12
    # the seeds' noise cancels per example: every example gains exactly 0.1
    assert gain.estimate.decided
    assert any("2 training seeds (0, 7)" in n for n in table.notes)
    # a missing seed makes the cell missing, naming the seed's run
    (tmp_path / "metrics" / plan.TrainRun("tiny-llama", "review", "ce", lr, *clip, seed=7).path
     / "review.json").unlink()
    again = table1(cfg, tmp_path)
    assert any("_seed7/review" in m for m in again.missing)


@pytest.mark.parametrize("content, message", [
    ("{not json", "invalid JSON"),
    ('{"rouge_l": NaN, "meteor": 0.1, "examples": []}', "rouge_l is not a finite number"),
    ('{"rouge_l": 0.2, "examples": [{"id": "a", "meteor": Infinity}]}',
     "examples.0.meteor is not a finite number"),
])
def test_a_bad_metrics_file_is_named_and_the_old_tables_stay(cfg, tmp_path, content, message):
    from percontrast.io import DataError
    from percontrast.report.render import render_tables

    out, results = tmp_path / "tables", tmp_path / "results"
    names = [n for n in BUILDERS() if n != "table6"]  # table 6 reads prepared models
    render_tables(cfg, results, tmp_path / "data", out, names)  # an earlier, complete render
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(before) >= 3 * len(names)
    run = plan.main_run(cfg, "tiny-llama", "review", "ce")
    bad = layout.in_results("metrics", results, run, eval_task="review")
    bad.parent.mkdir(parents=True)
    bad.write_text(content)
    with pytest.raises(DataError, match=message) as err:
        render_tables(cfg, results, tmp_path / "data", out, names)
    assert str(bad) in str(err.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing half-new
