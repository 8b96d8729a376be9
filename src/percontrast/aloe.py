"""ALOE cross-scenario evaluation (paper tables 4 and 9).

ALOE (Wu et al., 2024) pairs a user *profile* (who the user is) with a *personality* (how they
talk). A simulated user plays that person and talks with the evaluated model for ``rounds``
turns, revealing the profile gradually, as a real user would; the evaluated model sees only the
conversation (no persona), so it must infer preferences from the dialogue. After every assistant
turn a judge LLM scores the response 1-5 on how well it fits this user: style fit to the
personality, content fit to the profile, and human-likeness. The benchmark reports the mean
score per round ``k``; the paper's tables show k = 6..10 and their average.

All conversations advance together, one round at a time, so each round is three batched calls
(simulated users, evaluated model, judge) instead of three calls per conversation.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from percontrast.llm_judge import Judgment, check_refusals, judge_many, parse_score

Messages = list[dict[str, str]]
# respond(conversations, seeds) -> one reply per conversation: the evaluated model.
Responder = Callable[[Sequence[Messages], Sequence[int]], list[str]]

# Prompts after ALOE's evaluation code: the user chats as with a friend (not always asking for
# advice) and never hands out explicit feedback; the judge sees the full profile and personality
# but only the latest exchange, and answers with the score alone.
USER_SYSTEM = (
    "You are role-playing a human user who is chatting with an AI assistant. Stay in character "
    "for the whole conversation and never say that you are role-playing or an AI.\n\n"
    "Who you are (your profile):\n{profile}\n\n"
    "How you talk and what you prefer (your personality):\n{personality}\n\n"
    "Chat with the assistant as you would with a friend: you do not always have to ask for "
    "advice. Let details of your profile come out gradually, one or two per message, only where "
    "they fit naturally; never list them all at once. Write only your next message, one to "
    "three sentences, in the voice of your personality.")
USER_START = "(The conversation begins. Write your first message to the assistant.)"

JUDGE_SYSTEM = (
    "You are an impartial judge of how well an AI assistant's response is tailored to one "
    "specific user, whose profile and personality you know.")
JUDGE_USER = (
    "User profile:\n{profile}\n\nUser personality:\n{personality}\n\n"
    "The user said:\n{user}\n\nThe assistant responded:\n{response}\n\n"
    "Rate from 1 to 5 how well the response aligns with this user's preferences: (1) does its "
    "style match the user's personality, (2) does its content fit the user's profile, (3) is it "
    "natural, human-like, engaging and concise. 1 = generic or mismatched, 3 = partly tailored, "
    "5 = clearly tailored to this user in both style and content.\n"
    "Only output the score, as \"Score: <1-5>\".")

_SPEAKER_PREFIX = re.compile(r"^\s*(?:user|me|human|\[user\])\s*[:\-]\s*", re.IGNORECASE)
_STAGE_DIRECTION = re.compile(r"\*[^*\n]{1,80}\*")


def clean_user_message(text: str) -> str:
    """A simulated user's reply without a leading "User:" label, wrapping quotes, or
    *stage directions* (role-play actions are not something a user types)."""
    text = _STAGE_DIRECTION.sub("", _SPEAKER_PREFIX.sub("", text.strip()))
    text = re.sub(r"\s{2,}", " ", text).strip()
    if len(text) > 1 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    return text or "..."


def simulator_messages(conv: dict[str, str], turns: Sequence[tuple[str, str]]) -> Messages:
    """What the simulated user sees: its persona, then the dialogue with roles swapped (its own
    messages are the 'assistant' side, so the chat model writes the user's next message)."""
    msgs = [{"role": "system", "content": USER_SYSTEM.format(**conv)},
            {"role": "user", "content": USER_START}]
    for user_msg, reply in turns:
        msgs += [{"role": "assistant", "content": user_msg}, {"role": "user", "content": reply}]
    return msgs


def assistant_messages(turns: Sequence[tuple[str, str]], user_msg: str) -> Messages:
    """What the evaluated model sees: the plain dialogue, no persona."""
    msgs: Messages = []
    for u, a in turns:
        msgs += [{"role": "user", "content": u}, {"role": "assistant", "content": a}]
    return msgs + [{"role": "user", "content": user_msg}]


def judge_messages(conv: dict[str, str], user_msg: str, response: str) -> Messages:
    """The judge's view of one turn: full profile and personality, the latest exchange."""
    return [{"role": "system", "content": JUDGE_SYSTEM},
            {"role": "user", "content": JUDGE_USER.format(
                profile=conv["profile"], personality=conv["personality"], user=user_msg,
                response=response)}]


def response_seed(seed: int, conversation_id: str, round_: int) -> int:
    """The evaluated model's sampling seed for one turn, from (seed, conversation id, round):
    independent of batch composition and of the conversation's position in the file."""
    digest = hashlib.sha256(f"{seed}/{conversation_id}/{round_}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def run_conversations(conversations: Sequence[dict[str, str]], respond: Responder, simulator,
                      judge, *, rounds: int, seed: int, judge_retries: int = 2,
                      user_max_new_tokens: int | None = None,
                      judge_max_new_tokens: int | None = None,
                      on_round: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """Play every conversation for ``rounds`` rounds; one transcript (with scores) each.

    ``simulator`` / ``judge``: :class:`percontrast.llm.ChatLLM` (the simulator may be anything
    with its ``chat_many``, the judge needs its ``try_chat_many``). A judge reply that stays
    unparseable after ``judge_retries`` re-asks is a missing score (``None``) for that turn; so
    is a request the judge endpoint refused, recorded in the turn's ``judge_refused``. A judge
    that refuses a whole round, or more than its ``max_refused_fraction`` of all turns, fails the
    run (:func:`percontrast.llm_judge.check_refusals`) before any transcript is returned.
    """
    turns: list[list[tuple[str, str]]] = [[] for _ in conversations]
    scored: list[list[dict[str, Any]]] = [[] for _ in conversations]
    verdicts_all: list[Judgment] = []
    for k in range(1, rounds + 1):
        user_msgs = [clean_user_message(m) for m in simulator.chat_many(
            [simulator_messages(c, t) for c, t in zip(conversations, turns, strict=True)],
            seed=seed + k, max_new_tokens=user_max_new_tokens, progress=False)]
        replies = respond([assistant_messages(t, u) for t, u in zip(turns, user_msgs,
                                                                    strict=True)],
                          [response_seed(seed, c.get("id", str(i)), k)
                           for i, c in enumerate(conversations)])
        verdicts = judge_many(judge, [judge_messages(c, u, r) for c, u, r in zip(
            conversations, user_msgs, replies, strict=True)], parse_score,
            seed=seed + 7919 * k, retries=judge_retries, max_new_tokens=judge_max_new_tokens,
            what=f"ALOE round-{k} judge")
        verdicts_all += verdicts
        for i, (u, r, v) in enumerate(zip(user_msgs, replies, verdicts, strict=True)):
            turns[i].append((u, r))
            scored[i].append({"round": k, "user": u, "assistant": r, "score": v.value,
                              "judge_reply": v.reply, "judge_attempts": v.attempts,
                              "judge_refused": v.refused})
        if on_round is not None:
            on_round(k)
    check_refusals(judge, verdicts_all, "ALOE judge")
    return [{"id": c.get("id", str(i)), "profile": c["profile"], "personality": c["personality"],
             "turns": s} for i, (c, s) in enumerate(zip(conversations, scored, strict=True))]


def reported_rounds(rounds: int) -> list[int]:
    """The rounds the paper's tables show: the last five (k = 6..10 of ALOE's 10)."""
    return list(range(max(1, rounds - 4), rounds + 1))


def summarize(transcripts: Sequence[dict[str, Any]], rounds: int) -> dict[str, Any]:
    """Per-round mean judge score (missing scores excluded and counted, split into ``refused``
    requests and ``unparsed`` replies) and the table row:
    ``{"k=6": ..., ..., "k=10": ..., "average": mean of those}``."""
    per_round = []
    for k in range(1, rounds + 1):
        at_k = [t["turns"][k - 1] for t in transcripts if len(t["turns"]) >= k]
        present = [turn["score"] for turn in at_k if turn["score"] is not None]
        refused = sum(turn["score"] is None and turn.get("judge_refused") is not None
                      for turn in at_k)
        missing = len(at_k) - len(present)
        per_round.append({"round": k, "mean": statistics.fmean(present) if present else None,
                          "n": len(present), "missing": missing, "refused": refused,
                          "unparsed": missing - refused})
    shown = {f"k={k}": per_round[k - 1]["mean"] for k in reported_rounds(rounds)}
    values = list(shown.values())
    shown["average"] = (statistics.fmean(values) if values and None not in values else None)
    return {"per_round": per_round, "summary": shown,
            "missing_scores": sum(r["missing"] for r in per_round),
            "refused_scores": sum(r["refused"] for r in per_round),
            "unparsed_scores": sum(r["unparsed"] for r in per_round),
            "n_conversations": len(transcripts), "rounds": rounds}


def check_conversations(conversations: Sequence[dict[str, Any]], source: str) -> None:
    """Each conversation needs a non-empty ``profile`` and ``personality``: otherwise a
    :class:`~percontrast.io.DataError` naming ``source``, the line and the field, before any
    LLM is asked anything."""
    from percontrast.io import DataError

    for line, conv in enumerate(conversations, start=1):
        for key in ("profile", "personality"):
            if not str(conv.get(key, "")).strip():
                raise DataError(source, "field is missing or empty", line=line, field=key)


def model_responder(model, tokenizer, generation: dict[str, Any], *, max_new_tokens: int,
                    chat_template_kwargs: dict | None = None) -> Responder:
    """The evaluated model as ALOE's :data:`Responder`: sampled with the config's
    ``generation`` settings, one seed per conversation and round; an empty reply becomes
    "..." so the simulated user always has something to answer."""
    from percontrast.generation import generate

    def respond(messages: Sequence[Messages], seeds: Sequence[int]) -> list[str]:
        results = generate(model, tokenizer, messages, temperature=generation["temperature"],
                           top_p=generation["top_p"], max_new_tokens=max_new_tokens,
                           batch_size=generation["batch_size"], seed=list(seeds),
                           chat_template_kwargs=chat_template_kwargs or {})
        return [r.text or "..." for r in results]

    return respond


def run_aloe(conversations: Sequence[dict[str, str]], model, tokenizer, spec: dict[str, Any],
             generation: dict[str, Any], llm_entries: dict[str, dict], *, seed: int, cache_dir,
             device: str | None = None, chat_template_kwargs: dict | None = None,
             on_round: Callable[[int], None] | None = None,
             ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """ALOE for one evaluated model (rule ``aloe``): the transcripts and the scores record.

    ``spec`` is ``evaluation.aloe`` and ``generation`` the config's section (schema defaults
    filled in here); the model replies with ``spec["max_new_tokens"]`` new tokens, by default
    ``generation["max_new_tokens"]``. The simulated user and the judge are the
    ``user_simulator`` and ``judge`` entries of ``llm_entries``; one entry named in both roles
    is one client (one loaded model, one cache)."""
    from percontrast.config import section_defaults
    from percontrast.llm import make_llm

    spec = section_defaults("evaluation.aloe", spec)
    generation = section_defaults("generation", generation)
    batch_size = generation["batch_size"]
    respond = model_responder(
        model, tokenizer, generation, chat_template_kwargs=chat_template_kwargs,
        max_new_tokens=spec.get("max_new_tokens", generation["max_new_tokens"]))
    clients: dict[str, Any] = {}
    for role in ("user_simulator", "judge"):
        name = spec[role]
        if name not in clients:
            clients[name] = make_llm(llm_entries[name], cache_dir=cache_dir, name=name,
                                     device=device, batch_size=batch_size)
    simulator, judge = clients[spec["user_simulator"]], clients[spec["judge"]]
    rounds = spec["rounds"]
    transcripts = run_conversations(
        conversations, respond, simulator, judge, rounds=rounds, seed=seed,
        judge_retries=spec["judge_retries"], user_max_new_tokens=spec.get("user_max_new_tokens"),
        judge_max_new_tokens=spec.get("judge_max_new_tokens"), on_round=on_round)
    scores = {"user_simulator": spec["user_simulator"], "judge": spec["judge"],
              "judge_model": judge.spec.get("label", judge.spec["model"]),
              "simulator_model": simulator.spec.get("label", simulator.spec["model"]),
              **summarize(transcripts, rounds)}
    return transcripts, scores
