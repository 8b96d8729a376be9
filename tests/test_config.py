"""Config validation (schema + cross-references) and the run grid derived from it."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml

from percontrast import config as pc
from percontrast import plan
from percontrast.precision import planned as planned_precision

CONFIGS = ["config.yaml", "configs/tiny.yaml", "configs/paper.yaml"]


def _raw(repo, name):
    return yaml.safe_load((repo / name).read_text())


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_configs_are_valid(repo, name):
    cfg = pc.load_config(repo / name)
    assert cfg["training"]["adam_betas"] == [0.9, 0.999]  # default filled in or given
    assert plan.train_runs(cfg), "every config trains something"


def test_paper_config_holds_the_papers_settings(repo):
    cfg = pc.load_config(repo / "configs/paper.yaml")
    reg = cfg["model_registry"]
    assert [reg[m]["id"] for m in cfg["models"]] == [
        "Qwen/Qwen3-4B", "Qwen/Qwen3-14B", "meta-llama/Llama-3.1-8B-Instruct"]
    assert [reg[m]["batch_size"] for m in cfg["models"]] == [96, 32, 64]
    assert reg[cfg["pir"]["models"][0]]["id"] == "Qwen/Qwen3-30B-A3B-Instruct-2507"
    assert cfg["pir"]["threshold"] == 1.0
    tr = cfg["training"]
    assert tr["learning_rates"] == [2e-6, 5e-6, 8e-6, 2e-5, 5e-5]
    assert (tr["epochs"], tr["warmup_ratio"], tr["max_length"]) == (3, 0.04, 5000)
    assert tr["clip"] == [0.8, 5.0]
    assert cfg["data"] == {"n_train": 2000, "n_test": 500, "top_k": 4, "retriever": "contriever"}
    assert (cfg["generation"]["temperature"], cfg["generation"]["max_new_tokens"]) == (0.4, 512)
    assert cfg["llm"][cfg["evaluation"]["llm_judge"]["judge"]]["model"] == "gpt-4o"
    assert cfg["llm"][cfg["evaluation"]["aloe"]["judge"]]["model"] == "gpt-4o-mini"
    # 3 models x 3 tasks x 4 methods x 5 LRs + LaMP (1 x 3 x 4) + clip grid (3 x 3 x 3, main
    # clip at the grid LR already counted once per task) + the real-dialogue arm (CE, PerCE)
    assert len(plan.train_runs(cfg)) == 180 + 12 + 3 * (9 - 1) + 2


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["training"].__setitem__("lr", 1), "training: Additional properties"),
    (lambda c: c["data"].__setitem__("top_k", "four"), "data.top_k: 'four' is not of type"),
    (lambda c: c["data"].__setitem__("top_k", 0), "data.top_k: 0 is less than the minimum"),
    (lambda c: c["model_registry"]["smollm2-135m"].__setitem__("source", "pickle"),
     "model_registry.smollm2-135m.source"),
    (lambda c: c["model_registry"].__setitem__("x", {"source": "hub"}),
     "model_registry.x: 'id' is a required property"),
    (lambda c: c.pop("seed"), "'seed' is a required property"),
])
def test_schema_errors_name_the_key(repo, mutate, message):
    cfg = _raw(repo, "config.yaml")
    mutate(cfg)
    with pytest.raises(pc.ConfigError) as err:
        pc.validate_schema(cfg)
    assert message in str(err.value)


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c.__setitem__("models", ["gpt-5"]), "models[0]: model 'gpt-5' is not in"),
    (lambda c: c.__setitem__("tasks", ["abstract", "nope"]), "tasks[1]: task 'nope'"),
    (lambda c: c["training"].__setitem__("main_learning_rate", 5e-4),
     "training.main_learning_rate"),
    (lambda c: c["training"].__setitem__("clip", [5.0, 0.8]), "training.clip: clip min 5.0"),
    (lambda c: c["pir"].__setitem__("judge", "gpt-4o"), "pir.judge: llm 'gpt-4o'"),
    (lambda c: c.__setitem__("tasks", ["hotpotqa"]), "tasks[0]: task 'hotpotqa' has type"),
    (lambda c: c["training"].__setitem__("full_scale_tasks", ["lamp4"]),
     "training.full_scale_tasks[0]: 'lamp4' is not in tasks"),
    (lambda c: c["training"].update(methods=["ce", "perce"], full_scale_methods=["lossce"]),
     "training.full_scale_methods[0]: 'lossce' is not in training.methods"),
    (lambda c: c["pir"].__setitem__("models", []), "pir.models: needs at least one model"),
    (lambda c: c["evaluation"]["llm_judge"].pop("judge"),
     "evaluation.llm_judge.judge: required when llm_judge is enabled"),
    (lambda c: c["evaluation"]["aloe"].pop("user_simulator"),
     "evaluation.aloe.user_simulator: required when aloe is enabled"),
    (lambda c: c["evaluation"]["aloe"].pop("judge"),
     "evaluation.aloe.judge: required when aloe is enabled"),
    (lambda c: c["evaluation"]["dialogue"].__setitem__("tasks", ["review"]),
     "evaluation.dialogue.tasks[0]: task 'review' has type 'product_review'"),
    (lambda c: c["task_registry"]["review"].__setitem__("grounded_only", True),
     "task_registry.review.grounded_only: applies to source spc only"),
    (lambda c: c["task_registry"]["spc"].__setitem__("path", "x.csv"),
     "task_registry.spc.bundled: the bundled copy excludes path"),
    (lambda c: c.__setitem__("bench", {"enabled": True, "model": "nope"}),
     "bench.model[0]: model 'nope' is not in model_registry"),
    (lambda c: c.__setitem__("bench", {"enabled": True, "model": "tiny-llama", "steps": 2,
                                       "warmup": 2}), "bench.steps: 2 must exceed"),
])
def test_cross_reference_errors_name_the_key(repo, mutate, message):
    cfg = _raw(repo, "configs/tiny.yaml")  # the config with every stage on
    mutate(cfg)
    pc.validate_schema(cfg)
    with pytest.raises(pc.ConfigError) as err:
        pc.check_config(cfg)
    assert message in str(err.value)


def test_run_ids_round_trip():
    run = plan.TrainRun("m", "review", "perce", 2e-5, 0.8, 5.0)
    assert run.run_id == "lr2e-05_clip0.8-5"
    assert plan.parse_run_id(run.run_id) == (2e-5, 0.8, 5.0)
    assert run.path == "m/review/perce/lr2e-05_clip0.8-5"
    with pytest.raises(ValueError):
        plan.parse_run_id("lr1")


def test_evaluations_cover_cross_task_and_qa(repo):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    ev = plan.evaluations(cfg)
    main = plan.main_run(cfg, "tiny-llama", "review", "perce")
    assert ev[main] == ["review", "abstract", "topic", "hotpotqa", "drop"]
    off_grid = plan.TrainRun("tiny-llama", "review", "ce", 3e-3, 0.8, 5.0)
    assert ev[off_grid] == ["review"]  # non-main LRs: own task only (table 2)
    assert all(run in ev for run in plan.aloe_runs(cfg) + plan.judge_runs(cfg))


def test_config_hash_changes_with_content(repo):
    cfg = pc.load_config(repo / "config.yaml")
    other = copy.deepcopy(cfg)
    other["seed"] += 1
    assert pc.config_hash(cfg) == pc.config_hash(copy.deepcopy(cfg))
    assert pc.config_hash(cfg) != pc.config_hash(other)


def test_a_runs_training_spec_holds_only_what_determines_it(repo):
    """Growing the grid (a learning rate, a method) leaves finished runs' specs unchanged, so
    Snakemake never retrains them; pipeline_scale shrinks only the runs outside the main ones."""
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    run = plan.main_run(cfg, "tiny-llama", "review", "ce")
    before = plan.run_training_spec(cfg, run)
    assert "learning_rates" not in before and "methods" not in before
    grown = pc.load_config(repo / "configs/tiny.yaml")
    grown["training"]["learning_rates"].append(1e-2)
    grown["training"]["methods"] = ["ce", "perce"]
    assert plan.run_training_spec(grown, run) == before
    cfg["training"]["pipeline_scale"] = {"max_steps": 1}
    cfg["training"]["full_scale_methods"] = ["ce", "perce"]
    tr = cfg["training"]
    assert plan.is_full_scale(cfg, run) and plan.run_training_spec(cfg, run) == before
    other_lr = plan.TrainRun("tiny-llama", "review", "ce", tr["learning_rates"][1], *tr["clip"])
    baseline = plan.main_run(cfg, "tiny-llama", "review", "lossce")
    lamp = plan.main_run(cfg, "tiny-llama", "lamp4", "perce")
    for small in (other_lr, baseline, lamp):
        assert not plan.is_full_scale(cfg, small)
        assert plan.run_training_spec(cfg, small) == {**before, "max_steps": 1}
    # evaluations: a full-scale run on its own task sees every test record and the full
    # generation length; everything else the pipeline-scale prefix and length
    tr["pipeline_scale"].update(n_test=3, max_new_tokens=4, batch_size=1)
    assert plan.run_training_spec(cfg, other_lr) == {**before, "max_steps": 1}
    assert plan.run_batch_size(cfg, other_lr) == 1
    assert plan.run_batch_size(cfg, run) == tr["batch_size"]
    assert plan.evaluation_limit(cfg, run, "review") is None
    # generation.precision: auto is resolved for this CPU while planning (tiny: device cpu;
    # the tiny config itself pins fp32)
    cfg["generation"]["precision"] = "auto"
    planned = planned_precision("auto", "cpu")
    assert plan.evaluation_generation(cfg, run, "review") == {**cfg["generation"],
                                                              "precision": planned}
    assert plan.evaluation_limit(cfg, run, "topic") == 3  # cross-task
    assert plan.evaluation_limit(cfg, baseline, "review") == 3
    assert plan.evaluation_generation(cfg, baseline, "review")["max_new_tokens"] == 4
    # the PIR counterfactual PerCE trains with is part of the spec, unless it is the paper's
    assert "counterfactual" not in plan.run_training_spec(cfg, run)
    cfg["pir"]["counterfactual"] = "placebo"
    assert plan.run_training_spec(cfg, run)["counterfactual"] == "placebo"


def test_training_seeds_make_sibling_main_runs(repo):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    single = plan.train_runs(cfg)
    cfg["training"]["seeds"] = [cfg["seed"], 7]
    runs = plan.train_runs(cfg)
    main = plan.main_run(cfg, "tiny-llama", "review", "perce")
    seven = plan.TrainRun(**{**main.__dict__, "seed": 7})
    assert plan.seed_runs(cfg, main) == [main, seven]
    assert plan.seed_runs(cfg, seven) == [main, seven]
    assert seven.run_id == "lr0.001_clip0.8-5_seed7"
    assert plan.TrainRun.parse("tiny-llama", "review", "perce", seven.run_id) == seven
    assert plan.parse_run_id(seven.run_id) == (0.001, 0.8, 5.0)
    assert plan.run_seed(cfg, seven) == 7 and plan.run_seed(cfg, main) == cfg["seed"]
    # one extra run per main run on `tasks` (4 methods x 3 tasks) and per real-dialogue run;
    # the grid's other runs alone
    assert len(runs) == len(single) + 4 * len(cfg["tasks"]) + len(plan.dialogue_runs(cfg))
    lamp = plan.main_run(cfg, "tiny-llama", "lamp4", "perce")
    assert plan.seed_runs(cfg, lamp) == [lamp]
    assert plan.evaluations(cfg)[seven] == ["review"]  # extra seeds: own task only
    assert plan.run_training_spec(cfg, seven) == plan.run_training_spec(cfg, main)


def test_the_schema_takes_task_types_and_sources_from_their_registries():
    """percontrast.data.registry is the one list of task types and sources: the schema's
    enums equal it, every key a source requires or reads is a task_registry property, and a
    source option's default is the one its schema description states."""
    from percontrast.data import registry

    entry = pc.load_schema()["properties"]["task_registry"]["additionalProperties"]
    keys = entry["properties"]
    assert keys["type"]["enum"] == list(registry.TASK_TYPE_NAMES)
    assert keys["source"]["enum"] == list(registry.SOURCE_NAMES)
    for src in registry.sources():
        for key in [*src.required, *src.options, *src.refused_elsewhere]:
            assert key in keys, (src.name, key)
        for key, default in src.options.items():
            if default is not None:
                stated = f"source {src.name} (default {json.dumps(default)})"
                assert keys[key]["description"].startswith(stated), (src.name, key)


def test_the_schema_and_the_workflow_take_the_method_list_from_its_one_owner(repo):
    """percontrast.methods.METHODS is the one list: the schema's enum, every method array of the
    schema, the losses and the table labels follow it."""
    from percontrast import losses
    from percontrast.methods import LABELS, METHODS, method_label, wildcard_pattern

    schema = yaml.safe_load(pc.SCHEMA_PATH.read_text())
    assert schema["$defs"]["method"]["enum"] == list(METHODS)
    text = pc.SCHEMA_PATH.read_text()
    assert text.count("enum: [ce, lossce, entce, perce, perce_shuffled, perce_normalized]") == 1
    assert text.count('"#/$defs/method"') >= 8  # every method list refers to the one enum
    assert losses.METHODS is METHODS and list(LABELS) == list(METHODS)
    assert list(losses.WEIGHT_RULES) == list(METHODS)  # one weight rule per method, no other
    assert method_label("perce") == "PerCE" and re.fullmatch(wildcard_pattern(), "lossce")
    assert not re.fullmatch(wildcard_pattern(), "perce2")
    assert re.fullmatch(wildcard_pattern(), "perce_shuffled")
    with pytest.raises(ValueError, match="unknown method 'dpo'"):
        method_label("dpo")
    bad = yaml.safe_load((repo / "configs" / "tiny.yaml").read_text())
    bad["training"]["methods"].append("dpo")
    with pytest.raises(pc.ConfigError, match="training.methods"):
        pc.validate_schema(bad)


@pytest.mark.slow
def test_an_installed_wheel_carries_the_schema(repo, tmp_path):
    """A wheel install (no workflow/ folder) still validates configs: the schema and the paper's
    published numbers are package data, and workflow/schemas/ links to the same file."""
    import subprocess
    import sys
    import zipfile

    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "--no-build-isolation", "-q", "-w", str(tmp_path), str(repo)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(tmp_path.glob("percontrast-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "percontrast/schemas/config.schema.yaml" in names
    assert "percontrast/report/paper_results.yaml" in names
    assert pc.SCHEMA_PATH.is_relative_to(repo / "src" / "percontrast")
    assert (repo / "workflow/schemas/config.schema.yaml").resolve() == pc.SCHEMA_PATH


def test_vllm_backend_is_refused_with_the_reason_and_the_alternative(repo):
    cfg = _raw(repo, "configs/tiny.yaml")
    cfg["generation"]["backend"] = "vllm"
    with pytest.raises(pc.ConfigError) as err:
        pc.validate_schema(cfg)
    text = str(err.value)
    assert text.startswith("generation.backend: vllm is not supported")
    assert "cannot be verified" in text and "GPU machines" in text  # why
    assert "backend: transformers" in text and "bf16" in text and "batch_size" in text  # instead
    cfg["generation"]["backend"] = "transformers"
    pc.validate_schema(cfg)
    pc.check_config(cfg)
    cfg["generation"]["backend"] = "vllm"  # a config that skipped the schema: check_config too
    with pytest.raises(pc.ConfigError, match="generation.backend: vllm is not supported"):
        pc.check_config(cfg)


def test_model_batch_size_reaches_only_its_models_generations(repo):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    model = cfg["models"][0]
    run = plan.main_run(cfg, model, cfg["tasks"][0], cfg["training"]["methods"][0])
    before = plan.evaluation_generation(cfg, run, run.task)
    assert "model_batch_size" not in before  # absent: every evaluation's settings as before
    cfg["generation"]["model_batch_size"] = {model: 3, "other-model": 64}
    cfg["model_registry"]["other-model"] = {"source": "tiny"}
    pc.validate_schema(cfg)
    pc.check_config(cfg)
    gen = plan.evaluation_generation(cfg, run, run.task)
    assert gen == {**before, "batch_size": 3}  # no other model's entry in this job's params
    cfg["generation"]["model_batch_size"] = {"nope": 4}
    with pytest.raises(pc.ConfigError, match="generation.model_batch_size.nope: model 'nope'"):
        pc.check_config(cfg)
    cfg["generation"]["model_batch_size"] = {model: 0}
    with pytest.raises(pc.ConfigError, match="generation.model_batch_size"):
        pc.validate_schema(cfg)


def test_cache_implementation_is_optional_and_checked(repo):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    assert "cache_implementation" not in cfg["generation"]  # no default: old params unchanged
    cfg["generation"]["cache_implementation"] = "dynamic"
    pc.validate_schema(cfg)
    cfg["generation"]["cache_implementation"] = "paged"
    with pytest.raises(pc.ConfigError, match="generation.cache_implementation"):
        pc.validate_schema(cfg)


@pytest.mark.parametrize("name", CONFIGS)
def test_default_runs_keep_their_spec_without_report_to(repo, name):
    cfg = pc.load_config(repo / name)
    assert "report_to" not in cfg["training"]  # no schema default: nothing filled in
    run = plan.train_runs(cfg)[0]
    before = plan.run_training_spec(cfg, run)
    assert "report_to" not in before
    cfg["training"]["report_to"] = "none"  # said explicitly: the same spec, no rerun
    pc.validate_schema(cfg)
    assert plan.run_training_spec(cfg, run) == before


def test_report_to_names_integrations_and_enters_the_spec(repo):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    run = plan.train_runs(cfg)[0]
    before = plan.run_training_spec(cfg, run)
    cfg["training"]["report_to"] = ["tensorboard", "mlflow"]
    pc.validate_schema(cfg)
    assert plan.run_training_spec(cfg, run) == {**before, "report_to": ["tensorboard", "mlflow"]}
    for bad in (["wandb"], [], "tensorboard", ["tensorboard", "tensorboard"]):
        cfg["training"]["report_to"] = bad
        with pytest.raises(pc.ConfigError, match="training.report_to"):
            pc.validate_schema(cfg)
