"""Every number says its scale and n: pipeline-scale cells are marked with the setting, main
cells carry n and (from 10 examples) an interval, a Gain over partly overlapping examples is
flagged, cells of runs the config does not define read "not run" naming the config that runs
them, and the real-data table (table_spc) is built from hand-made metrics files."""

from __future__ import annotations

import copy
import csv
import json

import pytest

from percontrast import artefacts, layout, plan
from percontrast import config as pc
from percontrast.report import compare as cmp
from percontrast.report import results as rs
from percontrast.report.gains import PARTIAL, Gain
from percontrast.report.own_tables import table_spc
from percontrast.report.paper_tables import table1, table12
from percontrast.report.table_format import DASH, NotRun
from tests.test_tables import put

SMALL = {"max_steps": 1, "batch_size": 1, "n_test": 4, "max_new_tokens": 24}
SETTING = "1 optimizer step, batch 1, first 4 test examples, 24 new tokens"


@pytest.fixture
def cfg(repo):
    return pc.load_config(repo / "configs/tiny.yaml")


def varied(task: str, k: int, base: float, step: float = 0.01, **extra) -> list[dict]:
    """``k`` examples whose ROUGE-L / METEOR vary (so an interval has a width)."""
    return [{"id": f"{task}-{i}", "rouge_l": base + step * (i % 5), "meteor": base / 2,
             **{key: f(i) for key, f in extra.items()}} for i in range(k)]


def put_examples(root, run, task, examples, **top):
    means = {m: sum(e[m] for e in examples) / len(examples) for m in ("rouge_l", "meteor")}
    put(root, run, task, examples, **means, n=len(examples), **top)


def csv_rows(table) -> list[dict]:
    return list(csv.DictReader(table.to_csv().splitlines()))


def row_of(table, *lead):
    found = [r for r in table.rows if tuple(r[:len(lead)]) == lead]
    assert len(found) == 1, (lead, found)
    return found[0]


# --------------------------------------------------------------------------- scale marks

def test_mixed_scale_cells_are_marked_with_the_setting(cfg, tmp_path):
    cfg["training"]["pipeline_scale"] = dict(SMALL)
    cfg["training"]["full_scale_methods"] = ["ce", "perce"]
    for task in cfg["tasks"]:
        for method in pc.METHODS:
            put_examples(tmp_path, plan.main_run(cfg, "tiny-llama", task, method), task,
                         varied(task, 12, 0.2))
    table = table1(cfg, tmp_path)
    lossce, ce = row_of(table, "Tiny-Llama", "LossCE"), row_of(table, "Tiny-Llama", "CE")
    assert all(v.scale == rs.PIPELINE for v in lossce[2:])
    assert all(v.scale == rs.FULL for v in ce[2:])
    md = table.to_markdown()
    lossce_md = next(line for line in md.splitlines() if line.startswith("| Tiny-Llama | LossCE"))
    ce_md = next(line for line in md.splitlines() if line.startswith("| Tiny-Llama | CE"))
    assert lossce_md.count("\u2020") == 8 and "\u2020" not in ce_md
    assert f"- \u2020 pipeline scale: {SETTING}" in md
    assert rs.scale_setting(cfg) == SETTING
    # the CSV keeps the number and flags the scale in a column of its own
    rows = {r["Method"]: r for r in csv_rows(table)}
    assert float(rows["LossCE"]["PAG ROUGE-L"]) == pytest.approx(float(lossce[2]))
    assert rows["LossCE"]["PAG ROUGE-L scale"] == "pipeline"
    assert rows["CE"]["PAG ROUGE-L scale"] == "full"
    assert "\u2020" not in table.to_csv()
    assert r"$^\dagger$" in table.to_latex()


def test_a_cross_task_evaluation_of_a_full_run_gets_its_own_mark(cfg, tmp_path):
    cfg["training"]["pipeline_scale"] = dict(SMALL)
    run = plan.main_run(cfg, "tiny-llama", "review", "ce")
    for dst in ("abstract", "review"):
        put_examples(tmp_path, run, dst, varied(dst, 12, 0.3))
    table = artefacts.get("table3").load()(cfg, tmp_path)
    row = row_of(table, "Tiny-Llama", "PRW", "CE")
    assert row[3].scale == rs.PIPELINE_EVAL and row[4].scale == rs.FULL
    assert any(n.startswith("\u2021 full-scale run evaluated at pipeline scale: first 4 test "
                            "examples, 24 new tokens") for n in table.notes)


def test_without_pipeline_scale_nothing_is_marked(cfg, tmp_path):
    for task in cfg["tasks"]:
        put_examples(tmp_path, plan.main_run(cfg, "tiny-llama", task, "lossce"), task,
                     varied(task, 12, 0.2))
    md = table1(cfg, tmp_path).to_markdown()
    assert "\u2020" not in md and "\u2021" not in md


# --------------------------------------------------------------------------- n and intervals

def test_main_cells_carry_n_and_an_interval_from_ten_examples(cfg, tmp_path):
    put_examples(tmp_path, plan.main_run(cfg, "tiny-llama", "review", "ce"), "review",
                 varied("review", 12, 0.2))
    put_examples(tmp_path, plan.main_run(cfg, "tiny-llama", "abstract", "ce"), "abstract",
                 varied("abstract", 8, 0.2))
    table = artefacts.get("table3").load()(cfg, tmp_path)
    own = row_of(table, "Tiny-Llama", "PRW", "CE")[4]
    assert own.n == 12 and own.low < float(own) < own.high
    assert table.cell(own) == (f"{float(own):.4f} [{own.low:.4f}, {own.high:.4f}] n=12")
    small = row_of(table, "Tiny-Llama", "PAG", "CE")[3]
    assert small.n == 8 and small.low is None and small.high is None
    assert table.cell(small) == f"{float(small):.4f} n=8"
    rows = {(r["Source"], r["Method"]): r for r in csv_rows(table)}
    prw = rows[("PRW", "CE")]
    assert prw["PRW n"] == "12" and float(prw["PRW CI low"]) == pytest.approx(own.low, abs=1e-6)
    assert rows[("PAG", "CE")]["PAG n"] == "8" and rows[("PAG", "CE")]["PAG CI low"] == ""
    assert any(n.startswith("Cells: the mean [its 95% bootstrap interval") for n in table.notes)


def test_the_average_column_interval_covers_all_tasks(cfg, tmp_path):
    for task in cfg["tasks"]:
        put_examples(tmp_path, plan.main_run(cfg, "tiny-llama", task, "ce"), task,
                     varied(task, 12, 0.2))
    cfg["training"]["learning_rates"] = [cfg["training"]["main_learning_rate"]]
    row = row_of(table1(cfg, tmp_path), "Tiny-Llama", "CE")
    avg = row[-2]
    assert avg.n == 36 and avg.low < float(avg) < avg.high
    assert float(avg) == pytest.approx(sum(float(v) for v in row[2:-2:2]) / 3)


# --------------------------------------------------------------------------- partial overlap

def test_a_gain_over_partly_overlapping_examples_is_flagged(cfg, tmp_path):
    lr = cfg["training"]["clip_grid"]["learning_rate"]
    ce = plan.TrainRun("tiny-llama", "topic", "ce", lr, *cfg["training"]["clip"])
    put_examples(tmp_path, ce, "topic", varied("topic", 12, 0.2))
    # the clip-grid run scored only the first four test examples
    perce = plan.TrainRun("tiny-llama", "topic", "perce", lr, 0.8, 2.0)
    put_examples(tmp_path, perce, "topic", varied("topic", 12, 0.3)[:4])
    table = table12(cfg, tmp_path)
    g = row_of(table, "Tiny-Llama", "PTW", "Gain vs CE (0.8)")[3]
    assert isinstance(g, Gain) and g.common == 4 and g.estimate.n == 4
    assert str(g).endswith(f"{PARTIAL}(4 common)")
    assert any(n.startswith(f"{PARTIAL}(k common)") for n in table.notes)
    row = next(r for r in csv_rows(table)
               if r["Clip min"] == "Gain vs CE (0.8)" and r["Task"] == "PTW")
    assert row["max 2 Gain on common examples"] == "1" and row["max 2 Gain n"] == "4"
    # the same examples on both sides: no flag
    put_examples(tmp_path, perce, "topic", varied("topic", 12, 0.3))
    again = row_of(table12(cfg, tmp_path), "Tiny-Llama", "PTW", "Gain vs CE (0.8)")[3]
    assert again.common is None and PARTIAL not in str(again)


# --------------------------------------------------------------------------- not run

def test_cells_of_runs_the_config_does_not_define_read_not_run(cfg, tmp_path):
    cfg["training"]["methods"] = ["ce", "perce"]
    cfg["report"]["not_run_config"] = "configs/elsewhere.yaml"
    for task in cfg["tasks"]:
        put_examples(tmp_path, plan.main_run(cfg, "tiny-llama", task, "ce"), task,
                     varied(task, 12, 0.2))
    table = table1(cfg, tmp_path)
    assert [r[1] for r in table.rows] == ["CE", "LossCE", "EntCE", "PerCE", "Gain"]
    lossce = row_of(table, "Tiny-Llama", "LossCE")
    assert all(isinstance(v, NotRun) for v in lossce[2:])
    perce = row_of(table, "Tiny-Llama", "PerCE")  # defined, not finished: a dash
    assert perce[2:] == [None] * 8
    md = table.to_markdown()
    assert "| Tiny-Llama | LossCE | not run (configs/elsewhere.yaml) |" in md
    assert f"| Tiny-Llama | PerCE | {DASH} |" in md
    assert any("`configs/elsewhere.yaml` runs it" in n for n in table.notes)
    status = {r["Method"]: r for r in csv_rows(table)}
    assert status["LossCE"]["Status"] == "not run (configs/elsewhere.yaml)"
    assert status["LossCE"]["PAG ROUGE-L"] == "" and status["CE"]["Status"] == ""


@pytest.mark.parametrize("name, off", [
    ("table12", lambda c: c["training"].pop("clip_grid")),
    ("table5", lambda c: c["evaluation"].update(lamp_tasks=[])),
    ("table4", lambda c: c["evaluation"]["aloe"].update(enabled=False)),
    ("table10", lambda c: c["evaluation"]["llm_judge"].update(enabled=False)),
    ("table11", lambda c: c["evaluation"].pop("general_qa")),
    ("table3", lambda c: c["evaluation"].update(cross_task=False)),
    ("table_spc", lambda c: c["evaluation"].pop("dialogue", None)),
])
def test_a_table_the_config_leaves_out_says_not_run_and_names_the_config(cfg, tmp_path, name,
                                                                         off):
    cfg = copy.deepcopy(cfg)
    off(cfg)
    table = artefacts.get(name).load()(cfg, tmp_path)
    assert len(table.rows) == 1 and isinstance(table.rows[0][0], NotRun)
    md = table.to_markdown()
    assert "not run (configs/cpu-full.yaml)" in md and table.missing == []
    tex = table.to_latex()
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0].strip()
    assert body.count("&") == len(table.header) - 1
    if f"{name}_vs_paper" in cmp.COMPANIONS:  # the companion renders and says so
        companion = cmp.COMPANIONS[f"{name}_vs_paper"](cfg, tmp_path)
        assert any("configs/cpu-full.yaml" in n for n in companion.notes)


# --------------------------------------------------------------------------- table_spc

def spc_cfg(cfg):
    cfg = copy.deepcopy(cfg)
    cfg["task_registry"]["spc"] = {"type": "dialogue", "label": "SPC", "source": "spc"}
    cfg["evaluation"]["dialogue"] = {"tasks": ["spc"], "models": ["tiny-llama"],
                                     "methods": ["ce", "perce"]}
    return cfg


def spc_examples(method: str, k: int = 20) -> list[dict]:
    up = method == "perce"
    rows = []
    for i in range(k):
        words = float(i % 3) + (1.0 if up else 0.0)  # PerCE: exactly one more persona word
        rows.append({"id": f"spc-{i}", "rouge_l": (0.2 + 0.01 * (i % 4)) * (1.1 if up else 1.0),
                     "meteor": 0.1 + 0.01 * (i % 2), "persona_words": words,
                     "placebo_words": 0.5, "persona_lift": words - 0.5,
                     "grounded_recall": None if i % 2 else (0.5 if up else 0.25),
                     "persona_hits1": 1.0 if (up and i % 2 == 0) else 0.0})
    return rows


def put_spc(root, run, rows):
    keys = [k for k in rows[0] if k != "id"]
    means = {}
    for k in keys:
        vals = [r[k] for r in rows if r[k] is not None]
        means[k] = sum(vals) / len(vals)
    body = {**means, "n": len(rows), "n_grounded_recall": sum(r["grounded_recall"] is not None
                                                              for r in rows),
            "persona_candidates": 4, "examples": rows}
    path = layout.in_results("metrics", root, run, eval_task=run.task)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body))
    return body


def test_table_spc_from_hand_made_metrics_files(cfg, tmp_path):
    cfg = spc_cfg(cfg)
    runs = {r.method: r for r in plan.dialogue_runs(cfg)}
    bodies = {m: put_spc(tmp_path, run, spc_examples(m)) for m, run in runs.items()}
    table = table_spc(cfg, tmp_path)
    assert table.header[:4] == ["Model", "Task", "Method", "n"]
    h = table.header.index
    ce, perce = row_of(table, "Tiny-Llama", "SPC", "CE"), row_of(table, "Tiny-Llama", "SPC",
                                                                  "PerCE")
    assert ce[3] == perce[3] == 20
    assert float(ce[h("Persona words")]) == pytest.approx(bodies["ce"]["persona_words"])
    assert float(perce[h("Persona words")]) == pytest.approx(bodies["ce"]["persona_words"] + 1)
    assert float(perce[h("Persona Hits@1")]) == pytest.approx(0.5)
    recall = perce[h("Grounded recall")]
    assert float(recall) == pytest.approx(0.5) and recall.n == 10
    assert perce[h("n (grounded)")] == 10
    assert ce[h("ROUGE-L")].low < float(ce[h("ROUGE-L")]) < ce[h("ROUGE-L")].high
    diff = row_of(table, "Tiny-Llama", "SPC", "PerCE - CE")
    words = diff[h("Persona words")]
    assert not words.percent and words.value == pytest.approx(1.0)
    assert (words.low, words.high) == (pytest.approx(1.0), pytest.approx(1.0))
    assert str(words) == "+1.000 [+1.000, +1.000]*"
    rouge = diff[h("ROUGE-L")]
    assert rouge.percent and rouge.value == pytest.approx(10.0) and rouge.estimate.decided
    grounded = diff[h("Grounded recall")]
    assert grounded.value == pytest.approx(0.25) and grounded.estimate.n == 10
    assert grounded.common is None  # the same references on both sides
    assert diff[3] == 20
    notes = " ".join(table.notes)
    assert "chance = 1/4 = 0.250" in notes and "PerCE - CE for the persona metrics" in notes
    md = table.to_markdown()
    assert "| Tiny-Llama | SPC | PerCE - CE | 20 |" in md and table.missing == []


def test_table_spc_lists_missing_runs(cfg, tmp_path):
    cfg = spc_cfg(cfg)
    run = next(r for r in plan.dialogue_runs(cfg) if r.method == "ce")
    put_spc(tmp_path, run, spc_examples("ce"))
    table = table_spc(cfg, tmp_path)
    assert [r[2] for r in table.rows] == ["CE", "PerCE"]
    assert table.rows[1][3:] == [None] * (len(table.header) - 3)
    assert any("perce" in m for m in table.missing)


# --------------------------------------------------------------------------- the companions

def test_companion_gives_interval_n_scale_and_verdict(cfg, tmp_path):
    cfg["training"]["pipeline_scale"] = dict(SMALL)
    cfg["training"]["full_scale_methods"] = ["ce", "perce"]
    cfg["training"]["learning_rates"] = [cfg["training"]["main_learning_rate"]]
    for task in cfg["tasks"]:
        for method, base in (("ce", 0.2), ("perce", 0.25), ("lossce", 0.21)):
            put_examples(tmp_path, plan.main_run(cfg, "tiny-llama", task, method), task,
                         varied(task, 12, base))
    table = cmp.table1_vs_paper(cfg, tmp_path)
    col = table.header.index

    def row(*key):
        return next(r for r in table.rows if tuple(r[:3]) == key)

    pe = row("PRW", "ROUGE-L", "PerCE")
    assert pe[col("n")] == 12 and pe[col("CI low")] < pe[col("This run")] < pe[col("CI high")]
    assert pe[col("Scale")] == "full" and type(pe[col("This run")]) is float
    gain = row("PRW", "ROUGE-L", "Gain")
    assert gain[col("Verdict")] == "holds" and gain[col("n")] == 12
    assert gain[col("CI low")] > 0  # every example gains 0.05 over a mean of 0.2175
    assert gain[col("This run")] == f"{0.05 / 0.2175 * 100:+.2f}%"
    lossce = row("PRW", "ROUGE-L", "LossCE")
    assert lossce[col("Scale")] == f"pipeline scale ({SETTING}) \u2020"
    assert any("Verdict (Gain rows)" in n for n in table.notes)
