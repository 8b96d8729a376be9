"""The ``percontrast <command>`` entry point: expected errors become one line and exit status
1; the commands are exactly those the rules call."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from percontrast.cli import run
from percontrast.config import ConfigError
from percontrast.io import DataError
from percontrast.llm import LLMUnavailableError


@pytest.mark.parametrize("error", [
    DataError("results/metrics/x.json", "invalid JSON", line=3),
    ConfigError("training.methods[0]: 'dpo' is not one of the methods"),
    LLMUnavailableError("llm 'judge' at http://127.0.0.1:9/v1: HTTP 401"),
])
def test_expected_errors_exit_1_with_one_line(error, capsys):
    def main():
        raise error

    with pytest.raises(SystemExit) as exit_:
        run(main)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(error) in err and "Traceback" not in err


def test_a_bug_keeps_its_traceback():
    def main():
        raise KeyError("a bug, not bad input")

    with pytest.raises(KeyError):
        run(main)


REPO = Path(__file__).resolve().parents[1]


def rule_commands() -> dict[str, str]:
    """rule -> the `percontrast <command>` its shell runs (each rules file, read as text)."""
    found = {}
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        for rule, body in re.findall(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", path.read_text(),
                                     re.M | re.S):
            command = re.search(r"(?:percontrast|\{params\.launcher\}) (\w+) ", body)
            if command:
                found[rule] = command.group(1)
    return found


#: commands no rule calls, and why
NOT_RULES = {"summarize": "renders docs/results.md from a finished run, after snakemake"}


def test_every_command_is_a_rule_that_calls_it():
    from percontrast.commands import COMMANDS

    called = rule_commands()
    assert all(rule == command for rule, command in called.items()), called
    assert set(COMMANDS) - set(NOT_RULES) == set(called), set(COMMANDS) ^ set(called)
    assert not set(NOT_RULES) & set(called), "a documented exception is now a rule"


def test_the_console_command_lists_and_dispatches(tmp_path):
    exe = shutil.which("percontrast")
    assert exe, "the percontrast console script is not installed (pip install -e .)"
    listing = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    from percontrast.commands import COMMANDS

    assert listing.returncode == 0
    assert [ln.split()[0] for ln in listing.stdout.splitlines()[3:]] == list(COMMANDS)
    unknown = subprocess.run([exe, "trian"], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and "unknown command 'trian'" in unknown.stderr
    # one command's own arguments, and its expected errors as one line, exit status 1
    usage = subprocess.run([sys.executable, "-m", "percontrast", "retrieve", "--help"],
                           capture_output=True, text=True, timeout=60)
    assert usage.returncode == 0 and usage.stdout.startswith("usage: percontrast retrieve ")
    missing = tmp_path / "absent.jsonl"
    failed = subprocess.run([exe, "retrieve", "--input", str(missing), "--k", "2",
                             "--retriever", "bm25", "--out", str(tmp_path / "out.jsonl")],
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1, failed.stderr[-2000:]
    assert failed.stderr.strip().splitlines()[-1].startswith("error: ")
    assert str(missing) in failed.stderr and "Traceback" not in failed.stderr
    assert not (tmp_path / "out.jsonl").exists()
