"""Adding a method is its registry record and its weight rule, nothing else: a toy method,
registered here, is planned, trains a step with the real trainer, fills table 1's rows and is
drawn in the training figure in its own colour."""

from __future__ import annotations

import json

import pytest
import torch

from percontrast import config as pc
from percontrast import layout, losses, methods, plan
from percontrast.models import load_prepared
from percontrast.pir import PairCollator
from percontrast.prompts import encode_record
from percontrast.training import PerCEConfig, PerCETrainer
from tests.test_training import make_records

TOY = methods.Method("toyce", "ToyCE", "#123456", "-.", description="weight 2 on every token")


@pytest.fixture
def toy():
    methods.register(TOY)
    losses.register_rule("toyce", lambda logp, mask, lo, hi, inputs: torch.full_like(logp, 2.0))
    yield TOY
    methods.unregister("toyce")
    losses.WEIGHT_RULES.pop("toyce", None)


def test_a_registered_method_is_planned_and_trains(toy, repo, tiny_dir, tmp_path):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg["training"]["methods"] = ["ce", "toyce"]
    runs = plan.train_runs(cfg)
    assert {r.method for r in runs} >= {"ce", "toyce"}
    import re

    assert re.fullmatch(methods.wildcard_pattern(), "toyce")
    weights = losses.token_weights("toyce", torch.zeros(1, 3), mask=torch.tensor([[0, 1, 1]]))
    assert weights.tolist() == [[0.0, 2.0, 2.0]]

    model, tok = load_prepared(tiny_dir, device="cpu")
    pairs = [encode_record(tok, r) for r in make_records(2)]
    args = PerCEConfig(output_dir=str(tmp_path), per_device_train_batch_size=2, max_steps=1,
                       use_cpu=True, report_to="none", save_strategy="no", seed=0,
                       disable_tqdm=True, weighting="toyce", logging_steps=1)
    trainer = PerCETrainer(model=model, args=args, train_dataset=pairs,
                           data_collator=PairCollator(tok.pad_token_id))
    trainer.train()
    logged = [row for row in trainer.state.log_history if "weight_mean" in row]
    assert logged and logged[0]["weight_mean"] == pytest.approx(2.0)


def test_a_registered_method_reaches_table1_and_the_training_figure(toy, repo, tmp_path):
    from percontrast.report.paper_tables import table1
    from percontrast.report.render import training_curves

    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg["training"]["methods"] = ["ce", "perce", "toyce"]
    cfg["report"]["bootstrap"] = {"n_resamples": 2000}
    for run in plan.train_runs(cfg):
        if run.lr != cfg["training"]["main_learning_rate"]:
            continue
        for task in plan.evaluations(cfg)[run]:
            path = layout.in_results("metrics", tmp_path, run, eval_task=task)
            path.parent.mkdir(parents=True, exist_ok=True)
            score = 0.3 if run.method == "toyce" else 0.2
            rows = [{"id": f"{task}-{k}", "rouge_l": score, "meteor": score} for k in range(12)]
            path.write_text(json.dumps({"rouge_l": score, "meteor": score, "examples": rows}))
        log = layout.in_results("run_log", tmp_path, run)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(json.dumps({"step": 1, "loss": 1.0, "weight_mean": 2.0,
                                   "frac_clip_min": 0.0, "frac_clip_max": 0.0}) + "\n")
    methods_listed = [r[1] for r in table1(cfg, tmp_path).rows]
    assert "ToyCE" in methods_listed
    fig = training_curves(cfg, tmp_path, tmp_path / "curves.png")
    toy_lines = [line for ax in fig.axes for line in ax.get_lines()
                 if line.get_color() == "#123456"]
    assert toy_lines  # drawn in its registry colour (line styles there mean the clip bound)
