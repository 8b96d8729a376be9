"""Issue 31, item 8 and the loaders' part of item 15.

* LaMP: a gold id listed twice (the last one won), a profile entry with no text in any field
  (kept as "", which LongLaMP's loader refuses);
* HotpotQA ``_id`` and DROP ``query_id`` duplicates, refused at load naming the source file
  and both records (they failed one job later, naming the interim file);
* bytes that are not UTF-8 in an SPC CSV, an ALOE file, or the first 4 KB of a HotpotQA / DROP
  file; an SPC cell longer than the csv module's limit: a DataError naming file and line.
"""

from __future__ import annotations

import csv
import json

import pytest

from percontrast.data.aloe import read_aloe_lines
from percontrast.data.lamp import load_lamp
from percontrast.data.qa import load_drop, load_hotpotqa
from percontrast.data.spc import COLUMNS, load_spc_dialogue
from percontrast.io import DataError


def _lamp(tmp_path, questions, golds):
    q, o = tmp_path / "q.json", tmp_path / "o.json"
    q.write_text(json.dumps(questions))
    o.write_text(json.dumps({"task": "LaMP_4", "golds": golds}))
    return q, o


def test_lamp_duplicate_gold_id_is_refused(tmp_path):
    q, o = _lamp(tmp_path, [{"id": "1", "input": "a", "profile": []}],
                 [{"id": "1", "output": "first"}, {"id": "2", "output": "x"},
                  {"id": "1", "output": "second"}])
    with pytest.raises(DataError) as err:
        load_lamp(4, q, o)
    assert str(err.value) == (f"{o}, field 'golds[2].id': gold 2: duplicate id '1' (first at "
                              "gold 0, with different outputs)")


def test_lamp_profile_entry_without_text_is_refused(tmp_path):
    q, o = _lamp(tmp_path, [{"id": "1", "input": "a", "profile": [
        {"title": "ok", "text": "fine"}, {"title": " ", "text": ""}]}],
        [{"id": "1", "output": "A"}])
    with pytest.raises(DataError) as err:
        load_lamp(4, q, o)
    msg = str(err.value)
    assert msg.startswith(f"{q}, field 'profile[1].title': record 0 (id 1): profile entry has "
                          "no text in any of ['title', 'text']")


def _hotpot(qid):
    return {"_id": qid, "question": "q?", "answer": "a", "context": [["T", ["s."]]]}


def test_hotpotqa_duplicate_id_is_refused_naming_both_records(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text("".join(json.dumps(_hotpot(q)) + "\n" for q in ("x", "y", "x")))
    with pytest.raises(DataError) as err:
        load_hotpotqa(path)
    assert str(err.value) == (f"{path}, line 3, field '_id': record 2: duplicate _id 'x' "
                              "(first at record 0, line 1)")


def test_drop_duplicate_query_id_is_refused_naming_both_records(tmp_path):
    def passage(section, qids):
        return {"section_id": section, "passage": "text", "qa_pairs": [
            {"query_id": q, "question": "how many?", "answer": {"number": "3"}} for q in qids]}

    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(passage("s1", ["a", "b"])) + "\n"
                    + json.dumps(passage("s2", ["c", "b"])) + "\n")
    with pytest.raises(DataError) as err:
        load_drop(path)
    assert str(err.value) == (
        f"{path}, line 2, field 'qa_pairs[1].query_id': record 1 (s2), qa_pairs[1]: duplicate "
        "query_id 'b' (first at record 0 (s1), qa_pairs[1], line 1)")


@pytest.mark.parametrize("loader", [load_hotpotqa, load_drop])
def test_qa_file_not_utf8_near_its_start(tmp_path, loader):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"_id": "caf\xe9"}\n')
    with pytest.raises(DataError, match=r"x\.jsonl, line 1: not valid UTF-8 \(byte 0xe9"):
        loader(path)


def _spc_csv(path, conversation="User 1: hi\nUser 2: hello\nUser 1: bye"):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerow(["I bake.", "I run.", conversation])
        writer.writerow(["I bake.", "I run.", conversation])


def test_spc_csv_not_utf8(tmp_path):
    path = tmp_path / "Synthetic-Persona-Chat_test.csv"
    _spc_csv(path)
    data = path.read_bytes().replace(b"bye", b"by\xff", 1)
    path.write_bytes(data)
    line = data[:data.index(b"\xff")].count(b"\n") + 1
    with pytest.raises(DataError, match=rf"_test\.csv, line {line}: not valid UTF-8 "
                                        r"\(byte 0xff at column"):
        load_spc_dialogue(path)


def test_spc_cell_over_the_csv_limit(tmp_path):
    path = tmp_path / "Synthetic-Persona-Chat_test.csv"
    _spc_csv(path, "User 1: " + "x" * (csv.field_size_limit() + 10))
    with pytest.raises(DataError) as err:
        load_spc_dialogue(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}, line 2: the CSV row starting here does not parse")
    assert "a quote that is never closed" in msg


def test_aloe_file_not_utf8(tmp_path):
    path = tmp_path / "profile.jsonl"
    path.write_bytes(b'"fine"\n"caf\xe9"\n')
    with pytest.raises(DataError, match=r"profile\.jsonl, line 2: not valid UTF-8"):
        read_aloe_lines(path)
