"""Editing the config reruns only what the edit changes.

Each case takes a copy of a finished tiny DAG (the session's ``tiny_run``), edits one setting and
asks Snakemake what it would do (``--summary``: every output, whether it exists, whether it is
planned). A planned output that already exists is a rerun: only the rules the edit really
affects may have one. Adding a learning rate must not retrain the finished runs (the defect that
once threw away every run: ``train`` received the whole ``training`` section as a param).
"""

from __future__ import annotations

import copy
import csv
import io
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, TINY_CONFIG, snakemake

REPORT = {"tables", "claims", "figures", "index"}
# the first test of a session builds tiny_run (the whole DAG) inside its own time limit
pytestmark = pytest.mark.timeout(1800)


def plan(directory: Path, cfg: dict | None, snakefile: Path | None = None
         ) -> tuple[set[str], set[str]]:
    """(rules that would rerun an existing output, rules that would make a new one)."""
    if cfg is None:  # the config file the DAG ran with
        path = TINY_CONFIG
    else:  # results/index.md prints the config file's name: only `index` may rerun for that
        path = directory / "edited.yaml"
        path.write_text(yaml.safe_dump(cfg))
    args = ("--configfile", str(path), "--summary")
    if snakefile is None:
        result = snakemake(*args, cwd=directory, timeout=300)
    else:
        result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(snakefile), "-d",
                                 str(directory), *args], capture_output=True, text=True,
                                timeout=300, cwd=directory)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = list(csv.DictReader(io.StringIO(result.stdout[result.stdout.index("output_file"):]),
                               delimiter="\t"))
    assert rows, result.stdout[-2000:]
    planned = [r for r in rows if r["plan"] == "update pending"]
    reruns = {r["rule"] for r in planned if r["status"] != "missing"}
    new = {r["rule"] for r in planned if r["status"] == "missing"}
    return reruns, new


def _add_lr(cfg):
    cfg["training"]["learning_rates"].append(2.0e-3)


def _add_method(cfg):
    cfg["evaluation"]["cross_task_methods"] = ["ce", "perce", "lossce"]


def _add_task(cfg):
    cfg["tasks"].append("lamp4")


def _add_clip(cfg):
    cfg["training"]["clip_grid"]["clip_max"].append(3.0)


def _add_llm(cfg):
    cfg["llm"]["remote"] = {"backend": "openai", "model": "some-model",
                            "base_url": "http://127.0.0.1:9/v1"}


def _retitle(cfg):
    cfg["report"]["title"] = "another title"


def _longer_generations(cfg):
    cfg["generation"]["max_new_tokens"] += 4


# edit -> (rules allowed to rerun an existing output, new rules that must be planned)
CASES: dict[str, tuple[Callable[[dict], None], set[str], set[str]]] = {
    "add a learning rate": (_add_lr, REPORT, {"train", "generate", "score"}),
    "add a method": (_add_method, REPORT, {"generate", "score"}),
    "add a task": (_add_task, REPORT, {"train", "generate", "score", "aloe"}),
    "add a clip_grid point": (_add_clip, REPORT, {"train", "generate", "score"}),
    "add an llm entry": (_add_llm, {"index"}, set()),
    "change report.title": (_retitle, REPORT, set()),
    "change generation.max_new_tokens": (
        _longer_generations, REPORT | {"generate", "score", "llm_judge", "aloe"}, set()),
}


@pytest.fixture
def finished(tiny_run, tmp_path) -> Path:
    """A private copy of the finished tiny DAG (outputs, logs and Snakemake's metadata)."""
    assert tiny_run.result.returncode == 0, tiny_run.result.stderr[-3000:]
    copy_ = tmp_path / "run"
    shutil.copytree(tiny_run.directory, copy_, symlinks=True)
    return copy_


@pytest.mark.slow
def test_the_finished_dag_has_nothing_to_rerun(finished):
    reruns, new = plan(finished, None)
    assert reruns == set() and new == set()


@pytest.mark.slow
def test_a_moved_clone_reruns_nothing(finished, tmp_path):
    """The scripts' folder is not a param: the same workflow from another place plans nothing."""
    moved = tmp_path / "moved clone"
    for part in ("workflow", "scripts", "src", "envs"):
        shutil.copytree(REPO / part, moved / part, ignore=shutil.ignore_patterns("__pycache__"))
    reruns, new = plan(finished, None, snakefile=moved / "workflow" / "Snakefile")
    assert reruns == set() and new == set()


@pytest.mark.slow
@pytest.mark.parametrize("edit", list(CASES))
def test_an_edit_reruns_only_what_it_changes(finished, edit):
    change, may_rerun, must_add = CASES[edit]
    cfg = copy.deepcopy(yaml.safe_load(TINY_CONFIG.read_text()))
    change(cfg)
    reruns, new = plan(finished, cfg)
    assert reruns <= may_rerun, f"{edit}: reruns finished {sorted(reruns - may_rerun)} jobs"
    assert must_add <= new, f"{edit}: plans no new {sorted(must_add - new)} jobs"
    if edit == "add an llm entry":  # index: it names the edited config file
        assert reruns <= {"index"} and new == set()
    if edit == "change generation.max_new_tokens":  # generation and what reads it rerun
        assert {"generate", "score"} <= reruns and "train" not in reruns
    if edit == "change report.title":
        assert reruns and "train" not in new
