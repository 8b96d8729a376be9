"""Run figures (training curves, the E-step on marker tokens, LR robustness, cross-task
heat-maps, ALOE by round).

The figures are checked as files a reader gets: valid PNGs of a sane size that are not blank,
drawn from complete, partial and empty results alike (a report rendered mid-pipeline must not
crash), and the script writes exactly the files the `figures` rule declares. What they show is
checked on the matplotlib artists: each series a legend entry names carries exactly its own
run's numbers (so swapped CE and PerCE series, or two tasks' panels, fail), no line joins points
of different scales, other-scale points are hollow, other-scale heat-map cells hatched and
uncoloured.
"""

from __future__ import annotations

import copy
import json
import math
import struct
import sys

import pytest
import yaml
from matplotlib import colors as mcolors

from percontrast import artefacts, layout, plan
from percontrast import config as pc
from percontrast.methods import LABELS
from percontrast.report import figure_style, results, score_figures, training_figures

FIGURES = tuple(artefacts.figure_names("figures"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- helpers

def assert_png(path) -> tuple[int, int]:
    """A real, readable, non-blank PNG of plausible size; returns (width, height)."""
    import matplotlib.image as mpimg
    import numpy as np

    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert 300 < width < 5000 and 100 < height < 5000, (width, height)
    pixels = mpimg.imread(path)
    assert pixels.shape[:2] == (height, width)
    rgb = (pixels[..., :3] * 255).astype(np.uint32)
    colours = np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])
    assert len(colours) > 20, f"{path} looks blank ({len(colours)} colours)"
    return width, height


def log_rows(method: str, steps: int = 6) -> list[dict]:
    """A plausible log.jsonl: per-step rows, then the trainer's summary row (no 'loss')."""
    perce = method == "perce"
    rows = [{"step": s, "loss": 3.0 - 0.2 * s + 0.05 * len(method), "epoch": s / steps,
             "weight_mean": 1.3 - 0.02 * s if perce else 1.0,
             "frac_clip_min": 0.30 - 0.01 * s if perce else 0.0,
             "frac_clip_max": 0.02 + 0.005 * s if perce else 0.0}
            for s in range(1, steps + 1)]
    return rows + [{"step": steps, "train_loss": 2.1, "train_runtime": 1.0}]


def per_round(method: str, rounds: int = 10, null_round: int | None = None) -> list[dict]:
    base = 2.0 if method == "ce" else 2.4
    return [{"round": k, "mean": None if k == null_round else base + 0.15 * k, "n": 4,
             "missing": 4 if k == null_round else 0} for k in range(1, rounds + 1)]


@pytest.fixture
def cfg(repo):
    """configs/tiny.yaml, plus a second model so the multi-model layouts are exercised."""
    raw = yaml.safe_load((repo / "configs/tiny.yaml").read_text())
    raw["model_registry"]["tiny-b"] = {**raw["model_registry"]["tiny-llama"], "label": "Tiny-B"}
    raw["models"] = ["tiny-llama", "tiny-b"]
    raw["evaluation"]["cross_task_models"] = ["tiny-llama", "tiny-b"]
    raw["evaluation"]["aloe"].update(rounds=10, models=["tiny-llama", "tiny-b"])
    cfg = pc.validate_schema(raw)
    pc.check_config(cfg)
    return cfg


def write_json(path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def fake_results(cfg, root, keep=lambda i: True) -> None:
    """Logs, metrics and ALOE scores for the config's figure runs; ``keep(i)`` drops some."""
    tr = cfg["training"]
    i = 0
    for run, tasks in plan.evaluations(cfg).items():
        i += 1
        if not keep(i):
            continue
        if run.lr == tr["main_learning_rate"]:
            log = layout.in_results("run_log", root, run)
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("".join(json.dumps(r) + "\n" for r in log_rows(run.method)))
        for task in tasks:
            score = 0.2 + 0.01 * i + (0.03 if run.method == "perce" else 0) - 0.05 * (
                task != run.task)
            write_json(layout.in_results("metrics", root, run, eval_task=task),
                       {"rouge_l": score, "meteor": score / 2})
    for j, run in enumerate(plan.aloe_runs(cfg)):
        if keep(j):
            rows = per_round(run.method, null_round=3 if j == 0 else None)
            write_json(layout.in_results("aloe_scores", root, run),
                       {"model": run.model, "train_task": run.task, "method": run.method,
                        "run": run.run_id, "per_round": rows, "summary": {"average": 3.0}})


def run_script(repo, monkeypatch, cfg, results, out) -> None:
    """``percontrast figures`` (the rule's command), in this process."""
    from percontrast.commands import figures as command

    monkeypatch.setattr(sys, "argv", ["percontrast figures", "--config", json.dumps(cfg),
                                      "--results", str(results), "--out", str(out)])
    command.main()



# --------------------------------------------------------------------------- the functions

def nested(models, tasks, methods, leaf):
    return {m: {t: {me: leaf(m, t, me) for me in methods} for t in tasks} for m in models}


def test_each_function_draws_complete_data(tmp_path, no_data_calls):
    models, tasks, methods = ["Qwen3-4B", "Llama3-8B"], ["PAG", "PRW", "PTW"], list(pc.METHODS)
    training_figures.training_curves(
        nested(models, tasks, methods, lambda m, t, me: log_rows(me)),
        tmp_path / "curves.png", title="main LR")
    lrs = [2e-6, 5e-6, 8e-6, 2e-5, 5e-5]
    score_figures.lr_robustness(
        nested(models, tasks, methods,
               lambda m, t, me: {lr: 0.3 + (0.02 if me == "perce" else 0.0) - 1e3 * lr
                                 for lr in lrs}),
        tmp_path / "lr.png", main_lr=2e-5)
    score_figures.cross_task_heatmap(
        nested(models, tasks, ["ce", "perce"],
               lambda m, t, me: {d: 0.3 - 0.1 * (d != t) + 0.01 * (me == "perce") for d in tasks}),
        tmp_path / "cross.png")
    score_figures.aloe_by_round(
        nested(models, tasks, ["ce", "perce"], lambda m, t, me: per_round(me)),
        tmp_path / "aloe.png")
    sizes = {name: assert_png(tmp_path / f"{name}.png") for name in ("curves", "lr", "cross",
                                                                     "aloe")}
    assert sizes["curves"][1] > sizes["lr"][1]  # six (model, task) rows of panels
    assert no_data_calls == []


def test_flat_training_logs_are_one_facet(tmp_path):
    """A notebook can pass {run label: rows}; labels name the loss they are coloured by."""
    logs = {"qwen3-4b/review/perce/lr2e-05": log_rows("perce"), "ce": log_rows("ce"),
            "my experiment": log_rows("x")}
    training_figures.training_curves(logs, tmp_path / "flat.png")
    assert_png(tmp_path / "flat.png")
    assert figure_style.method_key("qwen3-4b/review/perce/lr2e-05") == "perce"
    assert figure_style.method_key("my experiment") is None


def test_partly_missing_data_is_drawn_and_marked(tmp_path, no_data_calls):
    logs = {"M": {"PAG": {"ce": log_rows("ce"), "perce": []},  # PerCE not trained yet
                  "PRW": {"ce": None, "perce": [{"step": 1, "train_loss": 2.0}]}}}
    training_figures.training_curves(logs, tmp_path / "curves.png")
    assert no_data_calls == [figure_style.NO_DATA] * 3  # the PRW row: all three panels

    no_data_calls.clear()
    lr = {"M": {"PAG": {"ce": {1e-5: 0.2, 2e-5: None}, "perce": {1e-5: None, 2e-5: None}},
                "PRW": {"ce": {1e-5: None}, "perce": {}}}}
    score_figures.lr_robustness(lr, tmp_path / "lr.png", main_lr=1e-5)
    assert no_data_calls == [figure_style.NO_DATA]  # PRW

    no_data_calls.clear()
    cross = {"M": {"PAG": {"ce": {"PAG": 0.3, "PRW": None}, "perce": {"PAG": None}},
                   "PRW": {"ce": {"PAG": None, "PRW": 0.25}, "perce": {}}}}
    score_figures.cross_task_heatmap(cross, tmp_path / "cross.png")
    assert no_data_calls == [figure_style.NO_DATA] * 2  # PerCE panel, and so the difference

    no_data_calls.clear()
    aloe = {"M": {"PAG": {"ce": per_round("ce", null_round=2), "perce": None},
                  "PRW": {"ce": [{"round": k, "mean": None} for k in (1, 2)], "perce": None}},
            "N": {"PAG": {"ce": None}}}
    score_figures.aloe_by_round(aloe, tmp_path / "aloe.png", rounds=10)
    assert no_data_calls == [figure_style.NO_DATA]  # model N
    for name in ("curves", "lr", "cross", "aloe"):
        assert_png(tmp_path / f"{name}.png")


def test_empty_inputs_still_give_a_figure(tmp_path, no_data_calls):
    training_figures.training_curves({}, tmp_path / "a.png")
    score_figures.lr_robustness({}, tmp_path / "b.png", empty_text="nothing yet")
    score_figures.cross_task_heatmap({}, tmp_path / "c.png", empty_text="cross-task is off")
    score_figures.aloe_by_round({}, tmp_path / "d.png", empty_text="ALOE is off")
    for name in "abcd":
        assert_png(tmp_path / f"{name}.png")
    assert "cross-task is off" in no_data_calls and "ALOE is off" in no_data_calls


def test_values_that_cannot_be_plotted_are_gaps():
    assert math.isnan(figure_style.as_float(None)) and math.isnan(figure_style.as_float("n/a"))
    assert score_figures._round_means([{"round": 1, "mean": None}, {"round": 2, "mean": 3}]) == {
        1: pytest.approx(math.nan, nan_ok=True), 2: 3.0}
    assert score_figures._cell_text(math.nan, False) == score_figures.DASH_CELL
    assert score_figures._cell_text(0.0123, True) == "+0.012"


# --------------------------------------------------------------------------- the script

def test_script_writes_exactly_the_rule_outputs(repo, cfg, tmp_path, monkeypatch):
    fake_results(cfg, tmp_path / "results")
    run_script(repo, monkeypatch, cfg, tmp_path / "results", tmp_path / "figs")
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == sorted(
        f"{f}.png" for f in FIGURES)
    for name in FIGURES:
        assert_png(tmp_path / "figs" / f"{name}.png")


def test_script_with_half_the_runs_missing(repo, cfg, tmp_path, monkeypatch, no_data_calls):
    fake_results(cfg, tmp_path / "results", keep=lambda i: i % 2 == 0)
    run_script(repo, monkeypatch, cfg, tmp_path / "results", tmp_path / "figs")
    for name in FIGURES:
        assert_png(tmp_path / "figs" / f"{name}.png")


def test_script_before_anything_ran_and_with_stages_off(repo, cfg, tmp_path, monkeypatch,
                                                        no_data_calls):
    off = copy.deepcopy(cfg)
    off["evaluation"]["cross_task"] = False
    off["evaluation"]["aloe"]["enabled"] = False
    run_script(repo, monkeypatch, off, tmp_path / "nothing", tmp_path / "figs")
    for name in FIGURES:
        assert_png(tmp_path / "figs" / f"{name}.png")
    assert "cross-task evaluation is off in this config" in no_data_calls
    assert "ALOE evaluation is off in this config" in no_data_calls


def test_script_restricts_training_curves_to_the_main_lr_and_clip(repo, cfg, tmp_path):
    fake_results(cfg, tmp_path)
    logs = results.training_logs(cfg, tmp_path)
    assert set(logs) == {"Tiny-Llama", "Tiny-B"}
    assert set(logs["Tiny-B"]) == {"PAG", "PRW", "PTW"}  # no LaMP task
    assert set(logs["Tiny-B"]["PAG"]) == set(cfg["training"]["methods"])
    # only main runs wrote logs in fake_results, and every one of them is found
    assert all(logs[m][t][me] for m in logs for t in logs[m] for me in logs[m][t])


def test_script_plots_each_method_at_its_own_learning_rates(repo, cfg, tmp_path):
    """Methods outside lr_grid_methods run at the main LR only: one point, no phantom runs."""
    cfg = copy.deepcopy(cfg)
    cfg["training"]["lr_grid_methods"] = ["ce", "perce"]
    pc.check_config(cfg)
    fake_results(cfg, tmp_path)
    scores = results.lr_scores(cfg, tmp_path)["Tiny-Llama"]["PAG"]
    assert set(scores["perce"]) == set(cfg["training"]["learning_rates"])
    assert list(scores["lossce"]) == [cfg["training"]["main_learning_rate"]]
    assert all(v is not None for per_method in scores.values() for v in per_method.values())


# --------------------------------------------------------------------------- scales

def _scaled_lines(fig):
    """(axes, gid, line) of every data line the LR figure drew (gid ``method|scale:...``)."""
    return [(ax, line.get_gid(), line) for ax in fig.axes for line in ax.get_lines()
            if (line.get_gid() or "").count("|scale:")]


def test_lr_robustness_never_joins_points_of_different_scales(tmp_path):
    V = results.Value
    pipe = results.PIPELINE
    lrs = [1e-5, 2e-5, 5e-5]
    # PerCE: full scale at the main LR and the last one, a one-step run in between
    scores = {"M": {"PAG": {
        "perce": {1e-5: V(0.30), 2e-5: V(0.10, scale=pipe), 5e-5: V(0.28)},
        "ce": {lr: V(0.2, scale=pipe) for lr in lrs}}}}
    scale_at = {("perce", 1e-5): "", ("perce", 2e-5): pipe, ("perce", 5e-5): "",
                **{("ce", lr): pipe for lr in lrs}}
    labels = {pipe: "pipeline scale (1 optimizer step)"}
    fig = score_figures.lr_robustness(scores, tmp_path / "lr.png", main_lr=1e-5,
                                      scale_labels=labels)
    lines = _scaled_lines(fig)
    assert lines
    for _, gid, line in lines:
        method, scale = gid.split("|scale:")
        xs = [x for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
              if not math.isnan(y)]
        assert xs and {scale_at[(method, x)] for x in xs} == {scale}, gid
        assert (line.get_markerfacecolor() == "none") == (scale == pipe), gid
    # the full-scale PerCE line has a gap where the one-step point is
    full = next(line for _, gid, line in lines if gid == "perce|scale:")
    assert math.isnan(list(full.get_ydata())[1])
    legend = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "hollow: pipeline scale (1 optimizer step)" in legend
    assert_png(tmp_path / "lr.png")


def test_a_one_point_lr_panel_spans_a_decade(tmp_path):
    fig = score_figures.lr_robustness({"M": {"PAG": {"perce": {3e-4: 0.25}, "ce": {3e-4: 0.2}}}},
                                      tmp_path / "one.png", main_lr=3e-4)
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    assert ax.get_xscale() == "log"
    assert low < 3e-4 < high and high / low == pytest.approx(10.0)


def test_training_curves_draw_other_scale_runs_hollow(tmp_path):
    logs = {"M": {"PAG": {"ce": results.Rows(log_rows("ce"), results.PIPELINE),
                          "perce": results.Rows(log_rows("perce"))}}}
    fig = training_figures.training_curves(
        logs, tmp_path / "c.png", scale_labels={results.PIPELINE: "pipeline scale (1 step)"})
    lines = [line for ax in fig.axes for line in ax.get_lines()
             if (line.get_gid() or "").startswith("scale:")]
    hollow = {line.get_gid() for line in lines if line.get_markerfacecolor() == "none"}
    assert hollow == {f"scale:{results.PIPELINE}"}
    assert any(line.get_gid() == "scale:" for line in lines)
    legend = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "hollow: pipeline scale (1 step)" in legend


def test_cross_task_heatmap_hatches_other_scale_cells(tmp_path):
    V, other = results.Value, results.PIPELINE_EVAL
    tasks = ["PAG", "PRW"]
    scores = {"M": {src: {m: {dst: V(0.3 if src == dst else 0.1, scale="" if src == dst
                                   else other) for dst in tasks} for m in ("ce", "perce")}
                    for src in tasks}}
    fig = score_figures.cross_task_heatmap(scores, tmp_path / "x.png",
                                           scale_labels={other: "pipeline-scale evaluation"})
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 3  # CE, PerCE, PerCE - CE
    for ax in panels:
        hatched = [p for p in ax.patches if p.get_gid() == "other-scale"]
        assert len(hatched) == 2 and all(p.get_hatch() for p in hatched)
        assert {(p.get_x() + 0.5, p.get_y() + 0.5) for p in hatched} == {(1.0, 0.0), (0.0, 1.0)}
        data = ax.images[0].get_array()
        assert data.mask[0, 1] and data.mask[1, 0]  # not coloured as results
        assert not data.mask[0, 0] and not data.mask[1, 1]
    legend = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "hatched: pipeline-scale evaluation" in legend


def test_figure_inputs_carry_each_points_scale(repo, cfg, tmp_path):
    cfg = copy.deepcopy(cfg)
    cfg["training"]["pipeline_scale"] = {"max_steps": 1, "n_test": 4}
    cfg["training"]["full_scale_methods"] = ["ce", "perce"]
    fake_results(cfg, tmp_path)
    main, other = cfg["training"]["main_learning_rate"], cfg["training"]["learning_rates"][1]
    lr = results.lr_scores(cfg, tmp_path)["Tiny-Llama"]["PAG"]
    assert lr["perce"][main].scale == results.FULL
    assert lr["perce"][other].scale == results.PIPELINE
    assert lr["lossce"][main].scale == results.PIPELINE
    cross = results.cross_task_scores(cfg, tmp_path)["Tiny-Llama"]["PAG"]["perce"]
    assert cross["PAG"].scale == results.FULL and cross["PRW"].scale == results.PIPELINE_EVAL
    logs = results.training_logs(cfg, tmp_path)["Tiny-Llama"]["PAG"]
    assert logs["perce"].scale == results.FULL and logs["lossce"].scale == results.PIPELINE


# --------------------------------------------------------------------------- what each series is
# A reader matches a line to a method or task through the legend: its colour, its line style.
# These tests do the same on the artists, with inputs whose numbers differ for every (task,
# method), so a figure that draws CE's numbers in PerCE's colour, or one task's in another's
# panel, fails here (a valid PNG with many colours would not).

def legend_entries(fig) -> dict:
    """Figure-legend text -> its handle."""
    return {text.get_text(): handle for leg in fig.legends
            for text, handle in zip(leg.get_texts(), leg.legend_handles, strict=True)}


def hex_of(color) -> str:
    return mcolors.to_hex(color)


def panel(fig, title: str):
    """The one axes titled ``title``."""
    found = [ax for ax in fig.axes if ax.get_title() == title]
    assert len(found) == 1, (title, [ax.get_title() for ax in fig.axes])
    return found[0]


def drawn(ax, colors) -> dict[tuple[str, str], tuple[list, list]]:
    """(colour, line style) -> (x, y) of every line drawn in one of ``colors``."""
    out = {}
    for line in ax.get_lines():
        key = (hex_of(line.get_color()), line.get_linestyle())
        if key[0] in colors:
            assert key not in out, f"two lines drawn as {key}"
            out[key] = ([float(x) for x in line.get_xdata()], [float(y) for y in line.get_ydata()])
    return out


def assert_series(got: dict, expected: dict) -> None:
    """The same series (keys), each with exactly the expected points (NaN = a gap)."""
    assert set(got) == set(expected)
    for key, (xs, ys) in expected.items():
        assert got[key][0] == pytest.approx(xs, nan_ok=True), key
        assert got[key][1] == pytest.approx(ys, nan_ok=True), key


def style_of(entries: dict, label: str) -> tuple[str, str]:
    """(colour, line style) of a legend entry."""
    handle = entries[label]
    return hex_of(handle.get_color()), handle.get_linestyle()


def run_log(steps: int, loss: float, weight: float, clip: float) -> list[dict]:
    """Per-step rows with numbers offset by the run's own ``loss`` / ``weight`` / ``clip``, then
    the trainer's summary row (which no curve may draw)."""
    rows = [{"step": s, "loss": loss - 0.1 * s, "weight_mean": weight + 0.01 * s,
             "frac_clip_min": clip + 0.02 * s, "frac_clip_max": clip / 2 + 0.001 * s}
            for s in range(1, steps + 1)]
    return [*rows, {"step": steps, "train_loss": 9.0}]


TRAIN_LOGS = {"M": {"PAG": {"ce": run_log(3, 3.0, 1.0, 0.10), "perce": run_log(4, 2.0, 1.5, 0.30)},
                    "PRW": {"ce": run_log(2, 5.0, 0.7, 0.05),
                            "perce": run_log(5, 4.0, 1.9, 0.20)}}}


def curve_values(rows: list[dict], at_max: str, at_min: str) -> dict[str, dict[str, list]]:
    """Panel -> line style -> the values a run's per-step rows should put there."""
    return {"training loss": {"-": [r["loss"] for r in rows]},
            "mean token weight": {"-": [r["weight_mean"] for r in rows]},
            "clipped tokens": {at_max: [r["frac_clip_max"] for r in rows],
                               at_min: [r["frac_clip_min"] for r in rows]}}


def test_training_curves_draw_each_runs_own_log(tmp_path):
    fig = training_figures.training_curves(TRAIN_LOGS, tmp_path / "c.png")
    entries = legend_entries(fig)
    color = {me: style_of(entries, LABELS[me])[0] for me in ("ce", "perce")}
    at_max, at_min = (style_of(entries, f"clipped at {b}")[1] for b in ("max M", "min m"))
    for task, runs in TRAIN_LOGS["M"].items():
        per_step = {me: [r for r in rows if "loss" in r] for me, rows in runs.items()}
        for title in ("training loss", "mean token weight", "clipped tokens"):
            expected = {(color[me], ls): ([r["step"] for r in rows], ys)
                        for me, rows in per_step.items()
                        for ls, ys in curve_values(rows, at_max, at_min)[title].items()}
            assert_series(drawn(panel(fig, f"{task}: {title}"), set(color.values())), expected)


def marker_log(steps: int, pir: float, weight: float) -> list[dict]:
    rows = [{"step": s, "loss": 2.0, "n_marker_tokens": 7,
             "pir_marker_mean": pir + 0.3 * s, "pir_other_mean": pir / 4 + 0.01 * s,
             "weight_marker_mean": weight + 0.2 * s, "weight_other_mean": weight / 2 + 0.02 * s}
            for s in range(1, steps + 1)]
    return [*rows, {"step": steps, "train_loss": 2.0}]


ESTEP_LOGS = {"M": {"PAG": {"ce": marker_log(3, 0.4, 1.0), "perce": marker_log(4, 0.9, 1.4),
                            "lossce": run_log(3, 3.0, 1.0, 0.0)},  # no marker statistics
                    "PRW": {"ce": marker_log(2, -0.2, 0.6), "perce": marker_log(5, 1.7, 2.2)}}}


def test_estep_markers_draw_each_runs_marker_and_other_means(tmp_path):
    fig = training_figures.estep_markers(ESTEP_LOGS, tmp_path / "e.png", clip=(0.8, 5.0))
    entries = legend_entries(fig)
    assert "LossCE" not in entries  # nothing drawn for a run without marker statistics
    color = {me: style_of(entries, LABELS[me])[0] for me in ("ce", "perce")}
    group_ls = {g: style_of(entries, words)[1] for g, words in (("marker", "marker tokens"),
                                                                ("other", "other response tokens"))}
    for task, runs in ESTEP_LOGS["M"].items():
        for key, title in training_figures.ESTEP_PANELS:
            expected = {(color[me], group_ls[g]): (
                [r["step"] for r in runs[me] if "loss" in r],
                [r[f"{key}_{g}_mean"] for r in runs[me] if "loss" in r])
                for me in color for g in group_ls}
            ax = panel(fig, f"{task}: {title}")
            assert_series(drawn(ax, set(color.values())), expected)
            assert len(ax.get_lines()) == len(expected) + (key == "pir")  # + the PIR = 0 line


LR_SCORES = {"M1": {"PAG": {"ce": {1e-5: 0.21, 2e-5: 0.25, 5e-5: 0.18},
                            "perce": {1e-5: 0.31, 2e-5: None, 5e-5: 0.29},
                            "lossce": {2e-5: 0.24}},  # the main LR only
                    "PRW": {"ce": {1e-5: 0.11, 2e-5: 0.12}, "perce": {1e-5: 0.14, 2e-5: 0.16}}},
             "M2": {"PAG": {"ce": {2e-5: 0.40}, "perce": {2e-5: 0.45}}}}


def test_lr_robustness_draws_each_methods_scores_at_their_lrs(tmp_path):
    fig = score_figures.lr_robustness(LR_SCORES, tmp_path / "lr.png", main_lr=2e-5)
    entries = legend_entries(fig)
    style = {me: style_of(entries, label) for me, label in LABELS.items()
             if label in entries}
    assert set(style) == {"ce", "perce", "lossce"}
    for model, per_task in LR_SCORES.items():
        for task, per_method in per_task.items():
            lrs = sorted({lr for series in per_method.values() for lr in series})
            expected = {style[me]: (lrs, [math.nan if series.get(lr) is None else series[lr]
                                          for lr in lrs])
                        for me, series in per_method.items()}
            ax = panel(fig, f"{model} · {task}")
            assert_series(drawn(ax, {c for c, _ in style.values()}), expected)


CROSS = {"M": {src: {me: {dst: round(0.1 * (i + 1) + 0.01 * (j + 1) + (0.3 if me == "perce"
                                                                           else 0.0), 4)
                          for j, dst in enumerate(["PAG", "PRW", "PTW"])}
                     for me in ("ce", "perce")}
               for i, src in enumerate(["PAG", "PRW", "PTW"])}}
CROSS["M"]["PRW"]["perce"]["PTW"] = None  # not evaluated yet: a dash, no colour


def heatmap_cells(ax) -> dict[tuple[str, str], tuple[float, str, bool]]:
    """(source row label, target column label) -> (image value, cell text, bold) per cell."""
    rows = [t.get_text() for t in ax.get_yticklabels()]
    cols = [t.get_text() for t in ax.get_xticklabels()]
    image = ax.images[0].get_array().filled(math.nan)
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    assert image.shape == (len(rows), len(cols)) and len(texts) == image.size
    return {(src, dst): (float(image[i, j]), texts[i, j].get_text(),
                         texts[i, j].get_fontweight() == "bold")
            for i, src in enumerate(rows) for j, dst in enumerate(cols)}


def test_cross_task_heatmap_cells_carry_each_methods_scores(tmp_path):
    fig = score_figures.cross_task_heatmap(CROSS, tmp_path / "x.png")
    scores = CROSS["M"]

    def cell(me, src, dst):
        return math.nan if scores[src][me][dst] is None else scores[src][me][dst]

    for me in ("ce", "perce"):
        cells = heatmap_cells(panel(fig, LABELS[me]))
        assert set(cells) == {(s, d) for s in scores for d in scores[s][me]}
        for (src, dst), (value, text, bold) in cells.items():
            want = cell(me, src, dst)
            assert value == pytest.approx(want, nan_ok=True), (me, src, dst)
            assert text == (score_figures.DASH_CELL if math.isnan(want) else format(want, ".3g"))
            assert bold == (src == dst)
    for (src, dst), (value, text, _) in heatmap_cells(panel(fig, "PerCE − CE")).items():
        want = cell("perce", src, dst) - cell("ce", src, dst)
        assert value == pytest.approx(want, nan_ok=True), (src, dst)
        assert text == (score_figures.DASH_CELL if math.isnan(want) else format(want, "+.2g"))


def aloe_rounds(means) -> list[dict]:
    return [{"round": k, "mean": m, "n": 4} for k, m in enumerate(means, start=1)]


ALOE = {"M1": {"PAG": {"ce": aloe_rounds([2.0, 2.1, None, 2.3]),
                       "perce": aloe_rounds([2.5, 2.9, 3.4, 3.8])},
               "PRW": {"ce": aloe_rounds([1.5, 1.4, 1.6]),  # round 4 not scored
                       "perce": aloe_rounds([3.0, 3.1, 3.3, 3.6])}},
        "M2": {"PAG": {"ce": aloe_rounds([4.0, 3.9, 3.8, 3.7]), "perce": None}}}


def test_aloe_by_round_draws_each_task_and_methods_means(tmp_path):
    fig = score_figures.aloe_by_round(ALOE, tmp_path / "a.png", rounds=4)
    entries = legend_entries(fig)
    color = {task: style_of(entries, task)[0] for task in ("PAG", "PRW")}
    ls = {me: style_of(entries, LABELS[me])[1] for me in ("ce", "perce")}
    assert len(set(color.values())) == 2 and len(set(ls.values())) == 2
    for model, per_task in ALOE.items():
        expected = {(color[task], ls[me]): (
            [1.0, 2.0, 3.0, 4.0],
            [math.nan if m is None else m for m in [r["mean"] for r in rows] + [None] * 4][:4])
            for task, runs in per_task.items() for me, rows in runs.items() if rows}
        assert_series(drawn(panel(fig, model), set(color.values())), expected)


def distinct_results(cfg, root) -> dict:
    """Every run's log and metrics with numbers of its own (``code`` per run, also the clip-grid
    and off-LR runs the figures must leave out); returns run -> code."""
    codes = {}
    for i, (run, tasks) in enumerate(plan.evaluations(cfg).items(), start=1):
        codes[run] = i
        log = layout.in_results("run_log", root, run)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("".join(json.dumps({"step": s, "loss": i + 0.01 * s, "weight_mean": 1.0,
                                           "frac_clip_min": 0.0, "frac_clip_max": 0.0}) + "\n"
                               for s in (1, 2)))
        for j, task in enumerate(tasks):
            write_json(layout.in_results("metrics", root, run, eval_task=task),
                       {"rouge_l": round(0.001 * i + 0.1 * j, 4)})
    return codes


def test_rule_builders_draw_each_main_runs_own_results(repo, cfg, tmp_path):
    """Through the rule's builders (results/ -> readers -> figures): each facet and method
    shows the main run's log and scores, never a clip-grid or another LR's run."""
    from percontrast.report import render

    codes = distinct_results(cfg, tmp_path)
    curves = render.training_curves(cfg, tmp_path, tmp_path / "c.png")
    color = {me: style_of(legend_entries(curves), LABELS[me])[0]
             for me in cfg["training"]["methods"]}
    cross = render.cross_task_heatmap(cfg, tmp_path, tmp_path / "x.png")
    for model in cfg["models"]:
        for task in cfg["tasks"]:
            facet = " · ".join(results.label(cfg, k, n) for k, n in (("model", model),
                                                                     ("task", task)))
            expected = {(color[me], "-"): ([1.0, 2.0], [codes[plan.main_run(cfg, model, task, me)]
                                                        + 0.01 * s for s in (1, 2)])
                        for me in color}
            assert_series(drawn(panel(curves, f"{facet}: training loss"), set(color.values())),
                          expected)
        for me in cfg["evaluation"].get("cross_task_methods", ["ce", "perce"]):
            cells = heatmap_cells(panel(cross, f"{results.label(cfg, 'model', model)}: "
                                               f"{LABELS[me]}"))
            for src in cfg["tasks"]:
                run = plan.main_run(cfg, model, src, me)
                for j, dst in enumerate(plan.evaluations(cfg)[run]):
                    if dst in cfg["tasks"]:
                        key = (results.label(cfg, "task", src), results.label(cfg, "task", dst))
                        assert cells[key][0] == pytest.approx(0.001 * codes[run] + 0.1 * j), key
