"""The bundled Synthetic-Persona-Chat: its checksums are verified on every load."""

from __future__ import annotations

import json
import shutil

import pytest

from percontrast import datasets
from percontrast.data.spc import load_spc_personas
from percontrast.data.tasks import load_task
from percontrast.io import DataError


def test_the_bundled_copy_matches_its_manifest_and_loads():
    m = datasets.manifest(datasets.SPC)
    assert m["license"] == "CC-BY-4.0" and m["source"]["commit"] == "1f367a0f"
    for split, n in (("valid", 1000), ("test", 968)):
        path = datasets.spc_csv(split)
        assert path.stat().st_size == m["files"][path.name]["bytes"]
        assert len(load_spc_personas(path)) == n  # every conversation of the split
    recs = load_task("spc", {"type": "dialogue", "source": "spc", "bundled": True}, "train",
                     n=5, seed=0)
    assert len(recs) == 5 and all(r.id.startswith("spc-valid-") for r in recs)
    assert (datasets.ROOT / datasets.SPC / "README.md").read_text().count("CC-BY 4.0")


@pytest.fixture
def copy(tmp_path):
    folder = tmp_path / "spc"
    shutil.copytree(datasets.ROOT / datasets.SPC, folder)
    return folder


def test_a_tampered_file_fails_naming_it(copy):
    path = copy / "Synthetic-Persona-Chat_test.csv"
    data = bytearray(path.read_bytes())
    data[5000] = ord("X") if data[5000] != ord("X") else ord("Y")  # same size, other content
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"Synthetic-Persona-Chat_test\.csv.*SHA-256"):
        datasets.spc_csv("test", root=copy)
    assert datasets.spc_csv("valid", root=copy) == copy / "Synthetic-Persona-Chat_valid.csv"


def test_a_truncated_or_missing_file_fails_naming_it(copy):
    path = copy / "Synthetic-Persona-Chat_valid.csv"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match=r"Synthetic-Persona-Chat_valid\.csv.*bytes"):
        datasets.spc_csv("valid", root=copy)
    path.unlink()
    with pytest.raises(DataError, match=r"Synthetic-Persona-Chat_valid\.csv.*missing"):
        datasets.spc_csv("valid", root=copy)
    with pytest.raises(DataError, match="not part of the bundled"):
        datasets.spc_csv("train", root=copy)


def test_the_manifest_covers_every_shipped_csv():
    files = json.loads((datasets.ROOT / datasets.SPC / "MANIFEST.json").read_text())["files"]
    shipped = sorted(p.name for p in (datasets.ROOT / datasets.SPC).glob("*.csv"))
    assert sorted(files) == shipped
