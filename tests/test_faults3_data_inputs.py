"""Issue 31, item 2: editing a data file reruns the jobs that read it, and only those.

``load_task`` declares the local files of its split as inputs (``ancient``: a file that is only
touched reruns nothing) and carries their SHA-256 in its spec, so a file replaced by other
content reruns the job even when the new file is older than the output. ``prepare_model`` does
the same for a ``local`` model folder (a fingerprint of its files), ``aloe_conversations`` for
the ALOE files. Entries without local files keep the spec they had, so nothing reruns for them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import yaml

from tests.conftest import TINY_CONFIG, snakemake

OLD = 1_000_000_000  # 2001: older than any output a test writes


def _rows(split: str, tag: str) -> list[dict]:
    return [{"name": f"{split}-{tag}-u{i}", "input": f"Write about {tag} {split} {i}.",
             "output": f"The {tag} {split} text {i}.",
             "profile": [{"input": "Old topic", "output": f"old {i}"}]} for i in range(4)]


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    ll = tmp_path / "ll"
    ll.mkdir()
    for split in ("train", "test"):
        (ll / f"{split}.json").write_text(json.dumps(_rows(split, "first")))
    aloe = tmp_path / "aloe"
    aloe.mkdir()
    for name in ("profile", "personality"):
        (aloe / f"{name}.jsonl").write_text("".join(f'"{name} {i}"\n' for i in range(3)))
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    cfg["task_registry"]["ll"] = {"type": "topic_writing", "label": "LL", "source": "longlamp",
                                  "path": str(ll)}
    cfg["evaluation"]["aloe"].update(source="files", n_profiles=2, n_personalities=2,
                                     profile_path=str(aloe / "profile.jsonl"),
                                     personality_path=str(aloe / "personality.jsonl"))
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path, ll


TARGETS = ("data/interim/ll/train.jsonl", "data/interim/ll/test.jsonl",
           "data/processed/aloe/conversations.jsonl")


def _pending(work: Path, cfg: Path) -> set[str]:
    """The targets Snakemake would (re)make."""
    result = snakemake("--configfile", str(cfg), "--summary", *TARGETS, cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = csv.DictReader(io.StringIO(result.stdout[result.stdout.index("output_file"):]),
                          delimiter="\t")
    return {r["output_file"] for r in rows if r["plan"] == "update pending"}


def test_editing_a_data_file_reruns_only_the_jobs_that_read_it(tmp_path):
    cfg, ll = _setup(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    result = snakemake("--configfile", str(cfg), "--cores", "1", *TARGETS, cwd=work, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    test_out = work / "data/interim/ll/test.jsonl"
    assert "first" in test_out.read_text()
    assert _pending(work, cfg) == set()
    # touched, same content: nothing to do
    (ll / "test.json").touch()
    assert _pending(work, cfg) == set()
    # new content in an *older* file (cp -p, mv): the test split reruns, the train split not
    (ll / "test.json").write_text(json.dumps(_rows("test", "second")))
    os.utime(ll / "test.json", (OLD, OLD))
    assert _pending(work, cfg) == {"data/interim/ll/test.jsonl"}
    # an ALOE file edited: only its job
    (ll / "test.json").write_text(json.dumps(_rows("test", "first")))
    os.utime(ll / "test.json", (OLD, OLD))
    aloe = tmp_path / "aloe" / "profile.jsonl"
    aloe.write_text('"someone else"\n"p 1"\n')
    os.utime(aloe, (OLD, OLD))
    assert _pending(work, cfg) == {"data/processed/aloe/conversations.jsonl"}
    result = snakemake("--configfile", str(cfg), "--cores", "1", *TARGETS, cwd=work, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "someone else" in (work / TARGETS[2]).read_text()


def test_a_local_model_folder_change_changes_the_prepare_model_job(tmp_path):
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    cfg["model_registry"]["loc"] = {"source": "local", "path": str(folder), "label": "L"}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))

    def command() -> str:
        result = snakemake("--configfile", str(path), "-n", "-p", "data/models/loc",
                           cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        found = re.search(r"percontrast prepare_model .*", result.stdout)
        assert found, result.stdout[-2000:]
        return found.group(0)

    before = command()
    (folder / "model.safetensors").write_bytes(b"weights")
    os.utime(folder / "model.safetensors", (OLD, OLD))
    after = command()
    assert after != before  # the job's params differ: Snakemake reruns it


def test_folder_fingerprint_follows_the_files(tmp_path):
    from percontrast.io import folder_fingerprint

    assert folder_fingerprint(tmp_path / "nope") == "missing"
    (tmp_path / "a").write_text("1")
    first = folder_fingerprint(tmp_path)
    assert folder_fingerprint(tmp_path) == first
    (tmp_path / "a").write_text("22")
    assert folder_fingerprint(tmp_path) != first


def test_task_data_files_per_source(tmp_path):
    from percontrast.data.tasks import task_data_files, task_data_fingerprint
    from percontrast.io import file_sha256

    ll = tmp_path / "ll"
    ll.mkdir()
    (ll / "train.jsonl").write_text("{}\n")
    (ll / "test.json").write_text("[]")
    spec = {"source": "longlamp", "type": "topic_writing", "path": str(ll)}
    assert task_data_files(spec, "train") == [str(ll / "train.jsonl")]
    assert task_data_files(spec, "test") == [str(ll / "test.json")]
    assert task_data_fingerprint(spec, "test") == {str(ll / "test.json"):
                                                   file_sha256(ll / "test.json")}
    spc = tmp_path / "spc"
    spc.mkdir()
    (spc / "Synthetic-Persona-Chat_valid.csv").write_text("x")
    spec = {"source": "spc", "type": "dialogue", "path": str(spc),
            "splits": {"train": "valid", "test": "test"}}
    assert task_data_files(spec, "train") == [str(spc / "Synthetic-Persona-Chat_valid.csv")]
    assert task_data_files(spec, "test") == []  # absent: the loader names it
    lamp = {"source": "lamp", "type": "news_headline", "files": {
        "train": {"questions": str(ll / "train.jsonl"), "outputs": str(ll / "test.json")}}}
    assert task_data_files(lamp, "train") == [str(ll / "train.jsonl"), str(ll / "test.json")]
    for spec in ({"source": "demo", "type": "topic_writing"},
                 {"source": "spc", "type": "dialogue", "bundled": True},
                 {"source": "longlamp", "type": "topic_writing"}):
        assert task_data_files(spec, "train") == [] and task_data_fingerprint(spec, "test") == {}
    assert file_sha256(tmp_path / "nope") == "missing"
    assert file_sha256(ll / "test.json") == (
        "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945")  # sha256("[]")
