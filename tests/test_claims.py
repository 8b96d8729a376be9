"""The claims verdict on fabricated result files: holds / contradicted / inconclusive / not run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from percontrast import config as pc
from percontrast import layout, plan
from percontrast.report.claims import (
    CONTRADICTED,
    HOLDS,
    INCONCLUSIVE,
    NOT_RUN,
    build_claims,
    render_markdown,
    verdict,
    write_claims,
)
from percontrast.stats import Estimate, bootstrap


@pytest.fixture
def cfg(repo):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg["report"]["bootstrap"] = {"n_resamples": 2000}
    cfg["report"]["pipeline_scale"] = ["table4"]
    return cfg


def est(low, high):
    return Estimate((low + high) / 2, low, high, 0.5, 10, 100, 0.95)


def test_verdict_from_the_interval_alone():
    assert verdict(est(0.1, 0.3)) == HOLDS
    assert verdict(est(-0.3, -0.1)) == CONTRADICTED
    assert verdict(est(-0.1, 0.3)) == INCONCLUSIVE
    assert verdict(None) == NOT_RUN
    assert verdict(Estimate(0.2, None, None, None, 1, 0, 0.95)) == INCONCLUSIVE
    assert verdict(est(-0.3, -0.1), direction=-1) == HOLDS  # "lower is better" claims


def write_metrics(root, run, task, rows):
    path = layout.in_results("metrics", root, run, eval_task=task)
    path.parent.mkdir(parents=True, exist_ok=True)
    mean = {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0] if k != "id"}
    path.write_text(json.dumps({**mean, "n_marker_recall": len(rows), "examples": rows}))


def fabricate(cfg, root, effect):
    """Every run of the grid on 24 test examples per task. ``effect(task)`` is how PerCE's
    per-example ROUGE-L and marker recall move against CE's: "up", "down" or "noise"."""
    rng = np.random.default_rng(0)
    base = {t: rng.uniform(0.2, 0.4, 24) for t in cfg["tasks"]}
    for run, tasks in plan.evaluations(cfg).items():
        for task in tasks:
            if task not in base:
                continue
            x = base[task].copy()
            if run.method == "perce":
                kind = effect(task)
                x = x + (0.05 if kind == "up" else -0.05 if kind == "down" else
                         rng.normal(0, 0.1, 24))
            rows = [{"id": f"{task}-{k}", "rouge_l": v, "meteor": v / 2, "marker_recall": v,
                     "own_markers": 2 * v, "leaked_markers": 0.0} for k, v in enumerate(x)]
            write_metrics(root, run, task, rows)


def by_id(claims):
    return {c.id: c for c in claims}


def test_consistent_gains_hold_and_missing_files_are_not_run(cfg, tmp_path):
    fabricate(cfg, tmp_path, lambda task: "up")
    claims = by_id(build_claims(cfg, tmp_path))
    assert claims["table1_avg_rouge_l_tiny-llama"].verdict == HOLDS
    assert claims["table1_avg_meteor_tiny-llama"].verdict == HOLDS
    for task in cfg["tasks"]:
        c = claims[f"markers_recall_tiny-llama_{task}"]
        assert c.verdict == HOLDS and c.estimate.value == pytest.approx(0.05)
        assert c.estimate.n == 24
    assert claims["markers_recall_tiny-llama_all"].estimate.n == 72
    assert claims["table3_off_diagonal_tiny-llama"].verdict == HOLDS
    # nothing for ALOE, the PIR benchmark or the step benchmark: not run, files named
    for cid in ("table4_aloe_tiny-llama", "figure4_pir_f1_tiny-llama", "bench_step_cost"):
        assert claims[cid].verdict == NOT_RUN and claims[cid].missing, cid
    assert claims["table4_aloe_tiny-llama"].pipeline_scale
    md = render_markdown(cfg, list(claims.values()))
    assert "**holds**" in md and "**not run** (pipeline scale)" in md
    assert "results" not in md.split("Notes:")[0].split("| # |")[0]  # no paths in the header


def test_losses_are_contradicted_and_noise_is_inconclusive(cfg, tmp_path):
    fabricate(cfg, tmp_path, lambda task: {"abstract": "down", "review": "noise",
                                           "topic": "down"}[task])
    claims = by_id(build_claims(cfg, tmp_path))
    assert claims["markers_recall_tiny-llama_abstract"].verdict == CONTRADICTED
    assert claims["markers_recall_tiny-llama_review"].verdict == INCONCLUSIVE
    assert claims["table1_avg_rouge_l_tiny-llama"].verdict == CONTRADICTED


def test_task_gap_and_lr_variance_claims(cfg, tmp_path):
    """PRW/PTW gain more than PAG: holds when only they gain; the LR-variance claim compares
    each method's spread over the two learning rates of the grid."""
    fabricate(cfg, tmp_path, lambda task: "down" if task == "abstract" else "up")
    claims = by_id(build_claims(cfg, tmp_path))
    gap = claims["table1_prw_ptw_over_pag_tiny-llama"]
    assert gap.verdict == HOLDS and gap.estimate.value > 0
    # every LR gives CE the same scores and PerCE the same shifted ones: both variances are 0
    lr = claims["table2_lr_variance_tiny-llama"]
    assert lr.estimate.value == pytest.approx(0) and lr.verdict == INCONCLUSIVE


def test_pir_claim_from_token_rows(cfg, tmp_path):
    rows = []
    for a in range(20):  # PerContrast finds both personal tokens, word matching one of them
        for i, gold in enumerate([True, True, False, False]):
            found = gold or (i == 3 and a % 5 == 0)
            rows.append({"id": f"q{a}", "gold": gold,
                         "kind": ("verbatim" if i == 0 else "paraphrase") if gold else None,
                         "split": "test", "pir_removed": 2.0 if found else 0.0,
                         "percontrast": found, "word_matching": gold and i == 0})
    path = layout.in_results("pir_scores", tmp_path, model="tiny-llama")
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    claims = by_id(build_claims(cfg, tmp_path))
    claim = claims["figure4_pir_f1_tiny-llama"]
    # PerContrast: tp 40 fp 4 fn 0 -> F1 80/84; word matching: tp 20, fn 20 -> F1 40/60
    assert claim.estimate.value == pytest.approx(80 / 84 - 40 / 60)
    assert claim.verdict == HOLDS and claim.estimate.n == 20
    # every answer in the test split: no dev answer to choose PIR's threshold on
    dev = claims["figure4_pir_f1_dev_tiny-llama"]
    assert dev.estimate is None and "no threshold to choose" in dev.note


def test_write_claims_writes_markdown_and_json(cfg, tmp_path):
    fabricate(cfg, tmp_path, lambda task: "up")
    write_claims(cfg, tmp_path, tmp_path / "claims.md", tmp_path / "claims.json")
    data = json.loads((tmp_path / "claims.json").read_text())
    assert data["bootstrap"]["n_resamples"] == 2000
    verdicts = {c["id"]: c["verdict"] for c in data["claims"]}
    assert verdicts["markers_recall_tiny-llama_all"] == HOLDS
    text = (tmp_path / "claims.md").read_text()
    assert text.count("\n| ") == len(data["claims"]) + 1  # header + one row per claim
    assert "Summary:" in text


def test_aloe_needs_every_task_and_small_sets_give_notes(cfg, tmp_path):
    """ALOE conversations for one of three tasks: not run (not a verdict from a third of the
    evidence); a marker claim on too few examples is inconclusive, with no interval."""
    for method, score in (("ce", 2), ("perce", 4)):
        path = tmp_path / "aloe" / plan.main_run(cfg, "tiny-llama", "review", method).path
        path.mkdir(parents=True)
        rows = [{"id": f"c{k}", "turns": [{"round": r, "score": score} for r in (1, 2)]}
                for k in range(12)]
        (path / "conversations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    claims = by_id(build_claims(cfg, tmp_path))
    aloe = claims["table4_aloe_tiny-llama"]
    assert aloe.verdict == NOT_RUN and any("abstract" in m for m in aloe.missing)
    for method in ("ce", "perce"):
        rows = [{"id": f"{k}", "rouge_l": 0.2, "meteor": 0.1, "marker_recall": 0.1 + (
            method == "perce") * 0.2, "own_markers": 1.0, "leaked_markers": 0.0}
            for k in range(3)]
        write_metrics(tmp_path, plan.main_run(cfg, "tiny-llama", "review", method), "review", rows)
    marker = by_id(build_claims(cfg, tmp_path))["markers_recall_tiny-llama_review"]
    assert marker.estimate.value == pytest.approx(0.2) and marker.estimate.low is None
    assert marker.verdict == INCONCLUSIVE


def test_cost_claim_reads_the_step_benchmark(cfg, tmp_path):
    bench = {"model": "smollm2-135m", "methods": {
        method: {"step_times_s": times, "measured_step_times_s": times, "device": "cpu"}
        for method, times in (("ce", [8.6, 8.7, 8.8, 8.7, 8.65, 8.75] * 2),
                              ("perce", [9.1, 9.2, 9.3, 9.2, 9.15, 9.25] * 2))}}
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "step.json").write_text(json.dumps(bench))
    cost = by_id(build_claims(cfg, tmp_path))["bench_step_cost"]
    assert cost.estimate.value == pytest.approx(9.2 / 8.7 - 1.10, abs=1e-3)
    assert cost.verdict == HOLDS and cost.p_value < 0.01  # p against "at least 1.10"


def test_cost_claim_pairs_the_steps_that_processed_the_same_batches(cfg, tmp_path):
    """Step times follow the batches' lengths (3.7 s vs 5.1 s here) far more than the method
    (PerCE 5% slower on every batch): resampled unpaired the interval spans 1.10, paired it
    decides."""
    ce = [3.7, 3.8, 5.0, 5.1, 3.9, 3.8, 3.7, 4.0, 5.3, 5.1, 3.8, 3.9]
    perce = [t * 1.05 + 0.01 * (k % 3 - 1) for k, t in enumerate(ce)]
    bench = {"model": "smollm2-135m", "steps": 8, "warmup": 2, "methods": {
        "ce": {"measured_step_times_s": ce, "step_times_s": [], "device": "cpu"},
        "perce": {"measured_step_times_s": perce, "step_times_s": [], "device": "cpu"}}}
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "step.json").write_text(json.dumps(bench))
    cost = by_id(build_claims(cfg, tmp_path))["bench_step_cost"]
    assert cost.estimate.value == pytest.approx(sum(perce) / sum(ce) - 1.10, abs=1e-9)
    assert cost.verdict == HOLDS and "resampled paired" in cost.covers
    assert "PerCE / CE = 1.050" in cost.note
    unpaired = bootstrap([ce, perce], lambda a, b, axis=-1: np.mean(b, axis=axis)
                         / np.mean(a, axis=axis) - 1.10, paired=False, n_resamples=2000, seed=0)
    assert verdict(unpaired, direction=-1) == INCONCLUSIVE  # why the claim pairs them
    bench["methods"]["perce"]["measured_step_times_s"] = perce[:-2]  # counts differ: unpaired
    (tmp_path / "bench" / "step.json").write_text(json.dumps(bench))
    assert "resampled independently" in by_id(build_claims(cfg, tmp_path))[
        "bench_step_cost"].covers


# --------------------------------------------------------------------------- real dialogue, Holm

def test_spc_claims_read_the_dialogue_runs(cfg, tmp_path):
    cfg["evaluation"]["dialogue"]["methods"] = ["ce", "perce"]  # the controls: their own tests
    runs = plan.dialogue_runs(cfg)
    assert {r.method for r in runs} == {"ce", "perce"} and {r.task for r in runs} == {"spc"}
    rng = np.random.default_rng(1)
    words = rng.poisson(0.3, 40).astype(float)
    rouge = rng.uniform(0.1, 0.3, 40)
    for run in runs:
        up = run.method == "perce"
        rows = [{"id": f"spc-{k}", "rouge_l": rouge[k], "meteor": rouge[k] / 2,
                 "persona_words": words[k] + (1.0 if up else 0.0),
                 "placebo_words": 0.1, "persona_lift": words[k] + (1.0 if up else 0.0) - 0.1,
                 "grounded_recall": None if k % 4 else 0.5,
                 "persona_hits1": 0.1 + (0.3 if up else 0.0)} for k in range(40)]
        path = layout.in_results("metrics", tmp_path, run, eval_task="spc")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"rouge_l": float(rouge.mean()), "persona_candidates": 10,
                                    "n": 40, "examples": rows}))
    claims = by_id(build_claims(cfg, tmp_path))
    words_claim = claims["spc_persona_words_tiny-llama_spc"]
    assert words_claim.verdict == HOLDS
    assert words_claim.estimate.value == pytest.approx(1.0)
    assert words_claim.estimate.n == 40
    assert "40 test turns resampled" in words_claim.covers
    assert "1 training seed" in words_claim.covers
    assert claims["spc_persona_hits1_tiny-llama_spc"].estimate.value == pytest.approx(0.3)
    assert "k = 10" in claims["spc_persona_hits1_tiny-llama_spc"].note
    rouge_claim = claims["spc_rouge_l_tiny-llama_spc"]
    assert rouge_claim.estimate.value == pytest.approx(0.0)  # identical ROUGE-L rows
    assert rouge_claim.verdict == INCONCLUSIVE
    md = render_markdown(cfg, list(claims.values()))
    assert "Interval covers" in md and "Holm-adjusted" in md


def test_spc_claims_say_not_run_without_the_arm(cfg, tmp_path):
    cfg["evaluation"]["dialogue"] = {"tasks": [], "models": [], "methods": ["ce", "perce"]}
    claims = [c for c in build_claims(cfg, tmp_path) if c.stage == "table_spc"]
    assert claims and all(c.verdict == NOT_RUN for c in claims)
    assert all("configs/cpu-full.yaml" in c.note for c in claims)


def _claim_with_p(p, value=1.0):
    from percontrast.report.claims import Claim

    low, high = (0.1, 2.0) if value > 0 else (-2.0, -0.1)
    return Claim(f"c{p}", "table1", "s", "src", "paper", "x",
                 estimate=Estimate(value, low, high, p, 20, 1000, 0.95))


def test_holm_adjusts_over_the_family_and_leaves_not_run_out():
    from percontrast.report.claims import Claim, holm, two_sided_p

    # one-sided p 0.001, 0.01, 0.02 -> two-sided 0.002, 0.02, 0.04; Holm with m = 3:
    # 0.006, max(0.006, 0.04) = 0.04, max(0.04, 0.04) = 0.04
    claims = [_claim_with_p(0.02), _claim_with_p(0.001), _claim_with_p(0.01),
              Claim("none", "table1", "s", "src", "paper", "x")]
    assert two_sided_p(claims[0]) == pytest.approx(0.04)
    holm(claims)
    assert claims[1].holm_p == pytest.approx(0.006)
    assert claims[2].holm_p == pytest.approx(0.04)
    assert claims[0].holm_p == pytest.approx(0.04)
    assert [c.holm_verdict for c in claims[:3]] == [HOLDS, HOLDS, HOLDS]
    assert claims[3].holm_verdict is None and claims[3].holm_p is None
    # a fourth claim at one-sided p 0.015 makes m = 4: 0.008, 0.06 ... -> only the first holds
    more = [_claim_with_p(0.02), _claim_with_p(0.001), _claim_with_p(0.01), _claim_with_p(0.015)]
    holm(more)
    assert more[1].holm_verdict == HOLDS
    assert [more[k].holm_verdict for k in (0, 2, 3)] == [INCONCLUSIVE] * 3
    # a claim decided against its direction stays contradicted after the adjustment
    against = [_claim_with_p(0.999, value=-1.0)]
    holm(against)
    assert against[0].holm_verdict == CONTRADICTED
