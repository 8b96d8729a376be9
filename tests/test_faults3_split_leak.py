"""Issue 31, item 1: a task's test records never come from the data it trains on.

A task is trained on its train split and scored on its test split. A ``path:`` that is one file
(SPC, LongLaMP), two split names mapped to one, or LaMP ``files`` naming one questions file for
both splits would read the same records for both: such a task is refused, naming the key, at
validation and at load. For every source, the records ``load_task`` gives the two splits share
no id and no (query, reference).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from percontrast import config as pc
from percontrast.data.tasks import load_task

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SPC_DIR = SHARED / "synthetic_persona_chat"
needs_spc = pytest.mark.skipif(not SPC_DIR.is_dir(), reason=f"no SPC samples at {SPC_DIR}")


def _disjoint(train, test) -> None:
    assert train and test
    assert not {r.id for r in train} & {r.id for r in test}
    assert not ({(r.query, r.reference) for r in train}
                & {(r.query, r.reference) for r in test})


def _longlamp_row(i: int, split: str) -> dict:
    return {"name": f"{split}-u{i}", "input": f"Write about {split} thing {i}.",
            "output": f"The {split} text number {i}.",
            "profile": [{"input": "Old topic", "output": f"old text {i}"}]}


def _longlamp_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "ll"
    folder.mkdir()
    for split in ("train", "test"):
        (folder / f"{split}.json").write_text(json.dumps([_longlamp_row(i, split)
                                                         for i in range(6)]))
    return folder


def _lamp_files(tmp_path: Path, split: str) -> dict:
    q, o = tmp_path / f"{split}_questions.json", tmp_path / f"{split}_outputs.json"
    q.write_text(json.dumps([{"id": f"{split}{i}", "input": f"Headline for {split} {i}",
                              "profile": [{"title": "t", "text": "x"}]} for i in range(5)]))
    o.write_text(json.dumps({"task": "LaMP_4", "golds": [
        {"id": f"{split}{i}", "output": f"{split} headline {i}"} for i in range(5)]}))
    return {"questions": str(q), "outputs": str(o)}


def test_every_source_gives_disjoint_train_and_test(tmp_path):
    specs = {
        "demo": {"type": "product_review", "source": "demo", "n_users": 3,
                 "records_per_user": 2},
        "spc": {"type": "dialogue", "source": "spc", "bundled": True},
        "longlamp": {"type": "topic_writing", "source": "longlamp",
                     "path": str(_longlamp_folder(tmp_path))},
        "lamp": {"type": "news_headline", "source": "lamp",
                 "files": {s: _lamp_files(tmp_path, s) for s in ("train", "test")}},
    }
    if SPC_DIR.is_dir():
        specs["spc_path"] = {"type": "dialogue", "source": "spc", "path": str(SPC_DIR),
                             "splits": {"train": "valid", "test": "test"}}
    for name, spec in specs.items():
        train = load_task(name, spec, "train", n=None, seed=0)
        test = load_task(name, spec, "test", n=None, seed=0)
        _disjoint(train, test)


@needs_spc
def test_spc_path_to_one_file_is_refused_at_load_and_validation(repo):
    one = SPC_DIR / "Synthetic-Persona-Chat_test.csv"
    spec = {"type": "dialogue", "source": "spc", "path": str(one)}
    for split in ("train", "test"):
        with pytest.raises(pc.ConfigError) as err:
            load_task("chat", spec, split, n=10, seed=0)
        msg = str(err.value)
        assert msg.startswith("task_registry.chat.path: ") and str(one) in msg
        assert "both the train and the test split" in msg
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg["task_registry"]["spc"] = {**spec, "label": "SPC"}
    with pytest.raises(pc.ConfigError, match=r"^task_registry\.spc\.path: .* is one file"):
        pc.check_config(cfg)


def test_longlamp_path_to_one_file_is_refused(tmp_path):
    one = _longlamp_folder(tmp_path) / "test.json"
    spec = {"type": "topic_writing", "source": "longlamp", "path": str(one)}
    with pytest.raises(pc.ConfigError, match=r"^task_registry\.topic\.path: .*test\.json is "
                                             r"one file"):
        load_task("topic", spec, "train", n=None, seed=0)


def test_split_names_mapped_to_one_split_are_refused(tmp_path):
    spec = {"type": "topic_writing", "source": "longlamp", "path": str(_longlamp_folder(tmp_path)),
            "splits": {"train": "test"}}
    with pytest.raises(pc.ConfigError, match=r"^task_registry\.t\.splits: train and test both "
                                             r"read the 'test' split"):
        load_task("t", spec, "test", n=None, seed=0)


def test_lamp_one_questions_file_for_both_splits_is_refused(tmp_path, repo):
    files = _lamp_files(tmp_path, "dev")
    spec = {"type": "news_headline", "source": "lamp", "files": {"train": files, "test": files}}
    with pytest.raises(pc.ConfigError, match=r"^task_registry\.l4\.files: train and test both "
                                             r"read .*dev_questions\.json"):
        load_task("l4", spec, "train", n=None, seed=0)


def test_train_and_test_files_with_the_same_content_are_refused(tmp_path):
    folder = _longlamp_folder(tmp_path)
    (folder / "train.json").write_bytes((folder / "test.json").read_bytes())
    spec = {"type": "topic_writing", "source": "longlamp", "path": str(folder)}
    with pytest.raises(pc.ConfigError, match=r"^task_registry\.t\.path: the train file .*"
                                             r"train\.json and the test file .*test\.json have "
                                             r"the same content"):
        load_task("t", spec, "test", n=None, seed=0)
    # LaMP: one outputs file for both splits is fine, the same questions are not
    files = {s: _lamp_files(tmp_path, s) for s in ("train", "test")}
    files["train"]["outputs"] = files["test"]["outputs"]
    spec = {"type": "news_headline", "source": "lamp", "files": files}
    assert load_task("l", spec, "test", n=None, seed=0)
