"""LLM-as-judge: score parsing with retries, and the paper's LongLaMP judge (table 10).

Two things live here because ALOE (:mod:`percontrast.aloe`) and table 10 both need them:

* :func:`judge_many` asks a judge LLM, parses each reply, and re-asks only the unparseable ones
  (with a fresh seed and a non-zero temperature, so the retry is a new sample and not the cached
  reply again). A reply that stays unparseable is recorded as *missing* — never a crash, never a
  silent 0 that would drag a mean down. A request the endpoint rejects is *refused*, counted
  apart; an endpoint that rejects all (or too many, :func:`check_refusals`) fails the job.
* The appendix D.1 prompts (personalization against the reference, and language quality on four
  dimensions) with G-Eval's protocol: a form-filling prompt whose score is the mean of
  ``samples`` sampled judgments (G-Eval draws 20 samples at temperature 1 where token
  probabilities are unavailable). Scores are on 1-5 and reported x20, as in the paper.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from percontrast.llm import LLMRefusedError, LLMUnavailableError

log = logging.getLogger(__name__)
QUALITY_DIMENSIONS = ("coherence", "consistency", "fluency", "relevance")
RETRY_TEMPERATURE = 0.7

# --------------------------------------------------------------------------- parsing

_NUM = r"(?<![\d.])([0-9]+(?:\.[0-9]+)?)(?!\.?\d)"
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.IGNORECASE | re.DOTALL)
_LABELLED = re.compile(r"(?<![a-z])(?:score|rating)s?\s*(?:\([^)]*\))?\s*(?:is|of)?"
                       r"[\s*_:=\-\u2013\[\]<>\"'()]*" + _NUM, re.IGNORECASE)
_RUBRIC_LINE = re.compile(r"score\s+[1-5]\s*:", re.IGNORECASE)
_OUT_OF_5 = re.compile(_NUM + r"\s*(?:/|out of)\s*5(?![\d.])", re.IGNORECASE)
_RATE_AS = re.compile(r"\brate\b[^0-9\n]{0,20}?" + _NUM, re.IGNORECASE)
_BARE = re.compile(r"^\W*" + _NUM + r"\W*?(?:$|\n|[-\u2013:.)]\s)")
_NUMBERED_LIST = re.compile(r"^\s*2\s*[.)]", re.MULTILINE)
# What makes a number next to a score label no 1-5 score: a minus sign right before it
# ("Score: -3"), an exponent right after it ("1e1"), or a scale other than 5 right after it
# ("4/10", "3 out of 10", "4 on a scale of 1 to 10", "4 on a 10-point scale").
_MINUS = ("-", "\u2212")
_EXPONENT = re.compile(r"[eE][+-]?\d")
_SCALE = re.compile(r"\s*\(?\s*(?:/|out\s+of\b|of\b|on\s+a\s+scale\s+(?:of|from)\s+"
                    r"(?:\d+\s*(?:to|-|\u2013)\s*)?)\s*(\d+(?:\.\d+)?)"
                    r"|\s*\(?\s*on\s+an?\s+(\d+)[-\s]point\s+scale", re.IGNORECASE)


def _off_scale(text: str, start: int, end: int) -> bool:
    """The number at ``text[start:end]`` is negative, has an exponent, or is given on a scale
    other than 5: whatever its value, it is no 1-5 score."""
    if start > 0 and text[start - 1] in _MINUS and (start < 2 or not text[start - 2].isdigit()):
        return True
    if _EXPONENT.match(text, end):
        return True
    scale = _SCALE.match(text, end)
    return scale is not None and float(scale.group(1) or scale.group(2)) != 5


def _score(text: str, match: re.Match, low: int, high: int) -> float | None:
    if _off_scale(text, match.start(1), match.end(1)):
        return None
    value = float(match.group(1))
    return value if low <= value <= high else None


def strip_thinking(text: str) -> str:
    """Drop ``<think>...</think>`` blocks (and an unclosed one) that reasoning models emit."""
    return _THINK.sub("", text or "").strip()


def parse_score(text: str, low: int = 1, high: int = 5) -> float | None:
    """The 1-5 score in a judge's reply, or None when it holds none (or one out of range).

    Accepts "Score: 4", "**Score**: 4", "Rating: <4>", "Score (1-5): 4", '{"score": 4}',
    "4/5", "4 out of 5", "I'd rate this a 4", or a reply that is just the number (optionally
    followed by an explanation). The first labelled score wins ("Score: 4 (a 5 would ...)").
    Not scores: a number outside [low, high] (None, not clipped), a number given on another
    scale ("4/10", "3 out of 10", "4 on a 10-point scale"), a negative number ("Score: -3"),
    one with an exponent ("1e1"), a rubric echoed back ("Score 1: ... Score 2: ..."), and the
    "1." of a numbered list. A reply whose first score is not one is missing (and re-asked by
    :func:`judge_many`), not read further.
    """
    text = strip_thinking(text)
    if len(_RUBRIC_LINE.findall(text)) > 1:
        return None
    for pattern in (_LABELLED, _OUT_OF_5, _RATE_AS):
        match = pattern.search(text)
        if match:
            return _score(text, match, low, high)
    match = _BARE.search(text)
    if match and not _NUMBERED_LIST.search(text):
        return _score(text, match, low, high)
    return None


def parse_quality(text: str) -> dict[str, float] | None:
    """The four quality scores: one "Name: n" (or "n/5") per dimension, or the D.1 sequence
    "c / c / f / r" (also with "|" or "," and with "/5" after each score).

    None unless all four are present and each is in 1-5 (not negative, without an exponent,
    and not given on another scale: "Coherence: 4/10" is no 1-5 score).
    """
    text = strip_thinking(text)
    values = []
    for dim in QUALITY_DIMENSIONS:
        found = re.search(dim + r"[\s*_:=\-\u2013]*" + _NUM, text, re.IGNORECASE)
        if not found:
            values = []
            break
        if _off_scale(text, found.start(1), found.end(1)):
            return None
        values.append(float(found.group(1)))
    if not values:
        match = re.search(r"(?<![\d.])\d+(?:\.\d+)?(?:\s*[/|,]\s*\d+(?:\.\d+)?)+", text)
        if not match or _off_scale(text, match.start(), match.end()):
            return None
        numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", match.group(0))]
        if len(numbers) == 8 and all(x == 5 for x in numbers[1::2]):
            numbers = numbers[0::2]  # "4/5 / 5/5 / 4/5 / 3/5"
        if len(numbers) != 4:
            return None
        values = numbers
    if not all(1 <= v <= 5 for v in values):
        return None
    return dict(zip(QUALITY_DIMENSIONS, values, strict=True))


# --------------------------------------------------------------------------- asking with retries

#: Default of an llm entry's ``max_refused_fraction`` (see :func:`check_refusals`).
DEFAULT_MAX_REFUSED_FRACTION = 0.2


class JudgeRefusedError(LLMUnavailableError):
    """The judge endpoint refused too many of a job's requests for its scores to mean anything."""


@dataclass
class Judgment:
    """One parsed judgment (``value`` None = missing after every attempt) and how it was got.

    ``refused`` is why the endpoint rejected the last attempt's request (an HTTP 400, a 200
    without an answer), None when it answered: a refused judgment is missing for a different
    reason than an unparseable reply, and is counted apart.
    """

    value: Any
    reply: str
    attempts: int
    replies: list[str] = field(default_factory=list)
    refused: str | None = None
    status: int | None = None


def max_refused_fraction(llm) -> float:
    """The llm entry's ``max_refused_fraction`` (default :data:`DEFAULT_MAX_REFUSED_FRACTION`)."""
    spec = getattr(llm, "spec", None) or {}
    value = spec.get("max_refused_fraction")
    return DEFAULT_MAX_REFUSED_FRACTION if value is None else float(value)


def check_refusals(llm, judgments: Sequence[Judgment], what: str) -> None:
    """Fail the job when the judge refused all of ``judgments``, or more than the llm entry's
    ``max_refused_fraction`` of them; below that, refusals are only counted.

    Why not fail on any refusal: content filters reject a few prompts of a large set (an output
    that mentions violence) and the other scores are still a measurement; those items are
    reported as ``refused`` beside ``unparsed``. Why not only when every request is refused: an
    endpoint that rejects most requests (a prompt longer than the served context, a parameter it
    does not take, a quota that lets some through) leaves a mean over a self-selected remainder,
    which a table would then compare with other runs' full means. The default, 0.2, keeps a
    score whose items are at least four in five of the evaluated ones; a run that needs another
    bound sets it per llm entry. All refused always fails, whatever the setting.
    """
    refused = [j for j in judgments if j.refused is not None]
    n = len(judgments)
    if not refused:
        return
    limit = max_refused_fraction(llm)
    if len(refused) == n:
        verdict = "every one of them: the endpoint cannot be used as a judge"
    elif len(refused) > limit * n:
        verdict = (f"more than its max_refused_fraction {limit:g}: the scores left would be a "
                   "mean over a self-selected part of the items")
    else:
        log.warning("the judge refused %d of %d %s requests (at most max_refused_fraction %g "
                    "allowed; counted as refused): %s", len(refused), n, what, limit,
                    refused[0].refused)
        return
    status = getattr(refused[0], "status", None)
    raise JudgeRefusedError(f"the judge refused {len(refused)} of {n} {what} requests, "
                            f"{verdict}. First refusal: {refused[0].refused}", status=status)


def judge_many(llm, prompts: Sequence[list[dict[str, str]]], parse: Callable[[str], Any], *,
               seed: int, retries: int = 2, temperature: float | None = None,
               max_new_tokens: int | None = None, what: str = "judge") -> list[Judgment]:
    """Ask ``llm`` (a :class:`percontrast.llm.ChatLLM`) every prompt; re-ask unparseable ones.

    Attempt ``a`` uses seed ``seed + a``; retries sample at ``max(temperature, 0.7)`` so they
    differ from the (cached, possibly greedy) first reply. All prompts of one attempt go to the
    backend together (one batch), so retries cost one extra round trip, not one per prompt.

    A request the endpoint rejects alone (:class:`~percontrast.llm.LLMRefusedError`) is re-asked
    like an unparseable reply and, if still rejected, recorded as ``refused``; when the first
    attempt's every request is rejected the endpoint is unusable and :class:`JudgeRefusedError`
    is raised at once (no re-asks). An unusable endpoint (bad key, no such model, unreachable)
    raises :class:`~percontrast.llm.LLMUnavailableError`: that is configuration, not data.
    Callers bound the refused fraction of a whole job with :func:`check_refusals`.
    """
    out = [Judgment(None, "", 0) for _ in prompts]
    todo = list(range(len(prompts)))
    for attempt in range(retries + 1):
        if not todo:
            break
        temp = temperature if attempt == 0 else max(temperature or 0.0, RETRY_TEMPERATURE)
        replies = llm.try_chat_many([prompts[i] for i in todo], progress=False,
                                    seed=seed + attempt, temperature=temp,
                                    max_new_tokens=max_new_tokens)
        still = []
        for i, reply in zip(todo, replies, strict=True):
            j = out[i]
            j.attempts = attempt + 1
            if isinstance(reply, LLMRefusedError):
                j.value, j.reply, j.refused, j.status = None, "", str(reply), reply.status
            else:
                j.reply, j.refused, j.status = reply, None, None
                j.replies.append(reply)
                j.value = parse(reply)
            if j.value is None:
                still.append(i)
        if attempt == 0 and out and all(j.refused is not None for j in out):
            check_refusals(llm, out, what)
        todo = still
    return out


# --------------------------------------------------------------------------- table 10 (D.1)

PERSONALIZATION_SYSTEM = (
    "You are a helpful assistant. Please act as an impartial judge and evaluate the quality of "
    "the response provided by an AI assistant to the user instruction displayed below. Based on "
    "the scoring criteria, given the instruction, provide a score of the AI assistant's answer "
    "compared to the ground truth. Be as objective as possible.\n"
    "Scoring Criteria:\n"
    "Score 1: The answer is completely unrelated to the reference.\n"
    "Score 2: The answer has minor relevance but does not align with the reference.\n"
    "Score 3: The answer has moderate relevance but contains inaccuracies.\n"
    "Score 4: The answer aligns with the reference but has minor omissions.\n"
    "Score 5: The answer is completely accurate and aligns perfectly with the reference.")

QUALITY_SYSTEM = (
    "You are a helpful assistant. Please act as an impartial judge and evaluate the language "
    "quality of the response provided by an AI assistant to the user instruction displayed "
    "below. Evaluate based on four dimensions: Coherence, Consistency, Fluency, and Relevance. "
    "Be as objective as possible.\n"
    "Scoring Criteria:\n"
    "Score 1: Completely unacceptable in this dimension.\n"
    "Score 2: Major issues present in this dimension.\n"
    "Score 3: Some noticeable issues but partially acceptable.\n"
    "Score 4: Good, with minor issues.\n"
    "Score 5: Excellent, no noticeable issues.")


def personalization_prompt(question: str, reference: str, output: str) -> list[dict[str, str]]:
    """Appendix D.1, personalization: the judge compares the answer with the ground truth."""
    return [{"role": "system", "content": PERSONALIZATION_SYSTEM},
            {"role": "user", "content": f"User:\n{question}\nGround Truth:\n{reference}\n"
                                        f"Assistant:\n{output}\nScore:"}]


def quality_prompt(question: str, output: str) -> list[dict[str, str]]:
    """Appendix D.1, quality: four 1-5 scores in the form "c / c / f / r"."""
    return [{"role": "system", "content": QUALITY_SYSTEM},
            {"role": "user", "content": f"User:\n{question}\nAssistant:\n{output}\nScores "
                                        "(format: Coherence / Consistency / Fluency / Relevance):"}]


def _mean_or_none(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


SCALES = {
    # the and the paper's wording: "reported x20" (1-5 -> 20-100)
    "x20": (lambda mean: 20 * mean, "mean 1-5 judge score x20 (20-100)"),
    # what the paper's printed cells fit: 7.11 and 11.25 are below 20, and its cells fall on
    # the 0.25 grid of 25 * (mean - 1) over 100 items, not on the 0.2 grid of 20 * mean
    "0-100": (lambda mean: 25 * (mean - 1), "25 x (mean 1-5 judge score - 1) (0-100)"),
}


def judge_generations(llm, items: Sequence[dict[str, str]], *, seed: int, samples: int = 1,
                      retries: int = 2, temperature: float | None = None,
                      max_new_tokens: int | None = None, scale: str = "x20",
                      ) -> tuple[dict[str, Any], list[dict]]:
    """Table 10 for one run: ``items`` = ``{"id", "question", "reference", "output"}``.

    Each item gets ``samples`` personalization and quality judgments (sample ``s`` with seed
    ``seed + 1000 * s``; ``samples > 1`` samples at temperature 1 as G-Eval does unless
    ``temperature`` says otherwise); its score is the mean of the parsed ones. Returns the
    summary (means on ``scale``, per-dimension quality, missing counts split into unparsed
    and refused judgments) and one row per item (raw 1-5 means). Too many refused judgments
    raise :class:`JudgeRefusedError` (:func:`check_refusals`) instead of returning a summary.
    """
    if samples > 1 and temperature is None:
        temperature = 1.0
    pers_prompts = [personalization_prompt(it["question"], it["reference"], it["output"])
                    for it in items]
    qual_prompts = [quality_prompt(it["question"], it["output"]) for it in items]
    pers: list[list[float]] = [[] for _ in items]
    qual: list[list[dict[str, float]]] = [[] for _ in items]
    judged: dict[str, list[Judgment]] = {"personalization": [], "quality": []}
    for s in range(samples):
        for prompts, parse, sink, key in ((pers_prompts, parse_score, pers, "personalization"),
                                          (qual_prompts, parse_quality, qual, "quality")):
            got = judge_many(llm, prompts, parse, seed=seed + 1000 * s, retries=retries,
                             temperature=temperature, max_new_tokens=max_new_tokens, what=key)
            for i, j in enumerate(got):
                if j.value is not None:
                    sink[i].append(j.value)
            judged[key] += got
    for key, judgments in judged.items():
        check_refusals(llm, judgments, key)
    refused = {k: sum(j.refused is not None for j in v) for k, v in judged.items()}
    unparsed = {k: sum(j.value is None and j.refused is None for j in v)
                for k, v in judged.items()}

    rows = []
    for it, p, q in zip(items, pers, qual, strict=True):
        dims = {d: _mean_or_none([x[d] for x in q]) for d in QUALITY_DIMENSIONS}
        quality = _mean_or_none([statistics.fmean(x.values()) for x in q])
        rows.append({"id": it["id"], "personalization": _mean_or_none(p), "quality": quality,
                     **{f"quality_{d}": v for d, v in dims.items()},
                     "n_personalization": len(p), "n_quality": len(q)})

    to_scale, scale_text = SCALES[scale]

    def x20(key: str) -> float | None:
        vals = [r[key] for r in rows if r[key] is not None]
        return to_scale(statistics.fmean(vals)) if vals else None

    summary = {
        "personalization": x20("personalization"),
        "quality": x20("quality"),
        "quality_dimensions": {d: x20(f"quality_{d}") for d in QUALITY_DIMENSIONS},
        "n": len(items),
        "samples": samples,
        "missing": {"personalization": sum(r["personalization"] is None for r in rows),
                    "quality": sum(r["quality"] is None for r in rows)},
        "unparsed_judgments": unparsed,
        "refused_judgments": refused,
        # why, for the first few (the same refusal is usually repeated)
        "refusals": list(dict.fromkeys(j.refused for v in judged.values() for j in v
                                       if j.refused is not None))[:3],
        "scale": scale_text,
    }
    return summary, rows


# --------------------------------------------------------------------------- one run (rule)

def judge_items(generations: Sequence[dict[str, Any]], questions: dict[str, str], *,
                source: str, records_source: str) -> list[dict[str, str]]:
    """The items :func:`judge_generations` scores: each generation (``id``, ``output``,
    ``reference``) joined to the question of its test record. A generation without one of those
    fields, or whose record is not among ``questions``, is a
    :class:`~percontrast.io.DataError` naming ``source``, the line and the field; so is an
    empty file (a judge table of nothing would read as a result)."""
    from percontrast.io import DataError

    if not generations:
        raise DataError(source, "no generations to judge")
    items = []
    for line, g in enumerate(generations, start=1):
        for key in ("id", "output", "reference"):
            if key not in g:
                raise DataError(source, "missing field", line=line, field=key)
        if g["id"] not in questions:
            raise DataError(source, f"record {g['id']!r} is not in {records_source}",
                            line=line, field="id")
        items.append({"id": g["id"], "question": questions[g["id"]],
                      "reference": g["reference"], "output": g["output"]})
    return items


def judge_run(generations: Sequence[dict[str, Any]], questions: dict[str, str],
              spec: dict[str, Any], llm_entries: dict[str, dict], *, seed: int, cache_dir,
              device: str | None = None, source: str = "<generations>",
              records_source: str = "<records>") -> tuple[dict[str, Any], list[dict]]:
    """Table 10's judgment of one run (rule ``llm_judge``): its first ``spec["n"]`` generations
    (:func:`judge_items`) judged by the judge entry of ``spec`` (``evaluation.llm_judge``).
    Returns the summary, naming the judge, and the per-item rows."""
    from percontrast.config import section_defaults
    from percontrast.llm import make_llm

    spec = section_defaults("evaluation.llm_judge", spec)
    items = judge_items(generations[: spec["n"]], questions, source=source,
                        records_source=records_source)
    name = spec["judge"]
    judge = make_llm(llm_entries[name], cache_dir=cache_dir, name=name, device=device)
    summary, rows = judge_generations(
        judge, items, seed=seed, samples=spec["samples"],
        retries=spec["judge_retries"], temperature=spec.get("temperature"),
        max_new_tokens=spec.get("max_new_tokens"), scale=spec["scale"])
    return {"judge": name, "judge_model": judge.spec.get("label", judge.spec["model"]),
            **summary}, rows
