"""PIR figures (2, 4, 5 and the PR curves): the numbers each labelled series carries.

Every input here has different numbers for every model, method, counterfactual and token, and
each test reads them back from the matplotlib artists the way a reader does, through the
legend, bar labels, tick labels and colours: a figure that draws word matching's bars under
PerContrast's label, one model's curve in another's panel or a token in another token's colour
fails, where a check of the PNG alone would pass.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib import colors as mcolors

from percontrast import pir_methods
from percontrast.report import pir_figures, render


def hex_of(color) -> str:
    return mcolors.to_hex(color)


def prf(precision: float, recall: float, f1: float, n_tokens: int = 40, n_gold: int = 8) -> dict:
    return {"precision": precision, "recall": recall, "f1": f1, "n_tokens": n_tokens,
            "n_gold": n_gold}


def variant(curve: tuple[list, list], ap: float, at: dict, dev: dict | None = None) -> dict:
    """One counterfactual's entry of ``classification.json["variants"]``."""
    out = {"pr_curve": {"recall": curve[0], "precision": curve[1]}, "average_precision": ap,
           "at_threshold": at}
    return out if dev is None else {**out, "test_at_dev_threshold": dev}


def classification(k: float, judge: bool = True) -> dict:
    """A classification.json whose every number is offset by ``k`` (one per PIR model)."""
    cls = {"percontrast": prf(0.60 + k, 0.70 + k, 0.65 + k, n_tokens=40 + int(100 * k)),
           "word_matching": prf(0.90 - k, 0.30 + k, 0.45 + k),
           "threshold": 1.0, "n_answers": 12 + int(100 * k),
           "variants": {
               "removed": variant(([0.25, 0.5 + k, 1.0], [0.9, 0.7 - k, 0.4]), 0.71 + k,
                                  prf(0.62 + k, 0.55, 0.58, n_tokens=50, n_gold=10),
                                  dev=prf(0.66, 0.51 + k, 0.57)),
               "filler": variant(([0.125, 0.75, 1.0], [0.8 - k, 0.6, 0.3]), 0.52 + k,
                                 prf(0.44, 0.35 + k, 0.39))},  # no dev split: no x mark
           "baselines": {"word_matching": {"at_threshold": prf(0.88 - k, 0.31, 0.46 + k)},
                         "llm_judge": {"at_threshold": prf(0.57, 0.64 - k, 0.60)}}}
    if judge:
        cls["llm_judge"] = prf(0.55 + k, 0.45, 0.50 - k)
    return cls


RESULTS = {"model-a": classification(0.0), "model-b": classification(0.05, judge=False)}


def model_axes(fig, model: str):
    found = [ax for ax in fig.axes if ax.get_title().startswith(f"{model}:")]
    assert len(found) == 1, [ax.get_title() for ax in fig.axes]
    return found[0]


# --------------------------------------------------------------------------- figure 4: bars

def bars_of(ax) -> dict[str, dict[str, float]]:
    """Method label -> {tick label under the bar: bar height}, from the labelled containers."""
    ticks = {round(t.get_position()[0]): t.get_text() for t in ax.get_xticklabels()}
    return {bars.get_label(): {ticks[round(p.get_x() + p.get_width() / 2)]: p.get_height()
                               for p in bars.patches}
            for bars in ax.containers}


def test_classification_bars_carry_each_methods_scores(tmp_path):
    fig = pir_figures.pir_classification_bars(RESULTS, tmp_path / "bars.png")
    for model, cls in RESULTS.items():
        ax = model_axes(fig, model)
        methods = [m for m in pir_methods.PAPER_METHODS if m.name in cls]
        assert bars_of(ax) == {m.label: {"Precision": pytest.approx(cls[m.name]["precision"]),
                                         "Recall": pytest.approx(cls[m.name]["recall"]),
                                         "F1": pytest.approx(cls[m.name]["f1"])}
                               for m in methods}
        for bars in ax.containers:  # the colour the legend gives the label, on every bar
            method = next(m for m in methods if m.label == bars.get_label())
            assert {hex_of(p.get_facecolor()) for p in bars.patches} == {method.color}
        # each bar's printed value sits on that bar
        printed = {(round(t.xy[0], 6), t.get_text()) for t in ax.texts}
        assert printed == {(round(p.get_x() + p.get_width() / 2, 6), f"{p.get_height():.2f}")
                           for bars in ax.containers for p in bars.patches}
        assert f"{cls['percontrast']['n_tokens']} tokens" in ax.get_title()
    legend = model_axes(fig, "model-a").get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [m.label for m in
                                                           pir_methods.PAPER_METHODS]


# --------------------------------------------------------------------------- PR curves

def lines_of(ax) -> dict[tuple[str, str], list[tuple[list, list]]]:
    """(colour, marker) -> the (x, y) of each line drawn so."""
    out: dict = {}
    for line in ax.get_lines():
        key = (hex_of(line.get_color()), str(line.get_marker()))
        out.setdefault(key, []).append(([float(x) for x in line.get_xdata()],
                                        [float(y) for y in line.get_ydata()]))
    return out


def test_pr_curves_carry_each_counterfactuals_curve_and_points(tmp_path):
    fig = pir_figures.pir_pr_curves(RESULTS, tmp_path / "pr.png")
    for model, cls in RESULTS.items():
        ax = model_axes(fig, model)
        labelled = {line.get_label(): line for line in ax.get_lines()
                    if not line.get_label().startswith("_")}
        drawn = lines_of(ax)
        for name, v in cls["variants"].items():
            cf = pir_methods.COUNTERFACTUAL_BY_NAME[name]
            curve = labelled.pop(f"{cf.label} (AP {v['average_precision']:.2f})")
            assert hex_of(curve.get_color()) == cf.color
            assert list(curve.get_xdata()) == pytest.approx([0.0, *v["pr_curve"]["recall"]])
            assert list(curve.get_ydata()) == pytest.approx([1.0, *v["pr_curve"]["precision"]])
            at = v["at_threshold"]
            assert drawn[cf.color, "o"] == [([at["recall"]], [at["precision"]])]
            dev = v.get("test_at_dev_threshold")
            assert drawn.get((cf.color, "x")) == (
                None if dev is None else [([dev["recall"]], [dev["precision"]])])
        for name, b in cls["baselines"].items():
            method, at = pir_methods.BY_NAME[name], b["at_threshold"]
            point = labelled.pop(f"{pir_methods.baseline_label(name, with_lemmas=True)} "
                                 f"(F1 {at['f1']:.2f})")
            assert (hex_of(point.get_color()), point.get_marker()) == (method.point_color,
                                                                       method.marker)
            assert (list(point.get_xdata()), list(point.get_ydata())) == (
                [pytest.approx(at["recall"])], [pytest.approx(at["precision"])])
        assert labelled == {}  # nothing else is labelled
        first = cls["variants"]["removed"]["at_threshold"]  # chance: the share of gold tokens
        (chance,) = drawn["#808080", "None"]
        assert chance[1] == pytest.approx([first["n_gold"] / first["n_tokens"]] * 2)
        assert f"({cls['n_answers']} answers)" in ax.get_title()


# --------------------------------------------------------------------------- figure 5

THRESHOLD = 1.0
#: (PIR, gold, how many): per PIR range a different number of correct and wrong tokens; 1.0
#: and 0.0 sit on range edges (a range includes its upper edge; PIR 1.0 is not > 1.0).
HIST_TOKENS = [(-2.0, False, 5), (-1.5, True, 1), (-0.5, False, 4), (0.0, True, 2),
               (0.25, False, 3), (1.0, False, 6), (0.75, True, 1), (1.5, True, 7),
               (1.8, False, 2), (2.5, True, 3), (4.0, True, 2), (4.5, False, 1), (9.0, True, 4)]
#: per range (≤-1, (-1,0], (0,.5], (.5,1], (1,2], (2,3], (3,5], >5): correct and wrong counts
HIST_CORRECT = [5, 4, 3, 6, 7, 3, 2, 4]
HIST_WRONG = [1, 2, 0, 1, 2, 0, 1, 0]


def hist_tokens() -> list[dict]:
    return [{"pir": pir, "gold": gold} for pir, gold, n in HIST_TOKENS for _ in range(n)]


def test_histogram_stacks_each_ranges_correct_and_wrong_tokens(tmp_path):
    fig = pir_figures.pir_histogram(hist_tokens(), THRESHOLD, tmp_path / "h.png")
    (ax,) = fig.axes
    bars = {c.get_label(): c.patches for c in ax.containers}
    assert set(bars) == {"correctly classified", "incorrectly classified"}
    correct, wrong = bars["correctly classified"], bars["incorrectly classified"]
    assert [p.get_height() for p in correct] == HIST_CORRECT
    assert [p.get_height() for p in wrong] == HIST_WRONG
    assert [p.get_y() for p in wrong] == HIST_CORRECT  # stacked on the correct ones
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "≤-1", "(-1, 0]", "(0, 0.5]", "(0.5, 1]", "(1, 2]", "(2, 3]", "(3, 5]", ">5"]
    shares = {(round(t.get_position()[0]), t.get_position()[1]): t.get_text()
              for t in ax.texts if t.get_text().endswith("%")}
    assert shares == {(i, c + w): f"{c / (c + w):.0%}"
                      for i, (c, w) in enumerate(zip(HIST_CORRECT, HIST_WRONG, strict=True))}
    (split,) = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert list(split.get_xdata()) == [3.5, 3.5]  # between (0.5, 1] and (1, 2]
    assert any(t.get_text() == "threshold 1" for t in ax.texts)


# --------------------------------------------------------------------------- figure 2

ANSWERS = [[{"token": "I", "pir": -3.0, "gold": False}, {"token": " love", "pir": 0.4,
                                                          "gold": False},
            {"token": " jazz", "pir": 3.5, "gold": True}, {"token": " ", "pir": 9.0,
                                                           "gold": False}],
           [{"token": "My", "pir": 1.2, "gold": False}, {"token": " cat", "pir": 2.2,
                                                          "gold": True},
            {"token": " Tom", "pir": -1.0, "gold": True}]]


def test_heatmap_colours_each_token_by_its_pir_and_underlines_gold(tmp_path):
    vmax = 4.0
    fig = pir_figures.pir_heatmap(ANSWERS, tmp_path / "hm.png", vmax=vmax)
    ax = fig.axes[0]
    cmap = plt.get_cmap("RdBu_r")
    norm = mcolors.TwoSlopeNorm(vmin=-vmax, vcenter=0.0, vmax=vmax)
    texts = sorted(ax.texts, key=lambda t: (t.get_position()[1], t.get_position()[0]))
    tokens = [(row, tok) for row, answer in enumerate(ANSWERS) for tok in answer]
    assert len(texts) == len(tokens)
    for text, (row, tok) in zip(texts, tokens, strict=True):
        assert text.get_position()[1] == row
        assert text.get_text() == (tok["token"].strip() or "·")
        pir = max(-vmax, min(vmax, tok["pir"]))
        assert text.get_bbox_patch().get_facecolor() == pytest.approx(cmap(norm(pir)))
        assert text.get_color() == ("white" if abs(tok["pir"]) > 0.6 * vmax else "black")
    # every underline starts where a gold token of its row starts, and every gold token has one
    underlined = []
    for line in ax.get_lines():
        row, x0 = round(line.get_ydata()[0] - 0.32), line.get_xdata()[0]
        in_row = [(t, tok) for t, (r, tok) in zip(texts, tokens, strict=True) if r == row]
        text, tok = min(in_row, key=lambda pair: abs(pair[0].get_position()[0] - x0))
        assert text.get_position()[0] == pytest.approx(x0, abs=1e-3)
        underlined.append(tok)
    assert underlined == [tok for _, tok in tokens if tok["gold"]]

# --------------------------------------------------------------------------- the rule's builders

def test_pir_builders_draw_the_main_models_tokens_and_threshold(tmp_path):
    """Figures 2 and 5 show the main (first) model with its own threshold; the heat-map takes
    the first ``n_heatmap`` answers that have a gold token."""
    tokens = [{"id": a, "token": f"t{a}{i}", "pir": 0.5 * i, "gold": a in ("b", "d", "e") and i}
              for a in "abcde" for i in range(3)]
    main = {**classification(0.0), "threshold": 0.75}
    pir = render.PirInputs({"main": main, "other": classification(0.1)}, "main", tokens,
                           n_heatmap=2)
    heatmap = render.pir_heatmap_figure(pir, tmp_path / "2.png")
    shown = sorted(heatmap.axes[0].texts, key=lambda t: (t.get_position()[1],
                                                         t.get_position()[0]))
    assert [t.get_text() for t in shown] == ["tb0", "tb1", "tb2", "td0", "td1", "td2"]
    hist = render.pir_histogram_figure(pir, tmp_path / "5.png")
    assert any(t.get_text() == "threshold 0.75" for t in hist.axes[0].texts)
    assert sum(p.get_height() for c in hist.axes[0].containers for p in c.patches) == len(tokens)
    assert "(main)" in hist.axes[0].get_title()
