"""Persona use on real dialogue (percontrast.persona_use), on hand-made turns with known answers,
and the Synthetic-Persona-Chat loader's turn selection that feeds it."""

from __future__ import annotations

import csv
import math

import pytest

from percontrast.data.records import Record
from percontrast.data.spc import load_spc_dialogue
from percontrast.persona_use import (
    KEYS,
    candidates,
    has_grounded_reference,
    persona_words,
    score_replies,
    score_reply,
    summary,
)

PERSONA = ["I have a turtle named timothy.", "My favorite sport is ultimate frisbee."]
CONTEXT = "User 2: Hi! What sport do you play?"
REFERENCE = "I play ultimate frisbee every weekend."
PLACEBO = ["I bake cakes for my neighbours.", "I drive a red truck."]


def test_persona_words_leave_out_what_the_context_already_says_and_frame_words():
    words = persona_words(PERSONA, CONTEXT)
    assert {"turtle", "timothy", "ultimate", "frisbee"} <= set(words)
    assert "sport" not in words          # the partner said it: echoing it needs no persona
    assert "favorite" not in words       # a frame word, true of any persona
    assert "have" not in words and "my" not in words  # stop words


def test_one_reply_scored_by_hand():
    reply = "I love my turtles and frisbee."
    s = score_reply(reply, PERSONA, CONTEXT, REFERENCE, [PLACEBO])
    assert s["persona_words"] == 2.0            # turtle (plural matches), frisbee
    assert s["placebo_words"] == 0.0
    assert s["persona_lift"] == 2.0
    assert s["grounded_recall"] == 0.5          # reference: ultimate, frisbee; reply has frisbee
    assert s["persona_hits1"] == 1.0            # the true persona ranks first alone


def test_a_reply_without_persona_words_scores_chance_at_hits1_and_zero_elsewhere():
    others = [PLACEBO, ["I work at a bank."], ["I grew up on a farm."]]
    s = score_reply("Hello, nice to meet you.", PERSONA, CONTEXT, REFERENCE, others)
    assert s["persona_words"] == 0 and s["placebo_words"] == 0 and s["persona_lift"] == 0
    assert s["grounded_recall"] == 0.0
    assert s["persona_hits1"] == pytest.approx(1 / 4)  # four tied personas share the credit


def test_the_placebo_counts_and_can_win_hits1():
    s = score_reply("I bake cakes in my red truck.", PERSONA, CONTEXT, REFERENCE, [PLACEBO])
    assert s["persona_words"] == 0 and s["placebo_words"] == 4  # bake, cakes, red, truck
    assert s["persona_lift"] == -4 and s["persona_hits1"] == 0.0


def test_grounded_recall_is_undefined_when_the_reference_uses_no_persona_word():
    s = score_reply("frisbee", PERSONA, CONTEXT, "Sounds good to me!", [PLACEBO])
    assert math.isnan(s["grounded_recall"])
    assert not has_grounded_reference(PERSONA, CONTEXT, "Sounds good to me!")
    assert has_grounded_reference(PERSONA, CONTEXT, REFERENCE)


def _record(i: int, conversation: int, persona, reply_ref=REFERENCE) -> Record:
    return Record(id=f"r{i}", task="dialogue", user_id=f"u{i}", query=CONTEXT,
                  reference=reply_ref, profile=list(persona),
                  meta={"conversation": conversation, "persona": list(persona)})


def test_draws_never_take_the_own_conversation_and_are_the_same_for_every_system():
    pop = [_record(0, 0, PERSONA), _record(1, 0, ["I am the partner."]),
           _record(2, 1, PLACEBO), _record(3, 2, ["I work at a bank."])]
    users = {r.user_id: r.meta["conversation"] for r in pop}
    drawn = candidates("r0", "u0", users, seed=0, k=10)
    assert sorted(drawn) == ["u2", "u3"]               # not u1, the partner in conversation 0
    assert candidates("r0", "u0", users, seed=0, k=10) == drawn
    a = score_replies(["turtle frisbee"], pop[:1], pop)
    b = score_replies(["turtle frisbee"], pop[:1], list(reversed(pop)))
    assert a == b and a[0]["persona_words"] == 2 and a[0]["persona_hits1"] == 1.0


def test_summary_means_and_k():
    pop = [_record(0, 0, PERSONA), _record(1, 1, PLACEBO), _record(2, 2, ["I work at a bank."])]
    rows = score_replies(["turtle frisbee", "hello", "I bake"], pop, pop)
    assert set(KEYS) <= set(rows[0])
    out = summary(rows, pop)
    assert out["persona_candidates"] == 3
    assert out["persona_words"] == pytest.approx((2 + 0 + 0) / 3)
    assert out["n_grounded_recall"] == 1    # only r0's reference uses its own persona words
    assert out["grounded_recall"] == 0.5


# --------------------------------------------------------------------------- the loader

def _csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["user 1 personas", "user 2 personas", "Best Generated Conversation"])
        w.writerows(rows)
    return path


CONVERSATION = "\n".join([
    "User 1: Hi, I'm [User 1's name]. What do you do?",
    "User 2: I am a nurse. And you?",
    "User 1: I train dogs at my obedience school.",
    "User 2: Cool! I have a turtle named timothy.",
    "User 1: Nice. Do you like dogs?",
    "User 2: Yes, and I play ultimate frisbee with them.",
])


def test_speakers_first_turns_and_the_grounded_filter(tmp_path):
    path = _csv(tmp_path / "x_test.csv", [[
        "I run a dog obedience school.\nI like to dance.",
        "I have a turtle named timothy.\nMy favorite sport is ultimate frisbee.",
        CONVERSATION]])
    every = load_spc_dialogue(path, speakers=(1, 2), turns_per_conversation=None)
    assert [(r.meta["speaker"], r.meta["turn"]) for r in every] == [
        (1, 2), (1, 4), (2, 1), (2, 3), (2, 5)]
    grounded = load_spc_dialogue(path, speakers=(1, 2), turns_per_conversation=None,
                                 grounded_only=True)
    # user 1 turn 2 (obedience school, dogs) and user 2 turns 3 and 5 (turtle; frisbee);
    # user 1 turn 4 says "dogs", already in the context; user 2 turn 1 has no persona word
    assert [(r.meta["speaker"], r.meta["turn"]) for r in grounded] == [(1, 2), (2, 3), (2, 5)]
    first = load_spc_dialogue(path, speakers=(2,), turns_per_conversation=None, first_turns=2,
                              grounded_only=True)
    assert [r.meta["turn"] for r in first] == [3]  # user 2's first two turns are 1 and 3
    u2 = first[0]
    # the responder is always "User 1": labels swapped in the turns and in their text
    assert u2.query.splitlines()[0] == "User 2: Hi, I'm [User 2's name]. What do you do?"
    assert u2.query.splitlines()[1] == "User 1: I am a nurse. And you?"
    assert u2.user_id.endswith("-u2") and u2.meta["persona"] == u2.profile[:2]
    assert u2.meta["partner_persona"][0] == "I run a dog obedience school."
    assert u2.reference == "Cool! I have a turtle named timothy."
