"""The synthetic persona-QA set of the PIR benchmark (paper appendix A, prompt of appendix D.2).

For each persona sampled from Synthetic-Persona-Chat, an LLM writes a short question to that
person, a 5-20 word answer inferable from the persona, and the answer's persona keywords. LLM
replies are free text, so parsing is lenient (labelled lines, markdown, **bold** highlights)
and strict about what matters: a row is kept only when the answer has 5-20 words and at least one
keyword occurs verbatim in it. Dropped replies are counted by reason, never silently lost.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence

from percontrast.spans import keyword_spans

#: Appendix D.2, verbatim, plus a fixed reply format so replies can be parsed.
GENERATION_PROMPT = (
    "Now I have a paragraph of a person's persona:\n{persona}\n"
    "I want you to write a short question to this person and a corresponding short answer. "
    "Note that the answer should be concise, able to be inferred from his/her persona (but not "
    "the question), and may have words that are different from those in the persona. Highlight "
    "the keywords in the answer that reflect his/her persona. The keywords should also be short, "
    "not the whole sentence.\n\n"
    "Reply in exactly this format:\nQuestion: <the question>\nAnswer: <the answer>\n"
    "Keywords: <keyword>, <keyword>"
)

MIN_WORDS, MAX_WORDS = 5, 20
_LABEL = re.compile(r"^\s*[*_#>\-\s]*(question|q|answer|a|keywords?|highlights?)\s*[*_]*\s*[:：]"
                    r"\s*[*_]*\s*(.*)$", re.IGNORECASE)
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")


def generation_messages(persona: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": GENERATION_PROMPT.format(persona=persona)}]


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "").replace("__", "")).strip().strip('"“”')


def parse_reply(reply: str) -> tuple[dict | None, str]:
    """``({"question", "answer", "keywords"}, "ok")`` or ``(None, reason)`` for a bad reply."""
    fields: dict[str, str] = {}
    for line in reply.splitlines():
        m = _LABEL.match(line)
        if m:
            key = {"q": "question", "a": "answer", "keyword": "keywords", "highlight": "keywords",
                   "highlights": "keywords"}.get(m.group(1).lower(), m.group(1).lower())
            fields.setdefault(key, m.group(2).strip())
    if not fields.get("question"):
        return None, "no_question"
    if not fields.get("answer"):
        return None, "no_answer"
    raw_answer = fields["answer"]
    answer = _clean(raw_answer)
    n_words = len(answer.split())
    if not MIN_WORDS <= n_words <= MAX_WORDS:
        return None, "answer_length"
    candidates = [k for k in re.split(r"[,;]|\band\b", fields.get("keywords", ""))]
    candidates += [a or b for a, b in _BOLD.findall(raw_answer)]  # highlighted in the answer
    keywords = []
    for kw in candidates:
        kw = _clean(kw).strip("'`.[]()")
        if kw and kw.lower() not in (k.lower() for k in keywords) and keyword_spans(answer, [kw]):
            keywords.append(kw)
    if not keywords:
        return None, "no_keyword_in_answer"
    return {"question": _clean(fields["question"]), "answer": answer, "keywords": keywords}, "ok"


def build_persona_qa(personas: Sequence[dict], llm, *, n: int, seed: int,
                     temperature: float = 0.7) -> tuple[list[dict], dict[str, int]]:
    """Sample ``n`` personas (seeded), ask ``llm`` for each, keep the well-formed rows.

    ``personas``: ``[{"id", "persona": [sentences]}]`` (:func:`percontrast.data.spc.
    load_spc_personas`). Returns the rows and the count of each outcome (``ok`` and the reasons
    replies were dropped).
    """
    rng = random.Random(seed)
    chosen = rng.sample(list(personas), min(n, len(personas)))
    texts = [" ".join(p["persona"]) for p in chosen]
    replies = llm.chat_many([generation_messages(t) for t in texts], temperature=temperature,
                            seed=seed)
    rows, outcomes = [], Counter()
    for persona, text, reply in zip(chosen, texts, replies, strict=True):
        parsed, outcome = parse_reply(reply)
        outcomes[outcome] += 1
        if parsed:
            rows.append({"id": f"pqa-{persona['id']}", "persona": text, **parsed})
    return rows, dict(outcomes)


def attach_personas(rows: Sequence[dict], personas: Sequence[dict], path: str = "<persona-QA>"
                    ) -> list[dict]:
    """Persona-QA rows that name a Synthetic-Persona-Chat persona by id (``spc-test-0213``)
    instead of carrying its text get that persona's sentences, joined as the generator joins
    them. A hand-labelled set can so live beside the code without copying the dataset. Rows
    that carry a persona keep it; an id with no persona is an error naming file, line and id."""
    from percontrast.io import DataError

    by_id = {p["id"]: " ".join(p["persona"]) for p in personas}
    out = []
    for line, row in enumerate(rows, start=1):
        if row.get("persona"):
            out.append(dict(row))
        elif row.get("id") in by_id:
            out.append({**row, "persona": by_id[row["id"]]})
        else:
            raise DataError(path, f"no persona text and no Synthetic-Persona-Chat persona with id "
                            f"{row.get('id')!r}", line=line, field="id")
    return out
