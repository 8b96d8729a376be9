"""The report of "is it the tokens?": control claims, seed-covering intervals in claims.md,
table_controls, table_reply_shape and figure_controls, each on hand-made result files with a
known answer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from percontrast import config as pc
from percontrast import layout, plan
from percontrast.reply_shape import cut_to_words, persona_sentences, reply_shape
from percontrast.report.claims import HOLDS, INCONCLUSIVE, NOT_RUN, build_claims

CONTROLS = ["ce", "perce", "perce_shuffled", "perce_normalized"]
#: persona words per reply added to each method's base, per seed (PerCE and normalized gain,
#: shuffled does not; the seed effects are equal across methods so the gains are exact)
EFFECT = {"ce": 0.0, "perce": 1.0, "perce_shuffled": 0.0, "perce_normalized": 0.8}


@pytest.fixture
def cfg(repo):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg["report"]["bootstrap"] = {"n_resamples": 2000}
    cfg["evaluation"]["dialogue"]["methods"] = CONTROLS
    return cfg


def write_spc(cfg, root, seeds_effect=(0.0,)):
    """Metrics files of every dialogue run (and each of its seeds) on 40 test turns."""
    rng = np.random.default_rng(1)
    words = rng.poisson(0.5, 40).astype(float)
    rouge = rng.uniform(0.1, 0.3, 40)
    for run in plan.dialogue_runs(cfg):
        for k, seed_run in enumerate(plan.seed_runs(cfg, run)):
            shift = EFFECT[run.method] + seeds_effect[k % len(seeds_effect)]
            rows = [{"id": f"spc-{i}", "rouge_l": rouge[i] * (1 - 0.1 * EFFECT[run.method]),
                     "meteor": rouge[i] / 2, "persona_words": words[i] + shift,
                     "placebo_words": 0.1, "persona_lift": words[i] + shift - 0.1,
                     "grounded_recall": 0.5, "persona_hits1": 0.2} for i in range(40)]
            path = layout.in_results("metrics", root, seed_run, eval_task="spc")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"persona_words": float(words.mean() + shift),
                                        "rouge_l": float(rouge.mean()), "n": 40,
                                        "examples": rows}))


def by_id(claims):
    return {c.id: c for c in claims}


def test_control_claims_decide_the_selection_with_one_seed(cfg, tmp_path):
    write_spc(cfg, tmp_path)
    claims = by_id(build_claims(cfg, tmp_path))
    shuffled = claims["control_shuffled_persona_words_tiny-llama_spc"]
    assert shuffled.estimate.value == pytest.approx(1.0) and shuffled.verdict == HOLDS
    assert "1 training seed" in shuffled.covers
    normalized = claims["control_normalized_persona_words_tiny-llama_spc"]
    assert normalized.estimate.value == pytest.approx(0.8) and normalized.verdict == HOLDS
    rouge = claims["control_normalized_rouge_l_tiny-llama_spc"]
    # ROUGE-L scaled by 1 - 0.1 x effect: normalized / PerCE = 0.92 / 0.90 - 1
    assert rouge.estimate.value == pytest.approx(0.92 / 0.90 - 1)
    # the marker controls: tiny trains no control on the demo tasks
    marker = claims["control_shuffled_markers_tiny-llama_abstract-review-topic"]
    assert marker.verdict == NOT_RUN and "PerCE-shuffled not trained here" in marker.note


def test_with_seeds_the_interval_covers_seeds_and_says_so(cfg, tmp_path):
    """Three seeds whose effects differ by seed (+0, +1.5, -1.5 on every method alike): the
    gains stay exact, the seed-to-seed SD of the gain is 0, and the covers column names the seeds
    and the examples. A seed effect on PerCE alone widens the interval into inconclusive."""
    cfg["training"]["seeds"] = [0, 1, 2]
    write_spc(cfg, tmp_path, seeds_effect=(0.0, 1.5, -1.5))
    c = by_id(build_claims(cfg, tmp_path))["control_shuffled_persona_words_tiny-llama_spc"]
    assert c.estimate.value == pytest.approx(1.0)
    assert c.estimate.n_seeds == 3 and c.estimate.interval == "seeds x examples"
    assert c.covers.startswith("3 training seeds x 40 test turns")
    assert c.estimate.seed_sd == pytest.approx(0.0, abs=1e-9)
    # now PerCE's seeds disagree: +3, -1, +1 on top of its effect (mean +1, SD 2)
    for k, seed_run in enumerate(plan.seed_runs(cfg, plan.main_run(cfg, "tiny-llama", "spc",
                                                                     "perce"))):
        path = layout.in_results("metrics", tmp_path, seed_run, eval_task="spc")
        data = json.loads(path.read_text())
        for row in data["examples"]:
            row["persona_words"] += (2.0, -2.0, 0.0)[k]
        path.write_text(json.dumps(data))
    c = by_id(build_claims(cfg, tmp_path))["control_shuffled_persona_words_tiny-llama_spc"]
    assert c.estimate.seed_sd == pytest.approx(2.0)
    assert c.verdict == INCONCLUSIVE  # t(2) with a seed SD of 2 cannot place the mean above 0
    words = by_id(build_claims(cfg, tmp_path))["spc_persona_words_tiny-llama_spc"]
    assert "3 training seeds" in words.covers and words.estimate.df < 3


def test_reply_shape_on_hand_made_pairs():
    persona = ["I have a turtle named timothy.", "Autumn is my favorite season."]
    out = reply_shape("hello i have a turtle named timothy and more words here", "hello there",
                      persona, n_tokens=40, finished=False)
    assert out["length"] == 40 and out["at_cap"] == 1.0 and out["persona_repeat"] == 1.0
    # precision: 1 of 11 reply words is in the reference; recall: 1 of 2 reference words
    assert out["rouge_l_precision"] == pytest.approx(1 / 11)
    assert out["rouge_l_recall"] == pytest.approx(1 / 2)
    # length-matched: the reply cut to 2 words ("hello i") against "hello there": P = R = 1/2
    assert out["rouge_l_matched"] == pytest.approx(0.5)
    short = reply_shape("hello there", "hello there", persona, n_tokens=3, finished=True)
    assert short["rouge_l_matched"] == 1.0 and short["at_cap"] == 0.0
    assert short["persona_repeat"] == 0.0
    assert cut_to_words("a b  c d", 3) == "a b c"


def test_persona_sentences_prefer_spcs_own_persona():
    class R:
        meta = {"persona": ["I am an old man.", "Hi."]}
        profile = ["something else entirely here"]
    assert persona_sentences(R()) == ["I am an old man."]

    class P:
        meta = {}
        profile = ["First sentence is long enough. Short one. Another long sentence here."]
    assert persona_sentences(P()) == ["First sentence is long enough.",
                                      "Another long sentence here."]


def test_table_and_figure_of_the_controls_show_the_arms_numbers(cfg, tmp_path):
    from percontrast.report.controls import figure_controls, table_controls

    write_spc(cfg, tmp_path)
    for method in CONTROLS:  # training logs: PerCE-like methods weigh more than CE
        run = plan.main_run(cfg, "tiny-llama", "spc", method)
        path = layout.in_results("run_log", tmp_path, run)
        path.parent.mkdir(parents=True, exist_ok=True)
        mean = {"ce": 1.0, "perce_normalized": 1.0}.get(method, 1.5)
        path.write_text(json.dumps({"step": 1, "weight_mean": mean, "frac_clip_min": 0.2,
                                    "frac_clip_max": 0.0, "response_tokens": 10}) + "\n" +
                        json.dumps({"step": 2, "weight_mean": mean + 0.3, "frac_clip_min": 0.4,
                                    "frac_clip_max": 0.1, "response_tokens": 30}) + "\n")
    table = table_controls(cfg, tmp_path)
    rows = {r[2]: r for r in table.rows if r[1] == "SPC"}
    assert list(rows) == ["CE", "PerCE", "PerCE-shuffled", "PerCE-normalized"]
    assert float(rows["PerCE"][5]) == pytest.approx(float(rows["CE"][5]) + 1.0)
    # token-weighted over steps: (1.5 x 10 + 1.8 x 30) / 40
    assert rows["PerCE"][7] == pytest.approx((1.5 * 10 + 1.8 * 30) / 40)
    assert rows["CE"][8] == pytest.approx((0.2 * 10 + 0.4 * 30) / 40)
    fig = figure_controls(cfg, tmp_path, tmp_path / "controls.png")
    bars = fig.plotted["SPC (persona words)"]
    assert bars["PerCE"][0] - bars["CE"][0] == pytest.approx(1.0)
    assert bars["PerCE-normalized"][0] - bars["CE"][0] == pytest.approx(0.8)
    drawn = sorted(round(p.get_height(), 6) for p in fig.axes[0].patches)
    assert drawn == sorted(round(v[0], 6) for v in bars.values())
    assert (tmp_path / "controls.png").stat().st_size > 0
