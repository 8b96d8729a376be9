"""How the test command splits the suite over its two workers (``-n 2 --dist loadgroup``).

Every test that reads the tiny DAG must run on one worker, first, while the other worker takes
the rest; otherwise the second worker idles on the DAG's build lock. This runs the project's
conftest on stand-in tests with the installed pytest and pytest-xdist, so a release that stops
honouring ``xdist_group`` (pytest-xdist issue 1386, with pytest 9.2) fails here, not silently
in CI's wall time."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

STAND_IN = '''
import os, pathlib, time, pytest

LOG = pathlib.Path(__file__).with_name("log")


@pytest.fixture(scope="session")
def tiny_run():  # stands in for the conftest's real DAG
    return None


def record(name):
    with open(LOG / name, "w") as out:
        out.write(f"{os.environ['PYTEST_XDIST_WORKER']} {time.time_ns()}")
    time.sleep(0.2)


def test_fast_first_in_file(): record("fast_a")
def test_uses_dag_a(tiny_run): record("dag_a")
def test_fast_second(): record("fast_b")
@pytest.mark.slow
def test_slow_other(): record("slow")
def test_uses_dag_b(tiny_run): record("dag_b")
def test_fast_third(): record("fast_c")
@pytest.mark.parametrize("i", range(3))
def test_uses_dag_c(tiny_run, i): record(f"dag_c{i}")
def test_fast_fourth(): record("fast_d")
'''


def test_the_tiny_dag_tests_share_one_worker_and_start_it(tmp_path):
    (tmp_path / "test_stand_in.py").write_text(STAND_IN)
    (tmp_path / "log").mkdir()
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers = slow: stand-in\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "-c", str(tmp_path / "pytest.ini"), "--basetemp", str(tmp_path / "base"),
         "-n", "2", "--dist", "loadgroup", str(tmp_path / "test_stand_in.py")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    runs = {}
    for path in (tmp_path / "log").iterdir():
        worker, ns = path.read_text().split()
        runs[path.name] = (worker, int(ns))
    assert len(runs) == 10
    dag = {name for name in runs if name.startswith("dag_")}
    workers = {runs[name][0] for name in dag}
    assert len(workers) == 1, f"the tiny-DAG tests were split over workers: {runs}"
    (dag_worker,) = workers
    assert {worker for worker, _ in runs.values()} == {"gw0", "gw1"}, "one worker did nothing"
    # on their worker, every tiny-DAG test starts before anything else that worker runs
    last_dag = max(runs[name][1] for name in dag)
    others_there = [ns for name, (worker, ns) in runs.items()
                    if worker == dag_worker and name not in dag]
    assert all(ns > last_dag for ns in others_there), runs
