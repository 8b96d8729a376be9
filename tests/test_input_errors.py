"""Bad training input fails at the start with a message naming file, line / task and split."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from percontrast.data.records import read_records
from percontrast.io import DataError, read_json, read_jsonl
from tests.test_training import TINY, make_records

REPO = Path(__file__).resolve().parents[1]


def test_non_utf8_bytes_in_a_jsonl_name_the_file_and_line(tmp_path):
    path = tmp_path / "train.jsonl"
    good = json.dumps(make_records(1)[0].to_dict()).encode()
    bad = good.replace(b"Review item", b"Review \xe9tem")  # Latin-1 'é' in a UTF-8 file
    path.write_bytes(good + b"\n\n" + bad + b"\n")
    with pytest.raises(DataError) as err:
        read_records(path)
    assert str(err.value).startswith(f"{path}, line 3: not valid UTF-8 (byte 0xe9 at column ")
    assert err.value.line == 3
    with pytest.raises(DataError, match=r"line 3: not valid UTF-8"):
        read_jsonl(path)


def test_non_utf8_bytes_in_a_json_file_name_the_file_and_line(tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(b'{\n  "a": 1,\n  "b": "\xff"\n}\n')
    with pytest.raises(DataError, match=r"config\.json, line 3: not valid UTF-8 \(byte 0xff at "
                                        r"column 9\)"):
        read_json(path)


def test_an_empty_train_split_fails_at_train_start_naming_task_split_and_file(
        tmp_path, monkeypatch, capsys):
    from percontrast.models import prepare_model

    model = prepare_model("tiny", TINY, tmp_path / "tiny", seed=0)
    data = tmp_path / "data" / "processed" / "product_review" / "train.jsonl"
    data.parent.mkdir(parents=True)
    data.write_text("\n")  # blank lines only: no records
    out = tmp_path / "run"
    from percontrast.commands import main

    monkeypatch.setattr(sys, "argv", [
        "percontrast", "train", "--model", str(model), "--data", str(data), "--method", "perce",
        "--run", "lr0.001_clip0.8-5.0", "--training", json.dumps({"max_steps": 2}),
        "--batch-size", "2", "--threads", "1", "--out", str(out)])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert f"error: {data}: the 'train' split of task 'product_review' has no records" in err
    assert not out.exists()  # failed before anything was written


def test_run_training_refuses_no_records(tmp_path):
    from percontrast.training import run_training

    with pytest.raises(ValueError, match="no training records"):
        run_training(tmp_path / "model", [], tmp_path / "run", method="ce", lr=1e-3,
                     clip=(0.8, 5.0), training={}, batch_size=2, seed=0)
