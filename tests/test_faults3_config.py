"""Issue 31, items 6 and 15 (config): duplicate YAML keys, a YAML list, ``--config`` alone.

YAML keeps the last of two equal keys without a word: ``seed: 7`` appended to a config changed
every job's seed, and a second ``review:`` under ``task_registry`` replaced the task. Both
``load_config`` and the workflow's ``--configfile`` (or config.yaml) refuse such a file, naming
the key and both lines.
"""

from __future__ import annotations

import shutil

import pytest

from percontrast import config as pc
from tests.conftest import REPO, snakemake

TINY = REPO / "configs" / "tiny.yaml"


def _line_of(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def test_load_config_refuses_an_appended_seed(tmp_path):
    text = TINY.read_text()
    path = tmp_path / "c.yaml"
    path.write_text(text + "seed: 7\n")
    first, last = _line_of(text, "seed:"), len(text.splitlines()) + 1
    with pytest.raises(pc.ConfigError) as err:
        pc.load_config(path)
    assert str(err.value).startswith(f"seed: duplicate key in {path}, lines {first} and {last}")


def test_load_config_refuses_a_second_task_of_one_name(tmp_path):
    text = TINY.read_text()
    extra = "  review: {type: topic_writing, label: X, source: demo}\n"
    at = text.index("tasks: [")
    path = tmp_path / "c.yaml"
    path.write_text(text[:at] + extra + text[at:])
    first = _line_of(text, "  review:")
    second = text[:at].count("\n") + 1
    with pytest.raises(pc.ConfigError, match=rf"^task_registry\.review: duplicate key in .*, "
                                             rf"lines {first} and {second}"):
        pc.load_config(path)


def test_merge_keys_may_override_and_nested_duplicates_are_found():
    text = "base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  x: 3\n"
    assert pc.duplicate_key_problem(text) is None
    text = "a:\n  - {k: 1}\n  - {k: 1, k: 2}\n"
    assert pc.duplicate_key_problem(text, "f.yaml") == (
        "a[1].k: duplicate key in f.yaml, line 3, columns 6 and 12 (YAML would silently keep the "
        "last one); remove one of them")


@pytest.mark.parametrize("text, kind", [("- a\n- b\n", "list"), ("just text\n", "str")])
def test_load_config_of_a_yaml_that_is_not_a_mapping(tmp_path, text, kind):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(pc.ConfigError, match=rf"^<top level>: .*c\.yaml holds a YAML {kind}"):
        pc.load_config(path)


def test_the_workflow_refuses_a_configfile_with_a_duplicate_key(tmp_path):
    text = TINY.read_text()
    path = tmp_path / "c.yaml"
    path.write_text(text + "seed: 7\n")
    result = snakemake("--configfile", str(path), "-n", "data/interim/review/train.jsonl",
                       cwd=tmp_path)
    assert result.returncode != 0
    first, last = _line_of(text, "seed:"), len(text.splitlines()) + 1
    assert (f"invalid config: seed: duplicate key in {path}, lines {first} and {last}"
            in result.stderr + result.stdout)


def test_config_values_alone_apply_on_top_of_config_yaml(tmp_path):
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    result = snakemake("--config", "run_name=mine", "-n", "-p", "data/interim/review/train.jsonl",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--seed 42" in result.stdout  # config.yaml's seed: it was read


def test_an_oversized_config_value_is_refused_at_validation_naming_it(repo):
    from percontrast.config_values import MAX_CONFIG_BYTES

    cfg = pc.read_config_file(repo / "configs/tiny.yaml")
    cfg["task_registry"]["review"]["label"] = "x" * (128 * 1024 + 1)
    with pytest.raises(pc.ConfigError) as err:
        pc.validate_schema(cfg)
    msg = str(err.value)
    assert msg.startswith("task_registry.review.label: 131,077 bytes, which makes the config ")
    assert f"at most {MAX_CONFIG_BYTES:,}" in msg and "Argument list too long" in msg
    # many values that are each small add up the same way
    cfg = pc.read_config_file(repo / "configs/tiny.yaml")
    cfg["description"] = "'" * 20_000  # each ' is 5 bytes once shell-quoted
    with pytest.raises(pc.ConfigError, match=r"^description: "):
        pc.validate_schema(cfg)
    for name in ("config.yaml", "configs/paper.yaml", "configs/cpu-full.yaml"):
        pc.load_config(repo / name)  # the shipped configs are far below the limit
