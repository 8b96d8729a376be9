"""Dataset loaders: real samples in ../shared/data, fixtures for LongLaMP / LaMP, hub failures."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from percontrast.data import registry
from percontrast.data.aloe import load_aloe_benchmark, read_aloe_lines
from percontrast.data.hub import HubUnavailableError
from percontrast.data.lamp import load_lamp
from percontrast.data.longlamp import load_longlamp, render_profile_entry
from percontrast.data.qa import drop_answer_text, load_drop, load_hotpotqa
from percontrast.data.records import Record, read_records, write_records
from percontrast.data.spc import (
    load_spc_dialogue,
    load_spc_personas,
    parse_conversation,
)
from percontrast.io import DataError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(),
                                  reason=f"real data samples not found at {SHARED}")
SPC_VALID = SHARED / "synthetic_persona_chat" / "Synthetic-Persona-Chat_valid.csv"
SPC_TEST = SHARED / "synthetic_persona_chat" / "Synthetic-Persona-Chat_test.csv"
ALOE = SHARED / "aloe"
HOTPOT = SHARED / "hotpotqa" / "hotpot_dev_distractor_v1_first103.jsonl"
DROP = SHARED / "drop" / "drop_dataset_dev_sample.jsonl"


def _roundtrip(records: list[Record], tmp_path: Path) -> None:
    """Every loader's output must survive the canonical writer/reader (its validation)."""
    out = tmp_path / "records.jsonl"
    write_records(out, records)
    assert read_records(out) == records


# --------------------------------------------------------------------------- Synthetic-Persona-Chat

@needs_shared
def test_spc_personas_real_counts_and_values():
    valid = load_spc_personas(SPC_VALID)
    test = load_spc_personas(SPC_TEST)
    assert len(valid) == 1000 and len(test) == 968
    assert valid[0] == {"id": "spc-valid-0000", "persona": [
        "I love to bake cookies.", "I have a dogs.",
        "The county wide bake sale is where i feel most at home.", "Knitting is my passion."]}
    assert test[1]["persona"][-1] == "I only have one leg."
    assert all(4 <= len(p["persona"]) <= 5 for p in valid + test)
    assert len(load_spc_personas(SPC_VALID, limit=3)) == 3


@needs_shared
def test_spc_dialogue_real(tmp_path):
    valid = load_spc_dialogue(SPC_VALID)
    assert len(valid) == 1000  # one user-1 turn per conversation, every one usable
    # test: conversation 320 has no speaker tags, 510 is empty -> skipped
    test = load_spc_dialogue(SPC_TEST)
    assert len(test) == 966
    assert {r.meta["conversation"] for r in test}.isdisjoint({320, 510})
    r = valid[0]
    assert r.task == "dialogue" and r.user_id == "spc-valid-0000"
    assert r.profile[0] == "I love to bake cookies."
    assert r.id == f"spc-valid-0000-t{r.meta['turn']:02d}"
    lines = r.query.split("\n")
    assert lines[0] == "User 1: Hi!" and lines[1] == "User 2: Hello!"
    assert lines[-1].startswith("User 2: ")  # user 1 speaks next
    assert not r.reference.startswith("User")
    assert r.meta["partner_persona"][0] == "I am a boy."
    _roundtrip(valid[:50], tmp_path)


@needs_shared
def test_spc_dialogue_turn_choice_is_seeded_and_independent_of_limit():
    a = load_spc_dialogue(SPC_VALID, limit=40, seed=1)
    b = load_spc_dialogue(SPC_VALID, limit=40, seed=1)
    c = load_spc_dialogue(SPC_VALID, limit=40, seed=2)
    assert [r.id for r in a] == [r.id for r in b]
    assert [r.id for r in a] != [r.id for r in c]
    assert [r.id for r in load_spc_dialogue(SPC_VALID, limit=10, seed=1)] == [r.id for r in a[:10]]
    every = load_spc_dialogue(SPC_VALID, limit=1, turns_per_conversation=None)
    assert [r.meta["turn"] for r in every] == list(range(2, every[0].meta["n_turns"], 2))
    # min_history_turns=0 makes the opening turn eligible
    opening = load_spc_dialogue(SPC_VALID, limit=1, turns_per_conversation=None,
                                min_history_turns=0)
    assert opening[0].meta["turn"] == 0 and opening[0].query == "" and opening[0].reference == "Hi!"


@needs_shared
def test_spc_odd_conversations_real():
    import csv
    with open(SPC_VALID, newline="", encoding="utf-8") as fh:
        valid = [row["Best Generated Conversation"] for row in csv.DictReader(fh)]
    with open(SPC_TEST, newline="", encoding="utf-8") as fh:
        test = [row["Best Generated Conversation"] for row in csv.DictReader(fh)]
    # "* User 1: Hi! *" markdown wrapping
    turns = parse_conversation(valid[269])
    assert (turns[0].speaker, turns[0].text) == (1, "Hi!")
    assert (turns[1].speaker, turns[1].text) == (2, "Hello!")
    # "*User 1:* Hi there! ..."
    assert parse_conversation(valid[153])[0].text == "Hi there! How are you doing today?"
    # "* * User 1: * * Hello there, ..."
    assert parse_conversation(test[267])[0].text.startswith("Hello there, what are")
    # an untagged recipe continues user 2's turn
    recipe = parse_conversation(valid[18])[11]
    assert recipe.speaker == 2 and "Ingredients:" in recipe.text and "9. Serve" in recipe.text
    # untagged opening lines are user 1's (the first tag is user 2)
    first = parse_conversation(valid[483])[0]
    assert first.speaker == 1 and first.text.startswith("Hi there!\nMy name is User 1.")
    # a trailing "User 1 Profiles: {..." dump is not part of the dialogue
    last = parse_conversation(test[465])[-1]
    assert last.text == "Thanks! I'll keep that in mind."
    # stage directions are dropped, speakers alternate after merging
    for conv in valid[:200] + test[:200]:
        turns = parse_conversation(conv)
        assert all(a.speaker != b.speaker for a, b in zip(turns, turns[1:], strict=False))
        assert not any(t.text.startswith("[") for t in turns)
    assert parse_conversation(test[320]) == [] and parse_conversation(test[510]) == []


def test_spc_missing_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text('user 1 personas,Best Generated Conversation\n"I am x.","User 1: hi"\n')
    with pytest.raises(DataError) as err:
        load_spc_personas(bad)
    assert "bad.csv" in str(err.value) and "user 2 personas" in str(err.value)
    empty = tmp_path / "empty_persona.csv"
    empty.write_text('user 1 personas,user 2 personas,Best Generated Conversation\n'
                     '"I am x.","I am y.","User 1: hi\nUser 2: yo\nUser 1: ok"\n'
                     '"  ","I am y.","User 1: hi"\n')
    with pytest.raises(DataError) as err:
        load_spc_dialogue(empty)
    msg = str(err.value)
    assert "empty_persona.csv" in msg and "line 5" in msg and "conversation 1" in msg
    assert "user 1 personas" in msg


# --------------------------------------------------------------------------- ALOE

@needs_shared
def test_aloe_real():
    profiles = read_aloe_lines(ALOE / "profile.jsonl")
    assert len(profiles) == 331  # 330 lines, line 6 holds two strings
    assert profiles[5].startswith("He is a 37-year-old software engineer")
    assert profiles[5].endswith("host a wedding party next month.")
    assert profiles[6].startswith("He is a 46-year-old high school history teacher")
    assert len(read_aloe_lines(ALOE / "personality.jsonl")) == 71
    assert len(read_aloe_lines(ALOE / "personality_eval.jsonl")) == 7
    bench = load_aloe_benchmark(ALOE / "profile_eval.jsonl", ALOE / "personality_eval.jsonl")
    assert len(bench) == 100 and len({b["id"] for b in bench}) == 100
    assert [b["id"] for b in bench[:6]] == ["p00-s0", "p00-s1", "p00-s2", "p00-s3", "p00-s4",
                                           "p01-s0"]
    assert bench[-1]["id"] == "p19-s4"
    assert bench[0]["profile"].startswith("He is a 33-year-old mechanical engineer")
    assert bench[0]["personality"].startswith("She is spontaneous, often deciding")
    assert bench[7]["profile"].startswith("He is a 39-year-old logistics manager")
    assert bench[7]["personality"] == bench[2]["personality"]
    with pytest.raises(DataError, match="7 personalities, 8 needed"):
        load_aloe_benchmark(ALOE / "profile_eval.jsonl", ALOE / "personality_eval.jsonl",
                            n_personalities=8)


def test_aloe_conversations_dispatch_on_the_source(shared_data):
    from percontrast.data.aloe import aloe_conversations
    from percontrast.data.demo import generate_aloe_like

    files = {"source": "files", "profile_path": str(ALOE / "profile_eval.jsonl"),
             "personality_path": str(ALOE / "personality_eval.jsonl"),
             "n_profiles": 2, "n_personalities": 3}
    rows = aloe_conversations(files, seed=0)
    assert [r["id"] for r in rows] == ["p00-s0", "p00-s1", "p00-s2", "p01-s0", "p01-s1", "p01-s2"]
    demo = aloe_conversations({"source": "demo", "n_profiles": 2, "n_personalities": 3}, seed=5)
    assert demo == generate_aloe_like(2, 3, 5) and len(demo) == 6


def test_aloe_odd_lines(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text('"a"\n\n["b", "c"]\n"d""e"\n"f", "g"\n')
    assert read_aloe_lines(f) == list("abcdefg")
    f.write_text('"a"\n{"x": 1}\n')
    with pytest.raises(DataError, match=r"p.jsonl, line 2: expected a JSON string"):
        read_aloe_lines(f)
    f.write_text('"a"\n"unterminated\n')
    with pytest.raises(DataError, match=r"p.jsonl, line 2: invalid JSON"):
        read_aloe_lines(f)


# --------------------------------------------------------------------------- HotpotQA / DROP

@needs_shared
def test_hotpotqa_real(tmp_path):
    recs = load_hotpotqa(HOTPOT)
    assert len(recs) == 103 and len({r.id for r in recs}) == 103
    r = recs[0]
    assert r.id == "5a8b57f25542995d1e6f1371" and r.task == "hotpotqa"
    assert r.query == "Were Scott Derrickson and Ed Wood of the same nationality?"
    assert r.reference == "yes" and r.meta["answers"] == ["yes"] and r.profile == []
    assert r.meta["type"] == "comparison" and r.meta["level"] == "hard"
    ctx = r.meta["context"].split("\n")
    assert len(ctx) == 10
    assert ctx[0].startswith("Ed Wood (film): Ed Wood is a 1994 American biographical")
    assert "Tim Burton, and starring Johnny Depp as cult filmmaker Ed Wood. The film" in ctx[0]
    assert len(recs[27].meta["context"].split("\n")) == 2  # the one with only 2 paragraphs
    assert recs[5].reference == "YG Entertainment"
    assert sum(r.meta["type"] == "bridge" for r in recs) == 82
    assert [r.id for r in load_hotpotqa(HOTPOT, limit=2)] == [recs[0].id, recs[1].id]
    _roundtrip(recs, tmp_path)


@needs_shared
def test_drop_real(tmp_path):
    recs = load_drop(DROP)
    assert len(recs) == 73 and len({r.id for r in recs}) == 73
    assert [r.meta["section_id"] for r in recs].count("history_655") == 13
    r = recs[0]
    assert r.id == "f37e81fa-ef7b-4583-b671-762fc433faa9"
    assert r.query == "Who scored the first touchdown of the game?"
    assert r.reference == "Chaz Schilens" and r.meta["section_id"] == "nfl_1184"
    # gold answer + 2 validated answers, which disagree with each other
    assert [a["spans"] for a in r.meta["answers"]] == [["Chaz Schilens"], ["Chaz Schilens"],
                                                       ["JaMarcus Russell"]]
    assert r.meta["passage"].startswith("Hoping to rebound from their loss to the Patriots")
    assert recs[1].reference == "3" and len(recs[1].meta["answers"]) == 6
    dated = [x for x in recs if x.meta["answers"][0]["date"]["year"]]
    assert [(x.query, x.reference) for x in dated] == [
        ("When did the first battle against Guadalajara take place?", "1085")]
    assert len(load_drop(DROP, limit=20)) == 20
    _roundtrip(recs, tmp_path)


def test_drop_answer_text_and_errors(tmp_path):
    date = {"day": "", "month": "", "year": ""}
    assert drop_answer_text({"number": "", "date": {"day": "3", "month": "May", "year": "1990"},
                             "spans": []}) == "May 3 1990"
    assert drop_answer_text({"number": "", "date": date, "spans": ["a", "b"]}) == "a, b"
    assert drop_answer_text({"number": 12, "date": date, "spans": []}) == "12"
    passage = {"section_id": "s1", "passage": "P.", "qa_pairs": [
        {"question": "Q1?", "query_id": "q1",
         "answer": {"number": "1", "date": date, "spans": []}},
        {"question": "Q2?", "query_id": "q2",
         "answer": {"number": "", "date": date, "spans": []}}]}
    f = tmp_path / "drop.jsonl"
    f.write_text(json.dumps(passage) + "\n")
    with pytest.raises(DataError) as err:
        load_drop(f)
    msg = str(err.value)
    assert "drop.jsonl" in msg and "line 1" in msg and "q2" in msg
    assert "qa_pairs[1].answer" in msg
    assert len(load_drop(f, limit=1)) == 1  # the bad question is never reached


def test_hotpotqa_errors(tmp_path):
    good = {"_id": "x1", "question": "Q?", "answer": "A", "context": [["T", ["s1.", " s2."]]],
            "type": "bridge", "level": "easy"}
    f = tmp_path / "hotpot.jsonl"
    f.write_text(json.dumps(good) + "\n" + json.dumps({**good, "_id": "x2", "answer": ""}) + "\n")
    with pytest.raises(DataError) as err:
        load_hotpotqa(f)
    assert "hotpot.jsonl" in str(err.value) and "line 2" in str(err.value)
    assert "'answer'" in str(err.value) and "x2" in str(err.value)
    f.write_text(json.dumps([good]))  # the original dev file is a JSON list
    assert load_hotpotqa(f)[0].meta["context"] == "T: s1. s2."


# --------------------------------------------------------------------------- LongLaMP (fixtures)

def _longlamp_rows():
    return {
        "topic_writing": [
            {"name": "u1", "input": "Write about rain.", "output": "Rain is wet.",
             "profile": [{"input": "Sun", "output": "The sun is hot."},
                         {"input": "Snow", "output": "Snow is cold."}]},
            {"input": "Write about fog.", "output": "Fog is grey.",
             "profile": [{"input": "Wind", "output": "Wind blows."}]}],
        "product_review": [
            {"input": "Review this kettle.", "output": "Boils fast.",
             "profile": [{"overall": 5.0, "summary": "Great", "description": "A mug.",
                          "reviewText": "I love it."},
                         {"overall": 2.0, "summary": "", "reviewText": "Broke."}]}],
        "abstract_generation": [
            {"name": "Ada L.", "input": "Generate an abstract for the title X using items: a, b",
             "output": "We study X.",
             "profile": [{"title": "On Y", "abstract": "We study Y.", "id": "p1"}]}],
    }


@pytest.mark.parametrize("suffix", ["json", "jsonl"])
def test_longlamp_local_files(tmp_path, suffix):
    rows = _longlamp_rows()
    for task_type, recs in rows.items():
        folder = tmp_path / task_type
        folder.mkdir()
        text = (json.dumps(recs) if suffix == "json"
                else "".join(json.dumps(r) + "\n" for r in recs))
        (folder / f"val.{suffix}").write_text(text)
    tw = load_longlamp("topic_writing", "val", path=tmp_path / "topic_writing")
    assert [r.id for r in tw] == ["topic_writing-val-u1", "topic_writing-val-1"]
    assert [r.user_id for r in tw] == ["u1", "topic_writing-val-1"]
    assert tw[0].profile == ["Sun The sun is hot.", "Snow Snow is cold."]
    assert (tw[0].query, tw[0].reference, tw[0].task) == ("Write about rain.", "Rain is wet.",
                                                          "topic_writing")
    pr = load_longlamp("product_review", "val", path=tmp_path / "product_review")
    assert pr[0].profile == ["5.0 Great A mug. I love it.", "2.0 Broke."]
    ag = load_longlamp("abstract_generation", "val", path=tmp_path / "abstract_generation")
    assert ag[0].profile == ["On Y We study Y."] and ag[0].user_id == "Ada L."
    assert len(load_longlamp("topic_writing", "val", path=tmp_path / "topic_writing",
                             limit=1)) == 1
    _roundtrip(tw + pr + ag, tmp_path)
    with pytest.raises(FileNotFoundError, match="test.json"):
        load_longlamp("topic_writing", "test", path=tmp_path / "topic_writing")


def test_longlamp_render_profile_entry():
    assert set(registry.types_of(registry.LONGLAMP)) == {
        "topic_writing", "product_review", "abstract_generation"}
    assert render_profile_entry("topic_writing", {"input": "a", "output": "b"}) == "a b"
    assert render_profile_entry("abstract_generation",
                                {"title": "T", "abstract": "A", "year": 2000}) == "T A"
    assert render_profile_entry("product_review", {"reviewText": "only text"}) == "only text"
    with pytest.raises(ValueError, match="unknown LongLaMP task type"):
        render_profile_entry("news_headline", {})


@pytest.mark.parametrize("suffix", ["json", "jsonl"])
@pytest.mark.parametrize("mutate, field", [
    (lambda r: r.pop("output"), "output"),
    (lambda r: r.update(input=["not", "text"]), "input"),
    (lambda r: r.update(profile="nope"), "profile"),
    (lambda r: r["profile"][1].pop("output"), "profile[1].output"),
    (lambda r: r["profile"][0].update(input={"x": 1}), "profile[0].input"),
])
def test_longlamp_malformed(tmp_path, suffix, mutate, field):
    recs = _longlamp_rows()["topic_writing"] * 2  # the bad one is record 2 (third)
    recs = json.loads(json.dumps(recs))
    recs.append(json.loads(json.dumps(recs[0])))
    mutate(recs[2])
    f = tmp_path / f"train.{suffix}"
    f.write_text(json.dumps(recs) if suffix == "json"
                 else "".join(json.dumps(r) + "\n" for r in recs))
    with pytest.raises(DataError) as err:
        load_longlamp("topic_writing", "train", path=tmp_path)
    msg = str(err.value)
    assert f"train.{suffix}" in msg and "record 2" in msg and f"'{field}'" in msg
    if suffix == "jsonl":
        assert "line 3" in msg


# --------------------------------------------------------------------------- LaMP (fixtures)

def _write_lamp(tmp_path, number, questions, golds, task=None):
    q, o = tmp_path / "dev_questions.json", tmp_path / "dev_outputs.json"
    q.write_text(json.dumps(questions))
    o.write_text(json.dumps({"task": task or f"LaMP_{number}", "golds": golds}))
    return q, o


def test_lamp_tasks(tmp_path):
    q, o = _write_lamp(tmp_path, 4, [
        {"id": "400", "input": "Generate a headline for: X",
         "profile": [{"id": "4000", "title": "Old news", "text": "Something happened."}]},
        {"id": "401", "input": "Generate a headline for: Y", "profile": []}],
        [{"id": "401", "output": "Y!"}, {"id": "400", "output": "X!"},
         {"id": "999", "output": "?"}])
    recs = load_lamp(4, q, o)
    assert [(r.id, r.task, r.reference) for r in recs] == [
        ("LaMP_4-400", "news_headline", "X!"), ("LaMP_4-401", "news_headline", "Y!")]
    assert recs[0].profile == ["Old news Something happened."]
    assert recs[0].query == "Generate a headline for: X"
    _roundtrip(recs, tmp_path)
    q, o = _write_lamp(tmp_path, 5, [{"id": 5, "input": "title?", "profile": [
        {"id": "a", "title": "Paper", "abstract": "We show."}]}], [{"id": "5", "output": "T"}])
    recs = load_lamp("LaMP_5", q, o)
    assert recs[0].task == "scholarly_title" and recs[0].profile == ["Paper We show."]
    q, o = _write_lamp(tmp_path, 7, [{"id": "7", "input": "paraphrase", "profile": [
        {"id": "b", "text": "my tweet"}]}], [{"id": "7", "output": "new tweet"}])
    recs = load_lamp("7", q, o, limit=1)
    assert recs[0].task == "tweet_paraphrase" and recs[0].profile == ["my tweet"]
    with pytest.raises(ValueError, match="unsupported LaMP task"):
        load_lamp(2, q, o)


def test_lamp_errors(tmp_path):
    qs = [{"id": "1", "input": "a", "profile": []}, {"id": "2", "input": "b", "profile": []}]
    q, o = _write_lamp(tmp_path, 4, qs, [{"id": "1", "output": "A"}])
    with pytest.raises(DataError) as err:
        load_lamp(4, q, o)
    msg = str(err.value)
    assert "dev_questions.json" in msg and "dev_outputs.json" in msg and "'2'" in msg
    q, o = _write_lamp(tmp_path, 4, [{"id": "1", "input": "a", "profile": [
        {"id": "p", "title": "t"}]}], [{"id": "1", "output": "A"}])
    with pytest.raises(DataError) as err:
        load_lamp(4, q, o)
    msg = str(err.value)
    assert "dev_questions.json" in msg and "record 0" in msg and "'profile[0].text'" in msg
    q, o = _write_lamp(tmp_path, 4, [{"id": "1", "input": 3, "profile": []}],
                       [{"id": "1", "output": "A"}])
    with pytest.raises(DataError, match=r"field 'input'.*record 0"):
        load_lamp(4, q, o)
    q, o = _write_lamp(tmp_path, 4, qs, [], task="LaMP_5")
    with pytest.raises(DataError, match="field 'task'"):
        load_lamp(4, q, o)


# --------------------------------------------------------------------------- hub failures

@pytest.fixture
def no_hub(monkeypatch, tmp_path):
    """Point the hub at a closed local port and the caches at an empty folder."""
    import datasets.config
    from huggingface_hub import constants

    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets")
    monkeypatch.setenv("PERCONTRAST_HUB_TIMEOUT", "3")


def test_longlamp_hub_unreachable_fails_fast(no_hub):
    start = time.monotonic()
    with pytest.raises(HubUnavailableError) as err:
        load_longlamp("product_review", "val", path=None)
    assert time.monotonic() - start < 10
    msg = str(err.value)
    assert "LongLaMP/LongLaMP" in msg and "product_review_user" in msg and "`path=`" in msg


def test_hub_offline_env_is_respected(no_hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(HubUnavailableError) as err:
        load_spc_personas(None, split="valid")
    assert time.monotonic() - start < 10
    assert "google/Synthetic-Persona-Chat" in str(err.value) and "offline" in str(err.value)
    assert "csv_path=" in str(err.value)
