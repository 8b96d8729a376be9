"""The PIR token-classification benchmark (paper appendix A, figures 4 and 5).

Persona-QA answers carry gold persona keywords. Three methods mark answer tokens as personal:

* ``percontrast``   — PIR > threshold (1 in the paper), PIR from :mod:`percontrast.pir`, with the
                      persona holder answering: persona + question vs question only;
* ``word_matching`` — content words (noun/verb/adj/adv) of the answer whose lemma also occurs in
                      the persona (nltk + WordNet, :mod:`percontrast.nlp`);
* ``llm_judge``     — an LLM lists the answer's persona keywords (appendix D.2 prompt).

Scoring follows the paper: an identified token is correct when it lies inside a gold keyword span
(tokens are mapped to character offsets of the answer); precision, recall and F1 are over tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from percontrast import nlp


@dataclass
class AnswerToken:
    index: int
    text: str
    start: int  # character span in the answer, leading whitespace excluded
    end: int


def answer_tokens(tokenizer, answer: str) -> tuple[list[int], list[AnswerToken]]:
    """Token ids of ``answer`` (as :func:`percontrast.prompts.encode_response` makes them, no
    EOS) and each token's character span, leading whitespace stripped."""
    enc = tokenizer(answer, add_special_tokens=False, return_offsets_mapping=True)
    tokens = []
    for i, (start, end) in enumerate(enc["offset_mapping"]):
        while start < end and answer[start].isspace():
            start += 1
        tokens.append(AnswerToken(i, answer[start:end], start, end))
    return list(enc["input_ids"]), tokens


def keyword_spans(answer: str, keywords: Iterable[str]) -> list[tuple[int, int]]:
    """Character spans of every occurrence of each keyword (case-insensitive, word-bounded)."""
    spans = []
    for kw in keywords:
        kw = kw.strip()
        if kw:
            pattern = r"(?<!\w)" + re.escape(kw) + r"(?!\w)"
            spans += [(m.start(), m.end()) for m in re.finditer(pattern, answer, re.IGNORECASE)]
    return sorted(set(spans))


def inside(token: AnswerToken, spans: Sequence[tuple[int, int]]) -> bool:
    """True when the token's non-space characters lie inside one span (paper's 'contained')."""
    if token.start >= token.end or not token.text.strip():
        return False
    return any(a <= token.start and token.end <= b for a, b in spans)


def overlaps(token: AnswerToken, spans: Sequence[tuple[int, int]]) -> bool:
    return token.start < token.end and any(token.start < b and a < token.end for a, b in spans)


def word_matching_spans(persona: str, answer: str) -> list[tuple[int, int]]:
    """Spans of the answer's content words whose lemmas also occur among the persona's words."""
    persona_lemmas = set()
    for word, _, _ in nlp.words_with_offsets(persona):
        persona_lemmas |= nlp.lemmas(word)
    return [(s, e) for word, s, e in nlp.words_with_offsets(answer)
            if nlp.is_content_word(word) and nlp.lemmas(word) & persona_lemmas]


def prf(predicted: Sequence[bool], gold: Sequence[bool]) -> dict[str, float]:
    """Token precision / recall / F1 (0 where undefined) and counts."""
    tp = sum(p and g for p, g in zip(predicted, gold, strict=True))
    n_pred, n_gold = sum(predicted), sum(gold)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_tokens": len(gold),
            "n_gold": n_gold, "n_predicted": n_pred, "n_correct": tp}


# --------------------------------------------------------------------------- LLM judge

JUDGE_PROMPT = (
    "This is the persona of user 1:\n{persona}\n"
    "This is the conversation between two users: User 2: {question} User 1: {answer}\n"
    "Identify the keywords in user 1's speech in the conversation that reflect his/her persona "
    "(but not only the words in the description of his/her persona). Keywords:"
)


def judge_messages(persona: str, question: str, answer: str) -> list[dict[str, str]]:
    """Appendix D.2's LLM-as-judge prompt as a single user turn."""
    return [{"role": "user", "content": JUDGE_PROMPT.format(persona=persona, question=question,
                                                           answer=answer)}]


def parse_judge_keywords(reply: str, answer: str) -> list[str]:
    """Keywords from a free-form judge reply, kept only where they occur in the answer.

    Accepts comma/semicolon/newline-separated lists, bullets, numbering and quotes; drops
    anything the answer does not contain (a judge cannot mark tokens that are not there).
    """
    text = reply.split("Keywords:", 1)[-1]
    parts = re.split(r"[,;\n]|\band\b", text)
    found = []
    for part in parts:
        kw = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", part).strip().strip("\"'`*.").strip()
        if kw and len(kw) <= 60 and keyword_spans(answer, [kw]) and kw.lower() not in found:
            found.append(kw.lower())
    return found


# --------------------------------------------------------------------------- the benchmark

def validate_rows(rows: Sequence[dict], path: str = "<persona-QA>") -> None:
    """Persona-QA rows need id/persona/question/answer/keywords; keywords must be in the answer."""
    from percontrast.io import DataError

    for line, row in enumerate(rows, start=1):
        for field in ("id", "persona", "question", "answer"):
            if not isinstance(row.get(field), str) or not row[field].strip():
                raise DataError(path, "missing or empty", line=line, field=field)
        kws = row.get("keywords")
        if not isinstance(kws, list) or not all(isinstance(k, str) for k in kws):
            raise DataError(path, "must be a list of strings", line=line, field="keywords")
        absent = [k for k in kws if not keyword_spans(row["answer"], [k])]
        if absent:
            raise DataError(path, f"keywords not in the answer: {absent}", line=line,
                            field="keywords")


def run_benchmark(model, tokenizer, rows: Sequence[dict], *, threshold: float = 1.0,
                  judge=None, batch_size: int = 8,
                  chat_template_kwargs: dict | None = None) -> tuple[list[dict], dict]:
    """Score every answer token with the three methods.

    Returns ``(token_rows, classification)``: one dict per answer token (text, span, PIR and the
    two log-probs, gold and each method's label) and the P/R/F1 summary per method.
    ``judge`` is a :class:`percontrast.llm.ChatLLM` or None (the judge baseline is skipped).
    """
    from percontrast.pir import score_pairs
    from percontrast.prompts import build_messages, pair_from_messages

    judge_keywords: list[list[str] | None] = [None] * len(rows)
    if judge is not None:
        replies = judge.chat_many([judge_messages(r["persona"], r["question"], r["answer"])
                                   for r in rows], temperature=0.0)
        judge_keywords = [parse_judge_keywords(reply, r["answer"])
                          for reply, r in zip(replies, rows, strict=True)]

    token_rows: list[dict] = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        encoded = []
        for row in chunk:
            ids, tokens = answer_tokens(tokenizer, row["answer"])
            with_p = build_messages("persona_qa", row["question"], [row["persona"]])
            without = build_messages("persona_qa", row["question"], None)
            pair = pair_from_messages(tokenizer, with_p, without, ids, chat_template_kwargs)
            encoded.append((row, tokens, pair))
        scores = score_pairs(model, [pair for _, _, pair in encoded], tokenizer.pad_token_id)
        for offset, ((row, tokens, _), (lp_with, lp_without)) in enumerate(
                zip(encoded, scores, strict=True)):
            gold_spans = keyword_spans(row["answer"], row["keywords"])
            match_spans = word_matching_spans(row["persona"], row["answer"])
            judged = judge_keywords[start + offset]
            judge_spans = keyword_spans(row["answer"], judged) if judged is not None else None
            for tok, a, b in zip(tokens, lp_with.tolist(), lp_without.tolist(), strict=True):
                token_rows.append({
                    "id": row["id"], "index": tok.index, "token": tok.text,
                    "start": tok.start, "end": tok.end, "pir": a - b, "logp_with": a,
                    "logp_without": b, "gold": inside(tok, gold_spans),
                    "percontrast": (a - b) > threshold,
                    "word_matching": overlaps(tok, match_spans) and bool(tok.text.strip()),
                    "llm_judge": inside(tok, judge_spans) if judge_spans is not None else None,
                })
    gold = [t["gold"] for t in token_rows]
    classification = {
        "percontrast": prf([t["percontrast"] for t in token_rows], gold),
        "word_matching": prf([t["word_matching"] for t in token_rows], gold),
        "threshold": threshold,
        "n_answers": len(rows),
    }
    if judge is not None:
        classification["llm_judge"] = prf([bool(t["llm_judge"]) for t in token_rows], gold)
    return token_rows, classification
