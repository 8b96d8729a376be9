"""Adding a data source is its loader module plus one registry entry, nothing else: a toy source
(its loader is this module's :func:`load_split`), registered here, is checked by check_config
with its own required key, option and file layout, loaded with its defaults and sampled by
load_task, tracked by the workflow's file fingerprint, planned, retrieved and prompted like the
built-in ones. A toy task type, registered the same way, is validated, prompted and searched
with its own template and retrieval marker."""

from __future__ import annotations

import json

import pytest

from percontrast import config as pc
from percontrast import plan
from percontrast.data import registry
from percontrast.data.records import TASK_TYPES, Record
from percontrast.data.retrieval import retrieval_query, retrieve_top_k
from percontrast.data.tasks import load_task, task_data_files, task_data_fingerprint
from percontrast.prompts import TEMPLATES, record_messages, system_prompt

TOY = registry.Source(
    "toy", "tests.test_toy_source.load_split", "reviews as JSON Lines, one file per split",
    benchmark=registry.LONGLAMP, required={"path": "toy needs a local folder"},
    options={"min_words": 3}, refused_elsewhere=("min_words",),
    path_files=("{split}.jsonl",), named_splits=True)


def load_split(name: str, spec: dict, split: str, *, seed: int) -> list[Record]:
    """The toy loader: every review of at least ``min_words`` words; the other reviews of its
    user are the profile."""
    file = registry.local_split_file(spec, split)
    rows = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]
    records = []
    for i, row in enumerate(rows):
        if len(row["text"].split()) < spec["min_words"]:
            continue
        profile = [r["text"] for j, r in enumerate(rows) if r["user"] == row["user"] and j != i]
        records.append(Record(id=f"toy-{split}-{i}", task=spec["type"], user_id=row["user"],
                              query=f"Review {row['item']}.", reference=row["text"],
                              profile=profile, meta={"dataset": "toy"}))
    return records


@pytest.fixture
def toy():
    registry.register_source(TOY)
    yield TOY
    registry.unregister_source("toy")


def _toy_folder(tmp_path):
    folder = tmp_path / "toy"
    folder.mkdir()
    for split in ("train", "test"):
        rows = [{"user": f"{split}-u{u}", "item": f"kettle {k}",
                 "text": f"{split} user {u} finds kettle {k} splendid, as ever."}
                for u in range(3) for k in range(3)]
        rows.append({"user": f"{split}-u0", "item": "mug", "text": "Fine."})  # under min_words
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def _config(repo, folder):
    cfg = pc.load_config(repo / "configs/tiny.yaml")
    cfg["task_registry"]["toy_reviews"] = {"type": "product_review", "label": "Toy",
                                           "source": "toy", "path": str(folder)}
    cfg["tasks"] = [*cfg["tasks"], "toy_reviews"]
    return cfg


def test_a_registered_source_is_checked_by_its_record(toy, repo, tmp_path):
    cfg = _config(repo, _toy_folder(tmp_path))
    pc.check_config(cfg)
    entry = cfg["task_registry"]["toy_reviews"]
    for change, message in [
            (lambda e: e.pop("path"), "task_registry.toy_reviews.path: toy needs a local folder"),
            (lambda e: e.update(type="news_headline"),
             "task_registry.toy_reviews.type: toy has no 'news_headline' task"),
            (lambda e: e.update(path=str(tmp_path / "toy" / "train.jsonl")),
             "one file per split ({split}.jsonl"),
            (lambda e: e.update(splits={"train": "test"}),
             "task_registry.toy_reviews.splits: train and test both read the 'test' split"),
            (lambda e: e.update(speakers=[1]), "speakers: applies to source spc only")]:
        broken = {**entry}
        change(broken)
        with pytest.raises(pc.ConfigError) as err:
            pc.check_config({**cfg, "task_registry": {**cfg["task_registry"],
                                                        "toy_reviews": broken}})
        assert message in str(err.value)
    # its own option may not be set on another source's task
    review = {**cfg["task_registry"]["review"], "min_words": 2}
    with pytest.raises(pc.ConfigError, match="task_registry.review.min_words: applies to "
                                             "source toy only"):
        pc.check_config({**cfg, "task_registry": {**cfg["task_registry"], "review": review}})


def test_a_registered_source_is_loaded_tracked_planned_and_prompted(toy, repo, tmp_path):
    folder = _toy_folder(tmp_path)
    cfg = _config(repo, folder)
    spec = cfg["task_registry"]["toy_reviews"]
    assert task_data_files(spec, "train") == [str(folder / "train.jsonl")]
    assert list(task_data_fingerprint(spec, "test")) == [str(folder / "test.jsonl")]

    records = load_task("toy_reviews", spec, "train", n=None, seed=0)
    assert len(records) == 9  # the default min_words (3) left "Fine." out
    assert "min_words" not in spec  # defaults reach the loader, not the config's entry
    assert len(load_task("toy_reviews", {**spec, "min_words": 1}, "train", n=None,
                         seed=0)) == 10
    sample = load_task("toy_reviews", spec, "test", n=4, seed=0)
    assert len(sample) == 4 and all(r.user_id.startswith("test-") for r in sample)

    assert any(r.task == "toy_reviews" for r in plan.train_runs(cfg))
    assert "toy_reviews" in plan.all_tasks(cfg)

    retrieved = retrieve_top_k(records, 1, "bm25")
    assert all(len(r.profile) == 1 for r in retrieved)
    system = record_messages(retrieved[0])[0]["content"]
    assert system.startswith(TEMPLATES["product_review"].instruction)
    assert retrieved[0].profile[0] in system


def test_registering_a_taken_name_fails_and_unregistering_keeps_the_built_ins(toy):
    with pytest.raises(ValueError, match="already registered"):
        registry.register_source(TOY)
    registry.unregister_source("demo")
    assert "demo" in registry.SOURCE_NAMES


TOY_TYPE = registry.TaskType(
    "toy_haiku", "PHW", "personalized haiku writing", "Toy",
    registry.Template("Your task is to write haiku for the user.",
                      "The following are the user's previous haiku:",
                      "Write a new haiku in the user's manner.", "Write a new haiku."),
    profile_fields=("haiku",), retrieval_query_after="season:")


def test_a_registered_task_type_is_validated_prompted_and_searched():
    registry.register_task_type(TOY_TYPE)
    try:
        assert "toy_haiku" in TASK_TYPES
        assert "toy_haiku" in registry.TRAINABLE_TASK_TYPES
        assert "toy_haiku" not in registry.QA_TASK_TYPES
        rec = Record.from_dict({"id": "h1", "task": "toy_haiku", "user_id": "u",
                                "query": "Write one. season: autumn rain", "reference": "..."})
        assert retrieval_query(rec.task, rec.query) == "autumn rain"
        assert system_prompt("toy_haiku", ["old pond"]).startswith(
            "Your task is to write haiku for the user.\nThe following are the user's previous")
        assert system_prompt("toy_haiku", None).endswith("Write a new haiku.")
    finally:
        registry.unregister_task_type("toy_haiku")
    assert "toy_haiku" not in TASK_TYPES
    with pytest.raises(ValueError, match="unknown task type 'toy_haiku'"):
        registry.task_type("toy_haiku")
