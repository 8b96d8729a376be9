"""The judge parser reads only 1-5 scores (issue 31 item 7).

A 10-point answer ("Score: 4/10", "3 out of 10"), a negative number ("Score: -3") or an exponent
("Score: 1e1") is not a 1-5 score: it is missing, and re-asked as an unparseable reply is. Every
1-5 answer that parsed before parses the same (the pinned list below and test_aloe's).
"""

from __future__ import annotations

import pytest

from percontrast.llm import ChatLLM, ResponseCache
from percontrast.llm_judge import judge_many, parse_quality, parse_score

NOT_1_TO_5 = [
    "Score: 4/10", "Score: 4 / 10", "Score:4/10", "Score: 4.5/10", "Rating: 3/10.",
    "Score: 3 out of 10", "I'd rate this a 3 out of 10", "rate it 3/10", "Score: 3 of 10",
    "Score: 4 (out of 10)", "Score: 4 on a scale of 1 to 10", "Score: 4 on a scale of 0-10",
    "Score: 4 on a 10-point scale", "Score: 3/10 -> 1.5/5", "Score: 2/4", "Score: 1/3",
    "Score: -3", "score -2", "Score:-4", "Rating: -1", "-3", "Score: \u22123",
    "Score: 1e1", "Score: 1E1", "Score: 4e0", "Score: 2e-1", "Score: 3E+0", "1e1",
    "3 out of 10", "4/10",
]


@pytest.mark.parametrize("reply", NOT_1_TO_5)
def test_a_reply_on_another_scale_or_negative_or_with_an_exponent_is_missing(reply):
    assert parse_score(reply) is None


SAME_AS_BEFORE = [  # replies that parsed before the fix, and their scores
    ("Score: 4", 4.0), ("Score: 4/5", 4.0), ("Score: 4 / 5", 4.0), ("Score: 4 out of 5", 4.0),
    ("4/5", 4.0), ("I would give it 5 out of 5", 5.0), ("Score: 4 on a scale of 1 to 5", 4.0),
    ("Score: 4 (on a scale of 1-5)", 4.0), ("Score: 4 on a 5-point scale", 4.0),
    ("Score (1-5): 4", 4.0), ("Score: 4-5", 4.0), ("Score: 3 - good", 3.0),
    ("Score: 2.5", 2.5), ("Score: 4.", 4.0), ("Score: 4 (a score of 5 would...)", 4.0),
    ("Score: 4 out of 5 (not 10)", 4.0), ("Score: 4/5 and 8/10", 4.0), ("3", 3.0),
    ("4 - The answer aligns with the reference", 4.0), ("3. The answer is tailored", 3.0),
    ("I'd rate this a 4.", 4.0), ('{"score": 4}', 4.0), ("Score: [[4]]", 4.0),
    ("Score: <4>", 4.0), ("**Score**: 4", 4.0), ("Rating: 4", 4.0), ("Score: 3e", 3.0),
    ("Score: 4 of 5", 4.0), ("Score - 4", 4.0), ("- 3", 3.0),
    ("Score: 5 (excellent, 10/10 would read)", 5.0),
    ("<think>it is 8/10, so -2</think>Score: 4", 4.0),
]


@pytest.mark.parametrize("reply, score", SAME_AS_BEFORE)
def test_1_to_5_replies_parse_as_before(reply, score):
    assert parse_score(reply) == score


@pytest.mark.parametrize("reply", [
    "Coherence: 4/10\nConsistency: 3/10\nFluency: 5/10\nRelevance: 2/10",
    "Coherence: 4 out of 10, Consistency: 3 out of 10, Fluency: 5 out of 10, "
    "Relevance: 2 out of 10",
    "Coherence: -4, Consistency: 3, Fluency: 5, Relevance: 2",
    "Coherence: 4e0, Consistency: 3, Fluency: 5, Relevance: 2",
    "4 / 3 / 5 / 2 (out of 10)", "4 / 3 / 5 / 2e0", "-4 / 3 / 5 / 2",
])
def test_quality_replies_on_another_scale_or_negative_or_with_an_exponent_are_missing(reply):
    assert parse_quality(reply) is None


@pytest.mark.parametrize("reply, scores", [
    ("Coherence: 4/5, Consistency: 3/5, Fluency: 5/5, Relevance: 2/5", (4, 3, 5, 2)),
    ("Coherence - 4, Consistency - 3, Fluency - 5, Relevance - 4", (4, 3, 5, 4)),
    ("4 / 5 / 3 / 4", (4, 5, 3, 4)), ("4/5 / 5/5 / 4/5 / 3/5", (4, 5, 4, 3)),
    ("4 / 3 / 5 / 2 (out of 5 each)", (4, 3, 5, 2)),
])
def test_1_to_5_quality_replies_parse_as_before(reply, scores):
    assert tuple(parse_quality(reply).values()) == scores


class TenPointThenFive:
    """A judge that answers on 10 points first, and on 5 when asked again (a new sample)."""

    kind, model, base_url = "stub", "stub-model", None

    def key_fields(self):
        return {"backend": "stub", "model": self.model}

    def unavailable_reason(self):
        return None

    def complete_many(self, items, sampling, on_done, on_error=None):
        for j, _ in enumerate(items):
            on_done(j, "Score: 4" if sampling.temperature > 0 else "Score: 3/10", {})


def test_a_ten_point_reply_is_reasked_like_an_unparseable_one(tmp_path):
    llm = ChatLLM("judge", {"model": "stub-model"}, TenPointThenFive(),
                  ResponseCache(tmp_path / "cache"))
    got = judge_many(llm, [[{"role": "user", "content": "q"}]], parse_score, seed=0, retries=1)
    assert got[0].value == 4.0 and got[0].attempts == 2
    assert got[0].replies == ["Score: 3/10", "Score: 4"]
