# Config validation and the path helpers every rules file uses. The run grid itself (which runs,
# which evaluations) comes from percontrast.plan so the library, the commands and the report
# agree. percontrast is installed (./install.sh): the rules call its `percontrast <command>`.
import json
import os
import shlex
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from percontrast import artefacts, layout, plan
from percontrast import config as pc
from percontrast.methods import wildcard_pattern

try:  # the key path and the message first, in one line (Snakemake's own message prints the
    # whole schema before them); then Snakemake's validate, the workflows' convention.
    # Snakemake's YAML reading keeps the last of two equal keys: the config files (--configfile,
    # or config.yaml) are read again to refuse one, naming the key and both lines
    for config_file in workflow.configfiles:
        pc.read_config_file(config_file)
    pc.validate_schema(config)
    pc.check_config(config)
except pc.ConfigError as err:
    raise WorkflowError(f"invalid config: {err}")
validate(config, schema=str(pc.SCHEMA_PATH))


def shown_path(path):
    """A path as results/index.md prints it: relative inside the working directory, else
    absolute, so the same config file reads the same wherever the run folder is."""
    path = os.path.abspath(path)
    inside = os.path.commonpath([path, os.getcwd()]) == os.getcwd()
    return os.path.relpath(path) if inside else path


# the --configfile the user named (for the commands results/index.md prints), if any
CONFIGFILE = next(
    (shown_path(f) for f in getattr(workflow, "overwrite_configfiles", None) or []), None
)
RUNS = plan.train_runs(config)
EVALS = plan.evaluations(config)
METHOD_PATTERN = wildcard_pattern()


wildcard_constraints:
    model=r"[A-Za-z0-9][A-Za-z0-9._-]*",
    task=r"[A-Za-z0-9][A-Za-z0-9._-]*",
    eval_task=r"[A-Za-z0-9][A-Za-z0-9._-]*",
    split="|".join(pc.SPLITS),
    method=METHOD_PATTERN,
    run=plan.RUN_ID_PATTERN,


def as_json(obj):
    """A config fragment for a script's command line (quote it with :q in shell)."""
    return json.dumps(obj, sort_keys=True)


def launcher(n_gpus):
    """The `percontrast` entry point for one device; under `accelerate launch` with the FSDP
    config for several GPUs (`-m`: the same entry point as a module, one process per GPU)."""
    if int(n_gpus) > 1:
        fsdp = Path(workflow.basedir).parent / "envs" / "accelerate_fsdp.yaml"
        return f"accelerate launch --config_file {shlex.quote(str(fsdp))} --num_processes {int(n_gpus)} -m percontrast"
    return "percontrast"


def llm_entries(*names):
    """Only the llm entries a job uses (JSON): editing another entry must not rerun it."""
    llm = config.get("llm", {})
    return as_json({n: llm[n] for n in names if n in llm})


def only(section, *keys):
    """The listed keys of a config section (JSON): what a job reads from it, nothing else."""
    return as_json({k: section[k] for k in keys if k in section})


def spec_hash(*parts):
    """Provenance hash recorded in a job's output: of what determines that output only."""
    return pc.config_hash(list(parts))


# the report jobs' config: all of it but llm entries no stage uses (plan.report_config)
REPORT_CONFIG = as_json(plan.report_config(config))


def job_spec(section, *drop):
    """A config section without the keys that pick runs (models, methods, ...) (JSON): those
    decide which jobs exist, not what a job computes, so they must not trigger reruns."""
    return as_json({k: v for k, v in section.items() if k not in drop})


def run_info(wc, **extra):
    """model / train_task / method / run of a job, recorded in the files it writes (JSON)."""
    return as_json(
        {"model": wc.model, "train_task": wc.task, "method": wc.method, "run": wc.run, **extra}
    )


def run_of(wc):
    """The TrainRun of a job's {model}/{task}/{method}/{run} wildcards."""
    return plan.TrainRun.parse(wc.model, wc.task, wc.method, wc.run)


def eval_limit(wc):
    """Test records an evaluation job covers (0 = all): plan.evaluation_limit."""
    return plan.evaluation_limit(config, run_of(wc), wc.eval_task) or 0


def model_spec(name):
    return config["model_registry"][name]


def local_model_folder(name):
    """The folder a `local` registry model is read from ([] for other sources): an input of
    prepare_model, so that the job reruns when the folder's files change."""
    spec = model_spec(name)
    if spec.get("source") == "local" and os.path.isdir(spec.get("path", "")):
        return [ancient(spec["path"])]
    return []


def model_job_spec(name):
    """A model's registry entry (JSON) for prepare_model; a `local` model's also carries a
    fingerprint of its folder's files (files_fingerprint), so that replacing or editing a file
    there reruns the job. Entries of other sources are passed as they are."""
    spec = model_spec(name)
    if spec.get("source") == "local":
        folder = spec.get("path")
        fingerprint = pc.folder_fingerprint(folder) if folder else "missing"
        spec = {**spec, "files_fingerprint": fingerprint}
    return as_json(spec)


def task_files(wc):
    """The local data files a load_task job reads (none for the hub, the demo, bundled SPC).
    ancient: a file that is only touched reruns nothing; one whose content changed reruns the
    job through its SHA-256 in the job's spec (task_job_spec)."""
    entry = config["task_registry"][wc.task]
    return [ancient(f) for f in pc.task_data_files(entry, wc.split)]


def task_job_spec(wc):
    """A task_registry entry (JSON) for load_task; with local files, the SHA-256 of the ones
    the split reads too (data_sha256), so that replacing a file's content, even by an older
    file, reruns the job. Entries without local files are passed as they are."""
    entry = config["task_registry"][wc.task]
    digests = pc.task_data_fingerprint(entry, wc.split)
    return as_json({**entry, "data_sha256": digests} if digests else entry)


def aloe_files():
    """The ALOE benchmark's files (source: files), inputs of aloe_conversations."""
    aloe = config["evaluation"].get("aloe", {})
    if aloe.get("source") != "files":
        return []
    paths = [aloe[k] for k in ("profile_path", "personality_path") if k in aloe]
    return [ancient(p) for p in paths if os.path.isfile(p)]


def aloe_job_spec():
    """The keys of evaluation.aloe the aloe_conversations job reads (JSON); with source files,
    the SHA-256 of both files too (data_sha256), so that editing one reruns the job."""
    aloe = config["evaluation"].get("aloe", {})
    keys = ("source", "profile_path", "personality_path", "n_profiles", "n_personalities")
    spec = {k: aloe[k] for k in keys if k in aloe}
    if aloe.get("source") == "files":
        paths = [aloe[k] for k in ("profile_path", "personality_path") if k in aloe]
        spec["data_sha256"] = {p: pc.file_sha256(p) for p in paths}
    return as_json(spec)


def chat_kwargs(wc):
    """The job's model's chat_template_kwargs (JSON) for the scripts' --chat-template-kwargs."""
    return as_json(model_spec(wc.model).get("chat_template_kwargs", {}))


def model_dir(model):
    return str(layout.path("model", model=model))


def model_threads():
    """Threads of a job that runs a model. On CPU two 1-thread jobs beat one 2-thread job: the
    small models' jobs are dominated by single-threaded start-up, so CPU configs run them side
    by side; on GPU the threads only feed the device."""
    return 1 if config.get("device") == "cpu" else 2


def bench_threads():
    """Threads of the cost benchmark. On a CPU config, every core of a local run, so that no job
    runs beside it while it times steps (a job beside it moved CE's step times by 20% here);
    under a cluster executor (no total core count) and on GPU, a model job's threads."""
    if config.get("device") != "cpu":
        return model_threads()
    try:
        return workflow.cores
    except WorkflowError:
        return model_threads()


def uses_gpu():
    """GPU rules declare gpu=1 so `--resources gpu=N` schedules them; CPU configs declare 0."""
    return 0 if config.get("device") == "cpu" else 1


def processed(task, split):
    return str(layout.path("processed", task=task, split=split))


def llm_models(*llm_names):
    """Prepared model folders that in-process (transformers) LLM entries need."""
    out = []
    for name in llm_names:
        spec = config.get("llm", {}).get(name)
        if spec and spec["backend"] == "transformers":
            out.append(model_dir(spec["model"]))
    return out


def metrics_path(run, eval_task):
    return str(layout.path("metrics", run, eval_task=eval_task))


# ---------------------------------------------------------------- targets

# every name comes from the artefact catalogue (percontrast.artefacts)
TABLES = artefacts.base_table_names()
# each paper table's paper-vs-reproduction companion (percontrast.report.compare), unless
# turned off; this project's own tables have none
TABLE_FILES = TABLES + (
    artefacts.companions_of(TABLES)
    if config.get("report", {}).get("paper_comparison", True)
    else []
)
PIR_FIGURES = artefacts.figure_names("pir_figures")
FIGURES = artefacts.figure_names("figures")


def data_targets():
    out = [model_dir(m) for m in plan.all_models(config)]
    for task in plan.all_tasks(config):
        splits = pc.task_splits(config["task_registry"][task])
        out += [processed(task, split) for split in splits]
    out.append(layout.pattern("persona_qa"))
    if config["evaluation"].get("aloe", {}).get("enabled"):
        out.append(layout.pattern("aloe_conversations"))
    return out


def report_targets():
    """Every table (with its paper companion) and figure the config covers, and the index."""
    out = expand(layout.pattern("table"), table=TABLE_FILES, ext=("csv", "md", "tex"))
    out += expand(layout.pattern("figure"), figure=PIR_FIGURES + FIGURES)
    out += [layout.pattern(name) for name in ("claims_md", "claims_json", "index")]
    return out


def all_targets():
    """Rule all: the data, every run and evaluation, and the report built from them."""
    return data_targets() + train_logs() + metrics_inputs() + bench_inputs() + report_targets()


def bench_inputs():
    """The step-cost benchmark's result, when the config runs it (``bench.enabled``)."""
    return [layout.pattern("bench_step")] if config.get("bench", {}).get("enabled") else []


# ---------------------------------------------------------------- rule inputs


def metrics_inputs():
    return sorted(metrics_path(run, task) for run, tasks in EVALS.items() for task in tasks)


def train_logs():
    return sorted(str(layout.path("run_done", run)) for run in RUNS)


def aloe_inputs():
    return sorted(str(layout.path("aloe_scores", run)) for run in plan.aloe_runs(config))


def judge_inputs():
    return sorted(str(layout.path("judge", run)) for run in plan.judge_runs(config))


def pir_inputs():
    return [str(layout.path("pir_classification", model=m)) for m in config["pir"]["models"]]
