"""The persona-QA set's one home: a config spec in, rows out, whatever the source."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from percontrast.config import ConfigError
from percontrast.data.demo import generate_persona_qa
from percontrast.io import read_jsonl
from percontrast.llm import LLMError
from percontrast.persona_qa import build_persona_qa_set

GOOD = "Question: Any pets?\nAnswer: My cat sleeps on my lap all day long.\nKeywords: cat, lap"


class ScriptedLLM:
    """Answers the i-th prompt with the i-th scripted reply and remembers the prompts."""

    def __init__(self, replies):
        self.replies, self.prompts = replies, []

    def chat_many(self, conversations, **kw):
        self.prompts = [c[0]["content"] for c in conversations]
        return self.replies[:len(conversations)]


@pytest.fixture
def spc_csv(shared_data):
    return str(shared_data / "synthetic_persona_chat" / "Synthetic-Persona-Chat_test.csv")


def test_demo_source_is_the_demo_generator():
    assert build_persona_qa_set({"source": "demo", "n": 7}, seed=3) == generate_persona_qa(7, 3)
    rows = build_persona_qa_set({}, seed=0)  # the schema's defaults: demo, 100 rows
    assert len(rows) == 100 and rows == generate_persona_qa(100, 0)


def test_synthetic_source_keeps_the_usable_replies_for_sampled_spc_personas(spc_csv):
    from percontrast.data.spc import load_spc_personas

    llm = ScriptedLLM([GOOD, "Sure, here you go!", GOOD, "Question: x?\nAnswer: no."])
    spec = {"source": "synthetic", "n": 4, "spc_csv": spc_csv, "generator": "gen"}
    rows = build_persona_qa_set(spec, seed=5, llm=llm)
    assert len(llm.prompts) == 4 and len(rows) == 2
    known = {" ".join(p["persona"]) for p in load_spc_personas(spc_csv)}
    assert all(r["persona"] in known and r["persona"] in p for r, p in
               zip(rows, [llm.prompts[0], llm.prompts[2]], strict=True))
    assert [r["keywords"] for r in rows] == [["cat", "lap"]] * 2
    again = build_persona_qa_set(spec, seed=5, llm=ScriptedLLM(llm.replies))
    assert again == rows  # the persona sample is seeded


def test_synthetic_source_with_no_usable_reply_is_an_error_naming_the_generator(spc_csv):
    spec = {"source": "synthetic", "n": 3, "spc_csv": spc_csv, "generator": "gen"}
    with pytest.raises(LLMError, match=r"none of the 3 replies of llm 'gen' was usable: "
                                       r"\{'no_question': 3\}"):
        build_persona_qa_set(spec, seed=0, llm=ScriptedLLM(["no idea"] * 3))


def test_bad_specs_name_the_config_key():
    with pytest.raises(ConfigError, match="persona_qa.source: 'web' is not one of"):
        build_persona_qa_set({"source": "web"}, seed=0)
    with pytest.raises(ConfigError, match="persona_qa.spc_csv: required"):
        build_persona_qa_set({"source": "synthetic", "generator": "gen"}, seed=0)
    with pytest.raises(ConfigError, match="persona_qa.generator: no llm entry named 'gen'"):
        build_persona_qa_set({"source": "synthetic", "generator": "gen", "spc_csv": "x.csv"},
                             seed=0, llms={"other": {}})


def _script(repo, tmp_path, spec, *extra):
    out = tmp_path / "pqa.jsonl"
    proc = subprocess.run([sys.executable, "-m", "percontrast", "persona_qa", "--spec",
                           json.dumps(spec), "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=120)
    return proc, out


def test_script_writes_the_demo_rows(repo, tmp_path):
    proc, out = _script(repo, tmp_path, {"source": "demo", "n": 5}, "--seed", "2")
    assert proc.returncode == 0, proc.stderr
    assert read_jsonl(out) == generate_persona_qa(5, 2)


def test_script_fails_with_one_clear_line_and_no_file(repo, tmp_path, spc_csv):
    spec = {"source": "synthetic", "n": 3, "spc_csv": spc_csv, "generator": "gen"}
    proc, out = _script(repo, tmp_path, spec, "--llm", "{}")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: persona_qa.generator: no llm entry named 'gen'")
    assert not out.exists()


def test_the_synthetic_builder_does_not_import_the_benchmark():
    """Keyword spans live in percontrast.spans, so building the set needs no benchmark code."""
    code = "import sys, percontrast.synthetic; print('percontrast.pir_benchmark' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert proc.stdout.strip() == "False"
