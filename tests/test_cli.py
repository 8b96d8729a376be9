"""The scripts' shared entry point: expected errors become one line and exit status 1."""

from __future__ import annotations

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
