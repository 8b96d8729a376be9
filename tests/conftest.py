"""Shared fixtures: repo paths, the ../shared data samples, a tiny model and the bundled model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the network
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

#: Free space the slow tests need under pytest's basetemp: the suite's measured peak (see
#: README, "Measured here") with a margin. Checked before the first test, so a short disk fails
#: in a second with this message instead of 14 minutes in with "No space left on device".
SLOW_TESTS_NEED_GB = 8


def disk_shortfall(where: Path, need_gb: float) -> str | None:
    """Why the disk under ``where`` (or its nearest existing parent) is too small, else ``None``."""
    while not where.exists():
        where = where.parent
    free_gb = shutil.disk_usage(where).free / 1e9
    if free_gb >= need_gb:
        return None
    return (f"the slow tests need about {need_gb:g} GB free under {where} (pytest's basetemp; "
            f"--basetemp picks another), and only {free_gb:.1f} GB is free. Free some space, or "
            "deselect them with -m 'not slow'.")


#: The xdist group of every test that reads the tiny DAG's outputs (the ``tiny_run`` fixture).
TINY_RUN_GROUP = "tiny_run"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook turns the marks into groups
def pytest_collection_modifyitems(config, items):
    """Order the run for two workers (the test command's ``-n 2 --dist loadgroup``).

    The tiny DAG is built once, and every test that reads it waits for it. Under plain load
    scheduling both workers reach those tests and one of them sits idle on the build's lock for
    minutes. So those tests form one xdist group, which one worker runs while the other works
    through the rest, and they come first, with the other slow tests next: the longest work
    starts first and nothing long is left for the end. The order is the same in every worker,
    as xdist requires."""
    def reads_tiny_dag(item) -> bool:
        return "tiny_run" in getattr(item, "fixturenames", ())

    for item in filter(reads_tiny_dag, items):
        item.add_marker(pytest.mark.xdist_group(TINY_RUN_GROUP))
    # stable: collection order within each of the three ranks
    items.sort(key=lambda item: 0 if reads_tiny_dag(item)
               else 1 if item.get_closest_marker("slow") else 2)


def pytest_collection_finish(session):
    """Refuse to start the slow tests on a disk that cannot hold what they write."""
    if session.config.option.collectonly:
        return
    if not any(item.get_closest_marker("slow") for item in session.items):
        return
    problem = disk_shortfall(Path(session.config.option.basetemp or tempfile.gettempdir()),
                             SLOW_TESTS_NEED_GB)
    if problem:
        pytest.exit(problem, returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture
def native(monkeypatch):
    """Set what the CPU's bf16 detection answers (True / False) for the rest of the test, both
    torch's check and the planner's (``percontrast.precision``)."""
    from percontrast import precision

    def set_native(value: bool):
        monkeypatch.setattr(precision, "cpu_native_bf16", lambda: value)
        monkeypatch.setattr(precision, "_cpu_flags_native_bf16", lambda: value)
    return set_native


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared data samples are not at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def bundled_tokenizer():
    """SmolLM2's real tokenizer (from the bundled GGUF); tiny models use it too."""
    from percontrast.models import _bundled_tokenizer, _ensure_pad

    tok = _bundled_tokenizer()
    _ensure_pad(tok)
    return tok


@pytest.fixture(scope="session")
def tiny_model(bundled_tokenizer):
    """A 2-layer random-init Llama with SmolLM2's tokenizer, in eval mode."""
    from percontrast.models import build_tiny

    model, tok = build_tiny({"architecture": "llama", "hidden_size": 64, "num_layers": 2,
                             "num_heads": 4, "num_kv_heads": 2, "intermediate_size": 128},
                            tokenizer=bundled_tokenizer, seed=0)
    return model.eval(), tok


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory) -> Path:
    """The bundled SmolLM2-135M-Instruct, prepared once per session (~20 s)."""
    from percontrast.models import prepare_model

    out = tmp_path_factory.mktemp("models") / "smollm2-135m"
    return prepare_model("smollm2-135m", {"source": "bundled-gguf", "dtype": "float32"}, out)


@pytest.fixture
def no_data_calls(monkeypatch):
    """Count the figure panels marked "no data yet" (percontrast.report.figure_style.no_data, as
    the run figures call it)."""
    from percontrast.report import figure_style, score_figures, training_figures

    calls = []
    real = figure_style.no_data

    def spy(ax, text=figure_style.NO_DATA):
        calls.append(text)
        real(ax, text)

    for module in (figure_style, training_figures, score_figures):
        monkeypatch.setattr(module, "no_data", spy)
    return calls


TINY_CONFIG = REPO / "configs" / "tiny.yaml"
# the smallest random-init Llama the training tests fine-tune (prepared once per session)
TINY = {"source": "tiny", "architecture": "llama", "hidden_size": 32, "intermediate_size": 64,
        "num_layers": 1, "num_heads": 2, "num_kv_heads": 1, "dtype": "float32"}


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    """TINY prepared as a model folder (read-only for the tests that train from it)."""
    from percontrast.models import prepare_model

    return prepare_model("tiny", TINY, tmp_path_factory.mktemp("m") / "tiny", seed=0)


def snakemake(*args: str, cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    """Run the project's workflow in ``cwd`` (its working directory) and capture the output."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "workflow" / "Snakefile"),
           "-d", str(cwd), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)


@dataclass(frozen=True)
class TinyRun:
    """The whole tiny DAG, run once per test session (``directory`` holds data/, results/...)."""

    directory: Path
    result: subprocess.CompletedProcess


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> TinyRun:
    """One local run of the tiny profile's whole DAG, shared by every test that needs finished
    outputs (the DAG checks, the rerun-planning checks, the SLURM comparison): the DAG is the
    slowest thing the suite does, so it runs once. Tests that change files must work on a copy.

    Under pytest-xdist (the test command runs two workers) session fixtures are per worker, so
    the first worker to need it builds it in the run's shared temporary folder under a file
    lock, and the other reads the result back (pytest-xdist's recipe for a once-only fixture)."""
    reuse = os.environ.get("PERCONTRAST_TINY_RUN")  # a finished run, for local iteration only
    if reuse:
        return TinyRun(Path(reuse), subprocess.CompletedProcess([], 0, "", ""))
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _build_tiny_run(tmp_path_factory.mktemp("tiny_run"))
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # one folder for all workers of this run
    record = shared / "tiny_run.json"
    with FileLock(str(shared / "tiny_run.lock")):
        if not record.is_file():
            run = _build_tiny_run(shared / "tiny_run")
            record.write_text(json.dumps({"directory": str(run.directory),
                                          "returncode": run.result.returncode,
                                          "stdout": run.result.stdout,
                                          "stderr": run.result.stderr}))
        built = json.loads(record.read_text())
    return TinyRun(Path(built["directory"]), subprocess.CompletedProcess(
        [], built["returncode"], built["stdout"], built["stderr"]))


def _build_tiny_run(directory: Path) -> TinyRun:
    directory.mkdir(parents=True, exist_ok=True)
    result = snakemake("--profile", str(REPO / "profiles" / "ci"), "--configfile",
                       str(TINY_CONFIG), cwd=directory, timeout=1500)
    return TinyRun(directory, result)
