"""Config values the schema cannot bound: alias bombs, deep nesting, NaN and infinity."""

from __future__ import annotations

import time

import pytest
import yaml

from percontrast import config as pc
from percontrast.config_values import MAX_DEPTH, value_problem


def _tiny(repo) -> dict:
    return yaml.safe_load((repo / "configs/tiny.yaml").read_text())


def test_an_alias_bomb_in_a_free_form_object_is_refused_in_milliseconds(repo):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = yaml.safe_load("\n".join(levels))  # 10^9 leaves once expanded
    cfg = _tiny(repo)
    cfg["model_registry"]["tiny-llama"]["chat_template_kwargs"] = {"x": bomb["a8"]}
    start = time.perf_counter()
    where = r"^model_registry\.tiny-llama\.chat_template_kwargs: "
    with pytest.raises(pc.ConfigError, match=where + ".*alias bomb"):
        pc.validate_schema(cfg)
    assert time.perf_counter() - start < 5


def test_too_deep_a_value_is_refused_naming_the_key(repo):
    deep: dict = {}
    node = deep
    for _ in range(MAX_DEPTH + 2):
        node["k"] = {}
        node = node["k"]
    cfg = _tiny(repo)
    cfg["model_registry"]["tiny-llama"]["chat_template_kwargs"] = deep
    with pytest.raises(pc.ConfigError, match=r"model_registry\.tiny-llama\.chat_template_kwargs"
                                             r"\.k.*levels deep"):
        pc.validate_schema(cfg)


@pytest.mark.parametrize("section, key, value, path", [
    ("training", "learning_rates", [float("nan"), 1e-3], r"training\.learning_rates\[0\]"),
    ("training", "clip", [0.8, float("inf")], r"training\.clip\[1\]"),
    ("generation", "temperature", float("nan"), r"generation\.temperature"),
    ("pir", "threshold", float("nan"), r"pir\.threshold"),
    ("training", "main_learning_rate", float("-inf"), r"training\.main_learning_rate"),
])
def test_non_finite_numbers_are_refused_naming_the_key(repo, section, key, value, path):
    cfg = _tiny(repo)
    cfg[section][key] = value
    with pytest.raises(pc.ConfigError, match=rf"^{path}: .* is not a finite number"):
        pc.validate_schema(cfg)


def test_ordinary_configs_pass(repo):
    for name in ("config.yaml", "configs/tiny.yaml", "configs/paper.yaml", "configs/cpu-full.yaml"):
        assert value_problem(yaml.safe_load((repo / name).read_text())) is None


@pytest.mark.parametrize("edit, path, message", [
    (lambda c: c.__setitem__("models", ["tiny-llama\n"]), r"models\.0", "does not match"),
    (lambda c: c["model_registry"].__setitem__("m" * 300, {"source": "tiny"}),
     r"model_registry", "does not match"),
    (lambda c: c.__setitem__("seed", 2**70), r"seed", "greater than the maximum"),
    (lambda c: c["training"].__setitem__("seeds", [0, 2**40]), r"training\.seeds\.1",
     "greater than the maximum"),
    (lambda c: c["generation"].__setitem__("max_new_tokens", 10**9),
     r"generation\.max_new_tokens", "greater than the maximum"),
    (lambda c: c["llm"]["local"].__setitem__("max_new_tokens", 10**9),
     r"llm\.local\.max_new_tokens", "greater than the maximum"),
])
def test_values_that_used_to_fail_late_are_refused_at_validation(repo, edit, path, message):
    cfg = _tiny(repo)
    edit(cfg)
    with pytest.raises(pc.ConfigError, match=rf"^{path}.*{message}"):
        pc.validate_schema(cfg)
