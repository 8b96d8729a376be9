"""The slow tests' disk check: a short disk is refused up front, naming where and how much."""

from __future__ import annotations

import shutil
import subprocess
import sys

from tests.conftest import REPO, disk_shortfall


def test_enough_space_passes(tmp_path):
    assert disk_shortfall(tmp_path, need_gb=0) is None


def test_a_short_disk_names_the_nearest_existing_folder_and_both_sizes(tmp_path):
    free_gb = shutil.disk_usage(tmp_path).free / 1e9
    problem = disk_shortfall(tmp_path / "not" / "made" / "yet", need_gb=free_gb + 1000)
    assert f"under {tmp_path} (" in problem
    assert f"need about {free_gb + 1000:g} GB" in problem
    assert f"only {free_gb:.1f} GB is free" in problem


STAND_IN = '''
import pathlib, pytest

@pytest.mark.slow
def test_slow(tmp_path):
    pathlib.Path(__file__).with_name("ran").write_text("yes")
'''


def test_slow_tests_do_not_start_on_a_short_disk(tmp_path):
    """This conftest, one slow test, the need raised past the disk: exit 4, the test not run."""
    (tmp_path / "test_stand_in.py").write_text(STAND_IN)
    free_gb = shutil.disk_usage(tmp_path).free / 1e9
    code = ("import sys, pytest, tests.conftest as c; "
            f"c.SLOW_TESTS_NEED_GB = {free_gb + 1000}; "
            "sys.exit(pytest.main(['-q', '-p', 'tests.conftest', '-p', 'no:cacheprovider', "
            "'-c', sys.argv[1], '--basetemp', sys.argv[2], sys.argv[3]]))")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers = slow: stand-in\n")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "pytest.ini"),
                             str(tmp_path / "base"), str(tmp_path / "test_stand_in.py")],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
    assert "the slow tests need about" in result.stdout + result.stderr
    assert not (tmp_path / "ran").exists()
