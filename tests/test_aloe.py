"""ALOE conversations and the LLM judge: score parsing, retries, missing scores, summaries."""

import pytest

from percontrast.aloe import (
    assistant_messages,
    clean_user_message,
    reported_rounds,
    run_conversations,
    simulator_messages,
    summarize,
)
from percontrast.llm import ChatLLM, ResponseCache
from percontrast.llm_judge import (
    judge_generations,
    judge_many,
    parse_quality,
    parse_score,
    personalization_prompt,
    quality_prompt,
)


@pytest.mark.parametrize("reply, score", [
    ("Score: 4", 4.0), ("**Score:** 2", 2.0), ("The score is 3.5.", 3.5), ("4/5", 4.0),
    ("I would give it 5 out of 5", 5.0), ("3", 3.0), ("3. The answer is tailored", 3.0),
    ("Score: 7", None), ("Score: 0", None), ("no idea", None), ("", None),
    ("Score 1: unrelated. Score 5: perfect.", None),  # the rubric echoed back
    ("**Score**: 4", 4.0), ("Rating: 4", 4.0), ("Score: <4>", 4.0), ("Score: [[4]]", 4.0),
    ("Score (1-5): 4", 4.0), ('{"score": 4}', 4.0), ("I'd rate this a 4.", 4.0),
    ("4 - The answer aligns with the reference", 4.0), ("Score: 4 (a score of 5 would...)", 4.0),
    ("<think>maybe 2? no</think>Score: 3", 3.0), ("<think>still thinking, 5", None),
    ("1. Style: fits\n2. Content: ok\n3. Human-like\nOverall rating: 4", 4.0),
    ("1. Style: fits\n2. Content: ok", None),  # a numbered list, not a score
])
def test_parse_score(reply, score):
    assert parse_score(reply) == score


@pytest.mark.parametrize("reply, scores", [
    ("4 / 5 / 3 / 4", (4, 5, 3, 4)),
    ("Scores: 5/4/4/3.5", (5, 4, 4, 3.5)),
    ("Coherence: 4\nConsistency: 3\nFluency: 5\nRelevance: 2", (4, 3, 5, 2)),
    ("4 / 5 / 3", None), ("Coherence: 4, Fluency: 5", None), ("6 / 5 / 3 / 4", None),
    ("**Coherence**: 4 **Consistency**: 5 **Fluency**: 4 **Relevance**: 5", (4, 5, 4, 5)),
    ("Coherence - 4, Consistency - 3, Fluency - 5, Relevance - 4", (4, 3, 5, 4)),
    ("Scores: 4, 5, 4, 5", (4, 5, 4, 5)), ("4 | 5 | 4 | 5", (4, 5, 4, 5)),
    ("4/5 / 5/5 / 4/5 / 3/5", (4, 5, 4, 3)), ("14 / 5 / 4 / 5", None),
    ("Coherence: 10, Consistency: 5, Fluency: 4, Relevance: 5", None),
])
def test_parse_quality(reply, scores):
    got = parse_quality(reply)
    assert (None if got is None else tuple(got.values())) == scores


class StubBackend:
    """A backend whose reply is ``reply_fn(messages, sampling)``; records every call."""

    kind, model, base_url = "stub", "stub-model", None

    def __init__(self, reply_fn):
        self.reply_fn, self.calls = reply_fn, []

    def key_fields(self):
        return {"backend": "stub", "model": self.model}

    def unavailable_reason(self):
        return None

    def complete_many(self, items, sampling, on_done, on_error=None):
        self.calls.append((len(items), sampling.seed, sampling.temperature))
        for j, messages in enumerate(items):
            on_done(j, self.reply_fn(messages, sampling), {})


def stub_llm(tmp_path, reply_fn, name="stub"):
    backend = StubBackend(reply_fn)
    return ChatLLM(name, {"model": "stub-model", "temperature": 0.0}, backend,
                   ResponseCache(tmp_path / name)), backend


def test_judge_many_reasks_only_unparseable_replies_with_new_samples(tmp_path):
    # prompt "a" parses at once; "b" only on its second sample; "c" never.
    def reply(messages, sampling):
        text = messages[-1]["content"]
        if text == "a":
            return "Score: 5"
        if text == "b":
            return "Score: 2" if sampling.temperature > 0 else "hmm"
        return "I cannot say"

    llm, backend = stub_llm(tmp_path, reply)
    prompts = [[{"role": "user", "content": c}] for c in "abc"]
    got = judge_many(llm, prompts, parse_score, seed=10, retries=2)
    assert [j.value for j in got] == [5.0, 2.0, None]
    assert [j.attempts for j in got] == [1, 2, 3]
    assert got[2].replies == ["I cannot say"] * 3
    # one batch per attempt, shrinking; retries are new samples (seed + attempt, temperature>0)
    assert backend.calls == [(3, 10, 0.0), (2, 11, 0.7), (1, 12, 0.7)]


PROFILE = "I am a nurse in Lyon and I keep bees."
CONVS = [{"id": "p00-s0", "profile": PROFILE, "personality": "Terse and direct."},
         {"id": "p00-s1", "profile": PROFILE, "personality": "Chatty and warm."}]


def test_conversation_roles_and_what_each_side_sees():
    turns = [("Hi, any weekend ideas?", "Try a hike.")]
    sim = simulator_messages(CONVS[0], turns)
    assert PROFILE in sim[0]["content"] and "Terse and direct." in sim[0]["content"]
    # the simulated user's own messages are the 'assistant' side of its chat
    assert [m["role"] for m in sim] == ["system", "user", "assistant", "user"]
    assert sim[2]["content"] == "Hi, any weekend ideas?" and sim[3]["content"] == "Try a hike."
    model_view = assistant_messages(turns, "I like bees.")
    assert [m["role"] for m in model_view] == ["user", "assistant", "user"]
    assert all(PROFILE not in m["content"] for m in model_view)  # no persona for the model
    assert clean_user_message('User: "Do you know Lyon?"') == "Do you know Lyon?"
    assert clean_user_message("*sighs* Long day. *smiles* Any tea tips?") == \
        "Long day. Any tea tips?"


def test_run_conversations_scores_every_turn_and_records_missing(tmp_path):
    def user(messages, sampling):  # the user reveals one detail per round
        k = sum(m["role"] == "assistant" for m in messages) + 1
        return f"User: round {k}, I keep bees." if k > 1 else "Hello there."

    def judge(messages, sampling):
        text = messages[-1]["content"]
        response = text.split("The assistant responded:\n")[1].split("\n\n")[0]
        if "broken" in response:
            return "I refuse to score."
        return "Score: 5" if "bee" in response.lower() else "Score: 1"

    simulator, _ = stub_llm(tmp_path, user, "user")
    judge_llm, judge_backend = stub_llm(tmp_path, judge, "judge")
    seen = []

    def respond(conversations, seeds):
        seen.append(seeds)
        last = [c[-1]["content"] for c in conversations]
        # conversation 0 picks the bees up from round 2; conversation 1 breaks the judge in round 3
        return [("Bees are great." if "bees" in u else "Hello!") if i == 0 else
                ("broken" if "round 3" in u else "Hello!") for i, u in enumerate(last)]

    rounds = []
    out = run_conversations(CONVS, respond, simulator, judge_llm, rounds=3, seed=1,
                            judge_retries=1, on_round=rounds.append)
    assert rounds == [1, 2, 3]
    assert [t["score"] for t in out[0]["turns"]] == [1.0, 5.0, 5.0]
    assert [t["score"] for t in out[1]["turns"]] == [1.0, 1.0, None]
    assert out[1]["turns"][2]["judge_attempts"] == 2
    assert out[0]["turns"][1]["user"] == "round 2, I keep bees."  # "User:" label stripped
    assert len({s for batch in seen for s in batch}) == 6  # one seed per conversation x round

    result = summarize(out, rounds=3)
    assert [r["mean"] for r in result["per_round"]] == [1.0, 3.0, 5.0]
    assert [r["missing"] for r in result["per_round"]] == [0, 0, 1]
    assert result["summary"] == {"k=1": 1.0, "k=2": 3.0, "k=3": 5.0, "average": 3.0}
    assert result["missing_scores"] == 1


def test_summary_shows_rounds_6_to_10_and_no_average_when_a_round_has_no_score():
    assert reported_rounds(10) == [6, 7, 8, 9, 10]
    transcripts = [{"turns": [{"round": k, "score": None if k == 7 else float(k % 5 + 1)}
                              for k in range(1, 11)]}]
    summary = summarize(transcripts, rounds=10)["summary"]
    assert list(summary) == ["k=6", "k=7", "k=8", "k=9", "k=10", "average"]
    assert summary["k=6"] == 2.0 and summary["k=7"] is None and summary["average"] is None


def test_table10_judge_means_are_x20_and_missing_items_are_counted(tmp_path):
    items = [{"id": f"r{i}", "question": f"Write about topic {i}", "reference": "ref",
              "output": out} for i, out in enumerate(["good text", "bad text", "odd text"])]

    def judge(messages, sampling):
        text = messages[-1]["content"]
        if "Ground Truth" in text:  # personalization
            return "Score: 4" if "good" in text else ("Score: 2" if "bad" in text else "??")
        return "5 / 4 / 4 / 3" if "good" in text else "2 / 2 / 3 / 1"

    llm, _ = stub_llm(tmp_path, judge)
    summary, rows = judge_generations(llm, items, seed=0, retries=1)
    assert summary["personalization"] == pytest.approx(20 * 3.0)  # (4 + 2) / 2, odd missing
    assert summary["quality"] == pytest.approx(20 * (4.0 + 2.0 + 2.0) / 3)
    assert summary["quality_dimensions"]["coherence"] == pytest.approx(20 * 3.0)
    assert summary["missing"] == {"personalization": 1, "quality": 0}
    assert rows[2]["personalization"] is None and rows[0]["quality_relevance"] == 3.0


def test_judge_prompts_follow_appendix_d1():
    pers = personalization_prompt("Q?", "REF", "OUT")
    assert "compared to the ground truth" in pers[0]["content"]
    assert pers[1]["content"] == "User:\nQ?\nGround Truth:\nREF\nAssistant:\nOUT\nScore:"
    qual = quality_prompt("Q?", "OUT")
    assert "Coherence, Consistency, Fluency, and Relevance" in qual[0]["content"]
    assert qual[1]["content"].endswith("(format: Coherence / Consistency / Fluency / Relevance):")


def test_a_refused_request_costs_only_its_own_judgment(tmp_path):
    from percontrast.llm import LLMRefusedError

    class Filtered(StubBackend):
        def complete_many(self, items, sampling, on_done, on_error=None):
            self.calls.append((len(items), sampling.seed, sampling.temperature))
            for j, messages in enumerate(items):
                if "forbidden" in messages[-1]["content"]:
                    on_error(j, LLMRefusedError("HTTP 400 (content filter)", status=400))
                else:
                    on_done(j, self.reply_fn(messages, sampling), {})

    backend = Filtered(lambda messages, sampling: "Score: 4")
    llm = ChatLLM("stub", {"model": "stub-model"}, backend, ResponseCache(tmp_path))
    prompts = [[{"role": "user", "content": c}] for c in ("fine", "forbidden", "also fine")]
    # one refusal in three is above the default max_refused_fraction (0.2) for a whole job,
    # but judge_many only counts: the job-level check is check_refusals
    got = judge_many(llm, prompts, parse_score, seed=0, retries=1)
    assert [j.value for j in got] == [4.0, None, 4.0]
    assert got[1].refused.startswith("llm entry 'stub'") and "content filter" in got[1].refused
    assert got[1].status == 400 and got[1].attempts == 2 and got[1].replies == []
    assert got[0].refused is None and got[2].refused is None
    assert backend.calls == [(3, 0, 0.0), (1, 1, 0.7)]  # the refused prompt was re-asked once


def test_aloe_counts_refused_and_unparsed_scores_apart(tmp_path):
    from percontrast.llm import LLMRefusedError

    class Filtered(StubBackend):
        def complete_many(self, items, sampling, on_done, on_error=None):
            for j, messages in enumerate(items):
                text = messages[-1]["content"]
                if "forbidden" in text:
                    on_error(j, LLMRefusedError("HTTP 400 (content filter)", status=400))
                else:
                    on_done(j, "no idea" if "odd" in text else "Score: 3", {})

    convs = [{"id": f"c{i}", "profile": PROFILE, "personality": "Terse."} for i in range(10)]
    simulator, _ = stub_llm(tmp_path, lambda m, s: "Hello.", "user")
    judge = ChatLLM("judge", {"model": "stub-model", "max_refused_fraction": 0.25},
                    Filtered(lambda m, s: ""), ResponseCache(tmp_path / "judge"))

    def respond(conversations, seeds):  # conversation 0 is refused, 1 unparseable, every round
        return ["forbidden" if i == 0 else "odd" if i == 1 else "fine"
                for i in range(len(conversations))]

    out = run_conversations(convs, respond, simulator, judge, rounds=2, seed=0, judge_retries=0)
    assert out[0]["turns"][0]["judge_refused"].endswith("HTTP 400 (content filter)")
    assert out[1]["turns"][0]["judge_refused"] is None and out[1]["turns"][0]["score"] is None
    result = summarize(out, rounds=2)
    assert [(r["missing"], r["refused"], r["unparsed"]) for r in result["per_round"]] == \
        [(2, 1, 1), (2, 1, 1)]
    assert (result["refused_scores"], result["unparsed_scores"]) == (2, 2)
    assert result["summary"]["average"] == 3.0

    # the default threshold (0.2): 3 of 10 conversations refused in every round (6 of 20
    # judge requests) fails the run instead of returning transcripts
    judge.spec.pop("max_refused_fraction")

    def respond3(conversations, seeds):
        return ["forbidden" if i < 3 else "fine" for i in range(len(conversations))]

    from percontrast.llm_judge import JudgeRefusedError

    with pytest.raises(JudgeRefusedError, match=r"refused 6 of 20 ALOE judge requests"):
        run_conversations(convs, respond3, simulator, judge, rounds=2, seed=0, judge_retries=0)


def test_table10_scales(tmp_path):
    items = [{"id": "a", "question": "q", "reference": "r", "output": "o"}]
    llm, _ = stub_llm(tmp_path, lambda m, s: "Score: 2" if "Ground Truth" in m[-1]["content"]
                      else "2 / 2 / 2 / 2")
    x20, _ = judge_generations(llm, items, seed=0)
    linear, _ = judge_generations(llm, items, seed=0, scale="0-100")
    assert (x20["personalization"], linear["personalization"]) == (40.0, 25.0)
