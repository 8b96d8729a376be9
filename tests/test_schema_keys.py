"""No config key that lies: every key the schema accepts is read by the code.

A key the schema accepts but no code reads is silently ignored (``generation.backend: vllm`` once
was): the user who sets it believes it does something. This walks every property path of the
schema and looks, in src/, scripts/ and workflow/, for its name used as a key: ``["key"]``,
``.get("key"``, ``"key" in``, ``.pop("key"`` or a Snakemake ``{params.x[key]}`` field. A key read
only indirectly (by a variable, or passed on whole as a section) is allow-listed below, with
where it is read.

The search is by name, so a name read in one section also covers a same-named key in another;
refused values (vllm) are tested in tests/test_config.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from percontrast import config as pc
from tests.conftest import REPO

#: Keys read without their name as a literal key, and where.
INDIRECT = {
    # percontrast.data.registry.source_split: renames split, "train" or "test", when listed
    "task_registry.*.splits.train",
    "task_registry.*.splits.test",
}


def schema_paths(schema: dict) -> list[tuple[str, ...]]:
    """Every property path of the schema (``*`` for a map's values, ``[]`` for list items)."""
    defs = schema.get("$defs", {})
    out: list[tuple[str, ...]] = []

    def walk(node, path, seen_refs):
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if ref and ref not in seen_refs:
            walk(defs[ref.rsplit("/", 1)[1]], path, seen_refs | {ref})
        for key, sub in node.get("properties", {}).items():
            out.append((*path, key))
            walk(sub, (*path, key), seen_refs)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], (*path, "*"), seen_refs)
        if isinstance(node.get("items"), dict):
            walk(node["items"], (*path, "[]"), seen_refs)
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(key, []):
                walk(sub, path, seen_refs)
        for key in ("if", "then", "else"):
            walk(node.get(key), path, seen_refs)

    walk(schema, (), frozenset())
    return list(dict.fromkeys(out))


def code_text() -> str:
    files = [p for folder in ("src", "scripts", "workflow") for p in (REPO / folder).rglob("*")
             if p.is_file() and (p.suffix in (".py", ".smk", ".sh") or p.name == "Snakefile")]
    assert len(files) > 20
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def read_patterns(key: str) -> list[str]:
    k = re.escape(key)
    q = rf"""["']{k}["']"""
    other = r"""["'][\w-]+["']"""
    return [rf"\[\s*{q}\s*\]", rf"\bget\(\s*{q}", rf"\bpop\(\s*{q}",
            rf"{q}\s+(?:not\s+)?in\b", rf"\[{k}\]\}}",
            # a key among a literal tuple/list of names that is looped over
            rf"\(\s*(?:{other},\s*)*{q}(?:,\s*{other})*,?\s*\)"]


def unread_keys(paths, text: str) -> list[str]:
    missing = []
    for path in paths:
        dotted = ".".join(path)
        if dotted in INDIRECT:
            continue
        if not any(re.search(p, text) for p in read_patterns(path[-1])):
            missing.append(dotted)
    return missing


@pytest.fixture(scope="module")
def paths():
    return schema_paths(pc.load_schema())


def test_the_walk_finds_every_section(paths):
    dotted = {".".join(p) for p in paths}
    for expected in ("generation.batch_size", "generation.model_batch_size",
                     "model_registry.*.batch_size", "llm.*.timeout_s",
                     "training.lora.target_modules", "task_registry.*.files.train.questions",
                     "report.bootstrap.confidence", "bench.profile_entries"):
        assert expected in dotted
    assert len(paths) > 150


def test_every_schema_key_is_read_somewhere(paths):
    missing = unread_keys(paths, code_text())
    assert not missing, (f"schema keys no code reads (remove or refuse them; allow-list a key "
                         f"read indirectly in INDIRECT): {missing}")


def test_the_allow_list_names_real_keys(paths):
    assert INDIRECT <= {".".join(p) for p in paths}


def test_an_unread_key_is_caught(paths):
    """The check fails for a key no code reads (as generation.backend's vllm once was)."""
    extra = [("generation", "sampler_backend_nobody_reads")]
    assert unread_keys(paths + extra, code_text()) == ["generation.sampler_backend_nobody_reads"]
    # and by-name reads count, in Python and in Snakemake's params fields
    assert not unread_keys([("x", "batch_size")], 'cfg.get("batch_size", 8)')
    assert not unread_keys([("x", "steps")], "--steps {params.bench[steps]}")
    assert unread_keys([("x", "steps")], "# steps are counted") == ["x.steps"]


def test_scripts_and_workflow_are_searched():
    assert Path(REPO / "workflow" / "rules" / "bench.smk").is_file()
    assert "profile_entries" in code_text()
