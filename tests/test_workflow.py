"""The Snakemake workflow: planning for every config, lint, config errors, and a real tiny run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from percontrast import artefacts
from percontrast.config import load_config
from percontrast.data.records import read_records
from percontrast.plan import (
    aloe_runs,
    dialogue_runs,
    evaluations,
    judge_runs,
    task_data,
    train_runs,
)

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "workflow" / "Snakefile"
TABLE_NAMES = artefacts.base_table_names()
#: this project's own tables: no paper companion
OWN_TABLES = tuple(a.name for a in artefacts.base_tables() if a.companion is None)
PIR_FIGURES = artefacts.figure_names("pir_figures")
RUN_FIGURES = artefacts.figure_names("figures")


def snakemake(*args: str, cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(cwd), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)


def planned_jobs(output: str) -> dict[str, int]:
    """Job counts per rule from a dry run's 'Job stats' table."""
    stats = output[output.index("Job stats:"):]
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, flags=re.MULTILINE)}


@pytest.mark.parametrize("config", ["config.yaml", "configs/tiny.yaml", "configs/paper.yaml",
                                    "configs/shared-samples.yaml", "configs/cpu-full.yaml"])
def test_the_whole_dag_plans_for_every_config(tmp_path, config):
    result = snakemake("-n", "--cores", "all", "paper", "--configfile", str(REPO / config),
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = planned_jobs(result.stdout)
    cfg = load_config(REPO / config)
    assert jobs["train"] == len(train_runs(cfg))
    rules = ["prepare_model", "load_task", "retrieve", "persona_qa", "pir_benchmark",
             "generate", "score", "tables", "figures", "index"]
    if cfg["evaluation"]["llm_judge"]["enabled"]:
        rules.append("llm_judge")
    if cfg["evaluation"]["aloe"]["enabled"]:
        rules.append("aloe")
    if cfg.get("bench", {}).get("enabled"):
        rules.append("bench_step")
    for rule in rules:
        assert jobs.get(rule, 0) >= 1, rule
    assert not (tmp_path / "data").exists()  # a dry run writes nothing


def test_training_seeds_and_pipeline_scale_plan(tmp_path):
    """Extra training seeds add sibling runs (own-task evaluations only); pipeline_scale gives
    the small runs one step and their evaluations the first test records, in the jobs' params."""
    cfg = yaml.safe_load((REPO / "configs/tiny.yaml").read_text())
    cfg["training"].update(seeds=[0, 5], pipeline_scale={"max_steps": 1, "n_test": 1},
                           full_scale_methods=["ce", "perce"])
    path = tmp_path / "seeds.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = snakemake("-n", "--cores", "1", "-p", "--configfile", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = planned_jobs(result.stdout)
    loaded = load_config(path)
    assert jobs["train"] == len(train_runs(loaded)) == len(train_runs(load_config(
        REPO / "configs/tiny.yaml"))) + 4 * 3 + len(dialogue_runs(loaded))
    out = result.stdout
    seeded = re.search(r"--run (lr0\.001_clip0\.8-5_seed5) .*?--seed (\d+)", out)
    assert seeded and seeded.group(2) == "5"
    assert re.search(r"--method lossce .*?max_steps\\?\": 1", out)  # pipeline-scale run
    assert re.search(r"--method perce --run lr0\.001_clip0\.8-5 .*?max_steps\\?\": 2", out)
    assert "--limit 1" in out and "--limit 0" in out


def test_default_config_is_used_without_configfile(tmp_path):
    (tmp_path / "config.yaml").write_text((REPO / "config.yaml").read_text())
    result = snakemake("-n", "--cores", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert planned_jobs(result.stdout)["prepare_model"] == 1  # smollm2-135m only


def test_lint_is_clean(tmp_path):
    result = snakemake("--lint", cwd=REPO)
    assert result.returncode == 0
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_rules_are_snakefmt_formatted():
    """The Snakemake style the workflow anchors follow (config in pyproject.toml)."""
    result = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "workflow"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


def test_workflow_catalog_and_report_description_exist():
    """The Snakemake workflow catalog's usage file and the report's front page."""
    catalog = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text())
    assert catalog["usage"]["report"] is True
    assert "--configfile" in catalog["usage"]["mandatory-flags"]["desc"]
    snakefile = SNAKEFILE.read_text()
    assert 'report: "report/workflow.rst"' in snakefile
    assert (REPO / "workflow" / "report" / "workflow.rst").stat().st_size > 200


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["training"].__setitem__("learning_rate", 1e-5),
     "Additional properties are not allowed ('learning_rate' was unexpected)"),
    (lambda c: c["data"].__setitem__("n_train", "many"), "'many' is not of type 'integer'"),
    (lambda c: c.__setitem__("models", ["qwen9"]), "models[0]: model 'qwen9' is not in"),
    (lambda c: c["evaluation"]["llm_judge"].pop("judge"),
     "evaluation.llm_judge.judge: required when llm_judge is enabled"),
])
def test_a_bad_config_fails_before_any_job_naming_the_key(tmp_path, edit, message):
    cfg = yaml.safe_load((REPO / "configs/tiny.yaml").read_text())
    edit(cfg)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    result = snakemake("--cores", "1", "--configfile", str(bad), cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr + result.stdout
    # the key path and the message come first, not after a dump of the schema
    error = next(line for line in result.stderr.splitlines() if "invalid config" in line)
    assert message in error and result.stderr.count("\n") < 40
    assert not (tmp_path / "data").exists() and not (tmp_path / "results").exists()


@pytest.mark.slow
@pytest.mark.timeout(1800)  # includes building tiny_run when this is the session's first user
def test_tiny_profile_runs_the_whole_implemented_dag(tiny_run, tmp_path_factory):
    tmp_path, result = tiny_run.directory, tiny_run.result
    # the report goes to this test's own folder: the run's folder is shared with other workers
    report_html = tmp_path_factory.mktemp("report") / "report.html"
    assert result.returncode == 0, result.stderr[-5000:]
    cfg = load_config(REPO / "configs" / "tiny.yaml")
    aloe = cfg["evaluation"]["aloe"]
    n_conv = aloe["n_profiles"] * aloe["n_personalities"]
    # data: every task's processed split holds valid records with top-k profiles
    train = read_records(tmp_path / "data/processed/review/train.jsonl")
    assert len(train) == cfg["data"]["n_train"]
    assert all(len(r.profile) == cfg["data"]["top_k"] for r in train)
    assert all(r.meta["retrieval"]["retriever"] == "bm25" for r in train)
    qa = read_records(tmp_path / "data/processed/drop/test.jsonl")
    assert qa and all(r.task == "drop" for r in qa)
    assert (tmp_path / "data/synthetic/persona_qa.jsonl").stat().st_size > 0
    # training: every run of the grid finished, with its log and a loadable model
    for run in train_runs(cfg):
        folder = tmp_path / "results/train" / run.path
        done = json.loads((folder / "done.json").read_text())
        assert done["method"] == run.method and done["learning_rate"] == run.lr
        assert done["global_step"] == cfg["training"]["max_steps"]
        assert (folder / "model" / "model.safetensors").is_file()
        assert (folder / "log.jsonl").read_text().count('"loss"') == done["global_step"]
    # evaluation: one metrics file per (checkpoint, eval task), with the scores of its kind
    for run, tasks in evaluations(cfg).items():
        for task in tasks:
            m = json.loads((tmp_path / "results/metrics" / run.path / f"{task}.json").read_text())
            keys = ("em", "f1") if task in ("hotpotqa", "drop") else ("rouge_l", "meteor")
            assert all(0 <= m[k] <= 100 for k in keys)
            assert m["n"] == task_data(cfg, task)["n_test"]
            assert m["seed"] == cfg["seed"] and m["config_hash"]
            # per-example scores beside the means (demo long-form tasks: marker metrics too)
            assert len(m["examples"]) == m["n"] and all(k in m["examples"][0] for k in keys)
            assert sum(e[keys[0]] for e in m["examples"]) / m["n"] == pytest.approx(m[keys[0]])
            if task in cfg["tasks"]:
                assert {"marker_recall", "own_markers", "leaked_markers"} <= set(m)
            if run in dialogue_runs(cfg):  # real dialogue: persona use against SPC's personas
                assert {"persona_words", "placebo_words", "persona_lift", "grounded_recall",
                        "persona_hits1"} <= set(m["examples"][0])
                assert m["persona_candidates"] == 10 and m["n_grounded_recall"] >= 1
    # ALOE and the LLM judge: a scores file per run, with per-round entries and the table row
    for run in aloe_runs(cfg):
        scores = json.loads((tmp_path / "results/aloe" / run.path / "scores.json").read_text())
        rounds = cfg["evaluation"]["aloe"]["rounds"]
        assert [r["round"] for r in scores["per_round"]] == list(range(1, rounds + 1))
        assert sum(r["n"] + r["missing"] for r in scores["per_round"]) == rounds * n_conv
        assert scores["method"] == run.method and scores["judge"] == "local"
    for run in judge_runs(cfg):
        judged = json.loads((tmp_path / "results/judge" / f"{run.path}.json").read_text())
        assert judged["n"] == cfg["evaluation"]["llm_judge"]["n"]
        assert judged["personalization"] is None or 20 <= judged["personalization"] <= 100
    # report: every table and its paper companion in three formats, every figure a real PNG
    tables = sorted(p.name for p in (tmp_path / "results/tables").iterdir())
    for name in TABLE_NAMES:  # the marker table is this project's own: no paper companion
        for suffix in ("", "_vs_paper") if name not in OWN_TABLES else ("",):
            for ext in ("csv", "md", "tex"):
                assert f"{name}{suffix}.{ext}" in tables
                assert (tmp_path / "results/tables" / f"{name}{suffix}.{ext}").stat().st_size > 0
    table1 = (tmp_path / "results/tables/table1.md").read_text()
    assert "| Tiny-Llama | PerCE |" in table1 and "Missing runs" not in table1
    for name in ("table4", "table10"):
        assert "Missing runs" not in (tmp_path / f"results/tables/{name}.md").read_text()
    figures = [*PIR_FIGURES, *RUN_FIGURES]
    for fig in figures:
        png = (tmp_path / "results/figures" / f"{fig}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    index = (tmp_path / "results/index.md").read_text()
    assert all(f"({'tables/' + n}.md)" in index for n in TABLE_NAMES)
    assert all(f"(figures/{f}.png)" in index for f in figures)
    assert "--configfile" in index and "configs/tiny.yaml" in index
    # claims.md leads the index and speaks to every claim, each with a computed verdict
    assert index.index("(claims.md)") < index.index("## Tables")
    claims = json.loads((tmp_path / "results/claims.json").read_text())["claims"]
    ids = {c["id"] for c in claims}
    for claim in ("table1_avg_rouge_l", "table1_avg_meteor", "table1_prw_ptw_over_pag",
                  "table2_lr_variance", "table3_off_diagonal", "table4_aloe", "figure4_pir_f1",
                  *[f"markers_recall_tiny-llama_{t}" for t in [*cfg["tasks"], "all"]]):
        assert any(i.startswith(claim) for i in ids), claim
    assert "bench_step_cost" in ids and ran_of(claims, "bench_step_cost") != "not run"
    assert ran_of(claims, "spc_persona_words_tiny-llama_spc") != "not run"
    assert {c["verdict"] for c in claims} <= {"holds", "contradicted", "inconclusive", "not run"}
    ran = {c["id"]: c for c in claims}
    assert ran["table1_avg_rouge_l_tiny-llama"]["estimate"]["n"] == 3 * cfg["data"]["n_test"]
    assert ran["figure4_pir_f1_tiny-llama"]["verdict"] != "not run"
    claims_md = (tmp_path / "results/claims.md").read_text()
    assert claims_md.count("\n| ") == len(claims) + 1
    report = snakemake("--configfile", str(REPO / "configs" / "tiny.yaml"), "--report",
                       str(report_html), cwd=tmp_path, timeout=300)
    assert report.returncode == 0, report.stderr[-3000:]
    assert report_html.stat().st_size > 100_000
    # every rule logged, and a second invocation has nothing to do
    assert any((tmp_path / "logs" / "train").rglob("*.log"))
    again = snakemake("--profile", str(REPO / "profiles" / "ci"), "--configfile",
                      str(REPO / "configs" / "tiny.yaml"), "-n", cwd=tmp_path)
    assert "Nothing to be done" in again.stdout + again.stderr


def ran_of(claims: list[dict], claim_id: str) -> str:
    return next(c["verdict"] for c in claims if c["id"] == claim_id)


def shared_samples_small(shared_data, tmp_path) -> Path:
    """configs/shared-samples.yaml pointed at the real samples, shrunk to a CI-sized run (the
    real loaders, real SmolLM2, every stage; fewer records, one optimizer step, short replies)."""
    cfg = yaml.safe_load((REPO / "configs/shared-samples.yaml").read_text()
                         .replace("../shared/data", str(shared_data)))
    cfg["data"].update(n_train=8, n_test=4)
    cfg["persona_qa"]["n"] = 20
    cfg["training"].update(max_steps=1, per_device_batch_size=4, max_length=384)
    cfg["generation"].update(max_new_tokens=12)
    cfg["evaluation"]["aloe"].update(n_profiles=1, n_personalities=2, rounds=2,
                                     max_new_tokens=12, user_max_new_tokens=12,
                                     judge_max_new_tokens=6)
    path = tmp_path / "shared-small.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow  # the whole DAG with the real SmolLM2: minutes
@pytest.mark.timeout(1800)
def test_real_samples_run_through_the_whole_dag(tmp_path, shared_data):
    """The real SPC, ALOE, HotpotQA and DROP files, through every stage, with the bundled model."""
    config = shared_samples_small(shared_data, tmp_path)
    result = snakemake("--profile", str(REPO / "profiles" / "ci"), "--configfile", str(config),
                       cwd=tmp_path, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    targets = ["data/processed/dialogue/train.jsonl", "data/processed/dialogue/test.jsonl",
               "data/processed/hotpotqa/test.jsonl", "data/processed/drop/test.jsonl",
               "data/processed/aloe/conversations.jsonl"]
    dialogue = read_records(tmp_path / targets[0])
    assert len(dialogue) == 8 and all(r.task == "dialogue" for r in dialogue)
    assert all(r.query.startswith(("User 1:", "User 2:")) for r in dialogue)
    assert all(1 <= len(r.profile) <= 4 for r in dialogue)  # user 1's persona lines, top-4
    hotpot = read_records(tmp_path / targets[2])
    drop = read_records(tmp_path / targets[3])
    assert len(hotpot) == len(drop) == 4  # n_test, sampled from 103 and 73 questions
    assert all(r.meta["context"] for r in hotpot) and all(r.meta["answers"] for r in drop)
    cfg = load_config(config)
    for run, tasks in evaluations(cfg).items():  # SPC scored by ROUGE/METEOR, QA by EM/F1
        for task in tasks:
            m = json.loads((tmp_path / "results/metrics" / run.path / f"{task}.json").read_text())
            assert m["n"] == 4 and ("em" in m) == (task in ("hotpotqa", "drop"))
    for run in aloe_runs(cfg):  # the real ALOE personas reached the simulated user
        transcript = (tmp_path / "results/aloe" / run.path / "conversations.jsonl").read_text()
        assert "p00-s1" in transcript
    table11 = (tmp_path / "results/tables/table11.md").read_text()
    assert "| SmolLM2-135M | SPC | PerCE |" in table11 and "Missing runs" not in table11
    assert (tmp_path / "results/index.md").stat().st_size > 0
    aloe = [json.loads(line) for line in (tmp_path / targets[4]).read_text().splitlines()]
    assert [a["id"] for a in aloe] == ["p00-s0", "p00-s1"]


def test_a_clone_whose_path_has_spaces_runs(tmp_path):
    """Every rule quotes the script path and the paths it derives (a space used to break all)."""
    import shutil

    clone = tmp_path / "my clone"
    for part in ("workflow", "scripts", "src", "envs", "configs"):
        shutil.copytree(REPO / part, clone / part, ignore=shutil.ignore_patterns("__pycache__"))
    cmd = [sys.executable, "-m", "snakemake", "data/processed/review/train.jsonl", "-s",
           str(clone / "workflow" / "Snakefile"), "-d", str(clone), "--cores", "1",
           "--configfile", str(clone / "configs/tiny.yaml")]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=clone)
    assert result.returncode == 0, result.stderr[-3000:]
    assert read_records(clone / "data/processed/review/train.jsonl")
