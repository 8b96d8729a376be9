"""Run ids read back as exactly the learning rate they were made from (the trainer reads the LR
back from the id), so no two configured LRs share a run folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from percontrast import config as pc
from percontrast import plan

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("lr", [3e-4, 1e-3, 2e-5, 1.23456789e-4, 1.0000001e-3, 0.1 + 0.2])
def test_a_run_id_round_trips_its_learning_rate_exactly(lr):
    run = plan.TrainRun("m", "t", "perce", lr, 0.8, 5.0)
    parsed = plan.TrainRun.parse("m", "t", "perce", run.run_id)
    assert parsed.lr == lr and parsed == run


def test_the_usual_learning_rates_keep_their_short_ids():
    assert plan.TrainRun("m", "t", "ce", 3e-4, 0.8, 5.0).run_id == "lr0.0003_clip0.8-5"
    assert plan.TrainRun("m", "t", "ce", 2e-5, 0.8, 5.0, seed=43).run_id == \
        "lr2e-05_clip0.8-5_seed43"


def test_learning_rates_that_differ_in_the_seventh_digit_are_two_runs(repo):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg["training"]["learning_rates"] = [1e-3, 1.0000001e-3, 1.23456789e-4]
    cfg["training"]["main_learning_rate"] = 1e-3
    runs = [r for r in plan.train_runs(cfg) if r.method == "ce" and r.task == cfg["tasks"][0]
            and r.seed is None and (r.clip_min, r.clip_max) == tuple(cfg["training"]["clip"])]
    assert sorted(r.lr for r in runs) == sorted(cfg["training"]["learning_rates"])
    assert len({r.run_id for r in runs}) == 3


@pytest.mark.parametrize("config", ["config.yaml", "configs/tiny.yaml", "configs/paper.yaml",
                                    "configs/cpu-full.yaml", "configs/shared-samples.yaml"])
def test_every_planned_run_id_matches_the_workflow_wildcard(config):
    """The {run} wildcard's constraint is plan.RUN_ID_PATTERN: every run a config plans fits it,
    and a folder of another shape does not."""
    runs = plan.train_runs(pc.load_config(REPO / config))
    assert runs and all(re.fullmatch(plan.RUN_ID_PATTERN, r.run_id) for r in runs)
    assert not re.fullmatch(plan.RUN_ID_PATTERN, "lr0.0003_clip0.8-5_seedX")
    assert not re.fullmatch(plan.RUN_ID_PATTERN, "checkpoints")
