"""Ground-truth marker metrics on hand-made records (percontrast.markers) and in metrics files."""

from __future__ import annotations

import math

import pytest

from percontrast.data.records import Record
from percontrast.markers import has_markers, marker_scores, other_user_markers, score_markers
from percontrast.metrics import example_scores, metrics_file


def rec(rid, user, reference, profile, markers, user_markers):
    return Record(id=rid, task="product_review", user_id=user, query="Write a review.",
                  reference=reference, profile=profile,
                  meta={"markers": markers, "user_markers": user_markers})


ANN = ["Biscuit", "Oslo", "knitting", "Cheers!"]
BOB = ["Pepper", "Lisbon", "chess"]
RECORDS = [
    # reference markers Biscuit, Oslo, Cheers!; the profile shows Biscuit and Cheers! only
    rec("a1", "ann", "Biscuit loved it. Greetings from Oslo. Cheers!",
        ["Biscuit chewed the box. Cheers!", "A fine kettle."], ["Biscuit", "Oslo", "Cheers!"], ANN),
    # no reference marker visible in the profile: no recall for this one
    rec("a2", "ann", "Great for knitting.", ["A fine kettle."], ["knitting"], ANN),
    rec("b1", "bob", "Pepper approves; chess night saved.", ["Pepper sleeps.", "chess club"],
        ["Pepper", "chess"], BOB),
]


def test_other_users_markers():
    others = other_user_markers(RECORDS)
    assert others == {"ann": BOB, "bob": ANN}


def test_marker_scores_by_hand():
    others = other_user_markers(RECORDS)
    s = marker_scores("biscuit slept, cheers! Also Pepper and chess.", RECORDS[0], others["ann"])
    assert s["marker_recall"] == pytest.approx(2 / 2)  # Biscuit + Cheers! of visible 2
    assert s["own_markers"] == 2 and s["leaked_markers"] == 2
    s = marker_scores("Oslo is far.", RECORDS[0], others["ann"])
    assert s["marker_recall"] == 0 and s["own_markers"] == 1  # Oslo was not visible
    assert math.isnan(marker_scores("knitting", RECORDS[1], others["ann"])["marker_recall"])
    s = marker_scores("Peppers and chessboards", RECORDS[2], others["bob"])  # whole words only
    assert s == {"marker_recall": 0.0, "own_markers": 0.0, "leaked_markers": 0.0}


def test_metrics_file_keeps_per_example_scores_and_means():
    preds = ["Biscuit! Cheers!", "knitting with Pepper", "Pepper and chess"]
    markers = score_markers(preds, RECORDS)
    body = metrics_file([r.id for r in RECORDS], {"rouge_l": 0.5, "n": 3, "per_example": {
        "rouge_l": [0.4, 0.5, 0.6]}}, markers)
    assert body["marker_recall"] == pytest.approx((1.0 + 1.0) / 2)  # a2 has none visible
    assert body["n_marker_recall"] == 2
    assert body["own_markers"] == pytest.approx((2 + 1 + 2) / 3)
    assert body["leaked_markers"] == pytest.approx((0 + 1 + 0) / 3)
    assert body["examples"][1] == {"id": "a2", "rouge_l": 0.5, "marker_recall": None,
                                   "own_markers": 1.0, "leaked_markers": 1.0}
    assert example_scores(body, "rouge_l") == {"a1": 0.4, "a2": 0.5, "b1": 0.6}
    with pytest.raises(ValueError, match="no per-example scores"):
        example_scores({"rouge_l": 0.5}, "rouge_l", source="m.json")


def test_records_without_markers_are_refused():
    plain = [Record(id="x", task="product_review", user_id="u", query="q", reference="r",
                    profile=[], meta={})]
    assert not has_markers(plain) and has_markers(RECORDS)
    with pytest.raises(ValueError, match="demo data only"):
        score_markers(["r"], plain)


def test_visibility_follows_what_the_prompt_showed_and_leaks_the_whole_split():
    """A prompt that lost the profile entry with "Cheers!" cannot be asked to reproduce it; the
    other users of a prefix evaluation are those of the whole test split."""
    shown = "You write reviews. Past reviews:\nBiscuit chewed the box."
    rows = score_markers(["Biscuit! Cheers!"], RECORDS[:1], shown=[shown], population=RECORDS)
    assert rows[0]["marker_recall"] == 1.0  # 1 of 1 visible (Cheers! was cut away)
    rows = score_markers(["Biscuit and Pepper"], RECORDS[:1], population=RECORDS)
    assert rows[0]["leaked_markers"] == 1.0  # bob is not among the scored records, still counts
