"""The PIR token-classification benchmark (paper appendix A, figures 4 and 5) as an instrument.

Persona-QA answers carry gold persona keywords. Methods that mark answer tokens as personal:

* ``percontrast``         — PIR > threshold (1 in the paper), PIR from :mod:`percontrast.pir`,
                            persona + question vs a counterfactual context: the persona removed
                            (the paper's), a neutral filler of the same length, or another user's
                            persona (a placebo) — :data:`percontrast.prompts.COUNTERFACTUALS`;
* ``word_matching``       — the paper's rule: content words of the answer whose exact surface
                            form (case-folded) also occurs in the persona (nltk + WordNet,
                            :mod:`percontrast.nlp`);
* ``word_matching_lemma`` — the same with WordNet lemmas (``dogs`` matches ``dog``);
* ``llm_judge``           — an LLM lists the answer's persona keywords (appendix D.2 prompt).

Scoring follows the paper: an identified token is correct when it lies inside a gold keyword span
(tokens are mapped to character offsets of the answer). Why more than the paper's one number:
the verdict "PerContrast beats word matching" turned on a threshold, a counterfactual wording and
a matching rule nobody chose on purpose. So PIR, a score, is also judged threshold-free (average
precision = PR-AUC, ROC-AUC), at the paper's threshold and at one chosen on a dev split of the
answers (never on the test answers); every counterfactual is reported; gold tokens are split into
*verbatim* (their word occurs in the persona) and *paraphrase* (it does not), which is where word
matching must fail; and every difference carries a paired bootstrap interval over answers. The
metrics and that bootstrap are :mod:`percontrast.ranking`; the claims that read the token rows
are :func:`percontrast.report.claims.claim_estimates`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from percontrast import nlp
from percontrast.prompts import COUNTERFACTUALS
from percontrast.ranking import (
    answer_bootstrap,
    average_precision,
    best_threshold,
    pr_curve,
    prf,
    recall_by_group,
    roc_auc,
    weighted_f1,
)
from percontrast.spans import keyword_spans

#: Binary baselines, keyed like their token-row fields: the paper's rule first.
WORD_MATCHING_RULES = {"word_matching": "exact", "word_matching_lemma": "lemma"}
#: Gold-token kinds (a token row's ``kind``): the token's word occurs in the persona, or not.
KINDS = ("verbatim", "paraphrase")


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


def inside(token: AnswerToken, spans: Sequence[tuple[int, int]]) -> bool:
    """True when the token's non-space characters lie inside one span (paper's 'contained')."""
    if token.start >= token.end or not token.text.strip():
        return False
    return any(a <= token.start and token.end <= b for a, b in spans)


def overlaps(token: AnswerToken, spans: Sequence[tuple[int, int]]) -> bool:
    """True when the token shares a character with a span (how a matched word marks tokens)."""
    return token.start < token.end and any(token.start < b and a < token.end for a, b in spans)


def _word_keys(word: str, rule: str) -> frozenset[str]:
    if rule == "exact":
        return frozenset({word.lower().strip("'-")})
    if rule == "lemma":
        return nlp.lemmas(word)
    raise ValueError(f"unknown word-matching rule {rule!r}; expected 'exact' or 'lemma'")


def word_matching_spans(persona: str, answer: str, rule: str = "exact") -> list[tuple[int, int]]:
    """Spans of the answer's content words that also occur among the persona's words.

    ``exact`` (the paper's "content words that appear in both the persona and the answer"):
    the same surface form, case-folded; ``lemma``: any shared WordNet base form.
    """
    persona_keys: set[str] = set()
    for word, _, _ in nlp.words_with_offsets(persona):
        persona_keys |= _word_keys(word, rule)
    return [(s, e) for word, s, e in nlp.words_with_offsets(answer)
            if nlp.is_content_word(word) and _word_keys(word, rule) & persona_keys]


def gold_kind(token: AnswerToken, answer: str, persona: str) -> str:
    """``verbatim`` when the answer word holding this token occurs in the persona (case-folded
    surface form), else ``paraphrase``: what word matching can and cannot find."""
    persona_forms = {w.lower() for w, _, _ in nlp.words_with_offsets(persona)}
    word = next((w for w, s, e in nlp.words_with_offsets(answer)
                 if s < token.end and token.start < e), token.text)
    return "verbatim" if word.lower() in persona_forms else "paraphrase"


# --------------------------------------------------------------------------- dev split

def split_answers(ids: Sequence[str], dev_fraction: float, seed: int) -> dict[str, str]:
    """Answer id -> ``dev`` / ``test``: a seeded share of the answers for choosing thresholds,
    the rest for reporting. At least one answer on each side when there are two or more."""
    unique = list(dict.fromkeys(ids))
    if not 0 < dev_fraction < 1:
        raise ValueError(f"dev_fraction must lie in (0, 1), got {dev_fraction}")
    order = sorted(unique)
    random.Random(f"pir-dev-{seed}").shuffle(order)
    n_dev = min(max(1, round(dev_fraction * len(order))), len(order) - 1) if len(order) > 1 else 0
    dev = set(order[:n_dev])
    return {i: "dev" if i in dev else "test" for i in unique}


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


# --------------------------------------------------------------------------- evaluation

def _method_scores(tokens: Sequence[dict], variants: Sequence[str], threshold: float
                   ) -> dict[str, dict[str, Any]]:
    """Per method: its score per token (PIR, or 0/1 for a binary method) and its prediction."""
    out = {}
    for v in variants:
        pir = np.array([t[f"pir_{v}"] for t in tokens], dtype=float)
        out[v] = {"score": pir, "pred": pir > threshold}
    for m in (*WORD_MATCHING_RULES, "llm_judge"):
        if tokens and tokens[0].get(m) is not None:
            pred = np.array([bool(t[m]) for t in tokens])
            out[m] = {"score": pred.astype(float), "pred": pred}
    return out


def _ranking(score, gold) -> dict[str, float | None]:
    ap, auc = float(average_precision(score, gold)), float(roc_auc(score, gold))
    return {"average_precision": None if np.isnan(ap) else ap,
            "roc_auc": None if np.isnan(auc) else auc}


def evaluate(tokens: Sequence[dict], *, threshold: float, counterfactual: str,
             variants: Sequence[str] = COUNTERFACTUALS, boot: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    """Everything the benchmark reports, from its token rows (``scores.jsonl``): the paper's
    P/R/F1 per method (top-level keys), and under ``variants`` / ``baselines`` the
    threshold-free metrics, the dev-chosen threshold and its test P/R/F1, recall on verbatim
    and paraphrased gold tokens; under ``differences`` the paired-bootstrap intervals
    (``boot``: :func:`percontrast.stats.bootstrap` settings)."""
    if counterfactual not in variants:
        raise ValueError(f"counterfactual {counterfactual!r} is not among the variants scored "
                         f"({', '.join(variants)})")
    gold = np.array([bool(t["gold"]) for t in tokens])
    kinds = np.array([t.get("kind") or "" for t in tokens])
    test = np.array([t["split"] == "test" for t in tokens])
    dev = ~test
    methods = _method_scores(tokens, variants, threshold)
    out: dict[str, Any] = {"variants": {}, "baselines": {}}
    for name, m in methods.items():
        entry = {"at_threshold": prf(m["pred"].tolist(), gold.tolist()),
                 "test": prf(m["pred"][test].tolist(), gold[test].tolist()),
                 **_ranking(m["score"], gold),
                 "recall_by_kind": recall_by_group(m["pred"], gold, kinds, KINDS)}
        if name in variants:
            entry["pr_curve"] = pr_curve(m["score"], gold)
            if dev.any() and gold[dev].any():
                t = best_threshold(m["score"][dev], gold[dev])
                entry["dev_threshold"] = t
                entry["test_at_dev_threshold"] = prf((m["score"][test] > t).tolist(),
                                                     gold[test].tolist())
                m["dev_pred"] = m["score"] > t
            out["variants"][name] = entry
        else:
            out["baselines"][name] = entry
    out["gold_kinds"] = {k: int((gold & (kinds == k)).sum()) for k in KINDS}
    out["n_answers"] = len(dict.fromkeys(t["id"] for t in tokens))
    out["split"] = {s: len({t["id"] for t in tokens if t["split"] == s}) for s in ("dev", "test")}
    out["differences"] = differences(tokens, methods, gold, test, counterfactual, variants,
                                     boot or {})
    return out


def differences(tokens, methods, gold, test, counterfactual, variants, boot) -> dict[str, dict]:
    """Paired-bootstrap intervals over answers for every F1 / AUC difference the claims read:
    each counterfactual against each word-matching rule (F1 at the threshold, F1 at the
    dev-chosen threshold on test answers, AP, ROC-AUC), the other counterfactuals against the
    configured one (AP, ROC-AUC), and PerContrast against the LLM judge (F1)."""
    ids = list(dict.fromkeys(t["id"] for t in tokens))
    index = {i: k for k, i in enumerate(ids)}
    answer_of = np.array([index[t["id"]] for t in tokens])
    everyone = np.arange(len(ids))
    tested = np.unique(answer_of[test])
    out: dict[str, dict] = {}

    def add(name, metric, a, b, stat, answers, split):
        if len(answers) == 0:
            return
        try:
            e = answer_bootstrap(answer_of, answers, stat, boot)
        except ValueError as err:  # nothing to resample: say so, do not fail the benchmark
            out[name] = {"a": a, "b": b, "metric": metric, "split": split, "error": str(err)}
            return
        out[name] = {"a": a, "b": b, "metric": metric, "split": split, **e.to_dict()}

    def f1_diff(pa, pb):
        return lambda w: weighted_f1(pb, gold, w) - weighted_f1(pa, gold, w)

    def rank_diff(fn, sa, sb):
        return lambda w: fn(sb, gold, w) - fn(sa, gold, w)

    baselines = [m for m in WORD_MATCHING_RULES if m in methods]
    for v in variants:
        sv = methods[v]
        for base in baselines:
            sb = methods[base]
            add(f"f1_{v}_minus_{base}", "f1", base, v, f1_diff(sb["pred"], sv["pred"]),
                everyone, "all")
            if "dev_pred" in sv:
                add(f"f1_dev_threshold_{v}_minus_{base}", "f1", base, v,
                    f1_diff(sb["pred"], sv["dev_pred"]), tested, "test")
            add(f"ap_{v}_minus_{base}", "average_precision", base, v,
                rank_diff(average_precision, sb["score"], sv["score"]), everyone, "all")
            add(f"roc_auc_{v}_minus_{base}", "roc_auc", base, v,
                rank_diff(roc_auc, sb["score"], sv["score"]), everyone, "all")
        if v != counterfactual:
            sc = methods[counterfactual]
            for metric, fn in (("average_precision", average_precision), ("roc_auc", roc_auc)):
                short = "ap" if metric == "average_precision" else metric
                add(f"{short}_{v}_minus_{counterfactual}", metric, counterfactual, v,
                    rank_diff(fn, sc["score"], sv["score"]), everyone, "all")
    if "llm_judge" in methods:
        add(f"f1_{counterfactual}_minus_llm_judge", "f1", "llm_judge", counterfactual,
            f1_diff(methods["llm_judge"]["pred"], methods[counterfactual]["pred"]), everyone,
            "all")
    return out


def _judge_keywords(judge, rows: Sequence[dict]) -> list[list[str] | None]:
    """The persona keywords the LLM judge lists per answer; None for every answer without a
    judge (its baseline is skipped)."""
    if judge is None:
        return [None] * len(rows)
    replies = judge.chat_many([judge_messages(r["persona"], r["question"], r["answer"])
                               for r in rows], temperature=0.0)
    return [parse_judge_keywords(reply, r["answer"])
            for reply, r in zip(replies, rows, strict=True)]


def _answer_token_rows(row: dict, tokens: Sequence[AnswerToken], with_: list[float],
                       cf: dict[str, list[float]], *, counterfactual: str, threshold: float,
                       split: str, judged: list[str] | None) -> list[dict]:
    """The token rows of one answer: its tokens' log-probabilities with the persona
    (``with_``) and under each counterfactual (``cf``), PIR per counterfactual, the gold label
    and kind, and every method's label."""
    gold_spans = keyword_spans(row["answer"], row["keywords"])
    match = {m: word_matching_spans(row["persona"], row["answer"], rule)
             for m, rule in WORD_MATCHING_RULES.items()}
    judge_spans = keyword_spans(row["answer"], judged) if judged is not None else None
    out = []
    for i, tok in enumerate(tokens):
        is_gold = inside(tok, gold_spans)
        pir = {f"pir_{v}": with_[i] - cf[v][i] for v in cf}
        out.append({
            "id": row["id"], "index": tok.index, "token": tok.text,
            "start": tok.start, "end": tok.end, "pir": pir[f"pir_{counterfactual}"],
            "logp_with": with_[i], "logp_without": cf[counterfactual][i], **pir,
            "gold": is_gold,
            "kind": gold_kind(tok, row["answer"], row["persona"]) if is_gold else None,
            "split": split,
            "percontrast": pir[f"pir_{counterfactual}"] > threshold,
            **{m: overlaps(tok, spans) and bool(tok.text.strip())
               for m, spans in match.items()},
            "llm_judge": inside(tok, judge_spans) if judge_spans is not None else None,
        })
    return out


def _classification(token_rows: Sequence[dict], *, threshold: float, counterfactual: str,
                    variants: list[str], dev_fraction: float, seed: int,
                    boot: dict[str, Any] | None, judged: bool) -> dict[str, Any]:
    """classification.json: P/R/F1 of PIR > threshold and of each word-matching rule (and of
    the LLM judge when ``judged``), the settings, then :func:`evaluate`'s summary."""
    gold = [t["gold"] for t in token_rows]
    classification: dict[str, Any] = {
        "percontrast": prf([t["percontrast"] for t in token_rows], gold),
        **{m: prf([t[m] for t in token_rows], gold) for m in WORD_MATCHING_RULES},
        "threshold": threshold,
        "counterfactual": counterfactual,
        "word_matching_rule": "exact",
        "dev_fraction": dev_fraction,
        "seed": seed,
    }
    if judged:
        classification["llm_judge"] = prf([bool(t["llm_judge"]) for t in token_rows], gold)
    classification.update(evaluate(token_rows, threshold=threshold, counterfactual=counterfactual,
                                   variants=variants, boot=boot))
    return classification


def run_benchmark(model, tokenizer, rows: Sequence[dict], *, threshold: float = 1.0,
                  counterfactual: str = "removed", variants: Sequence[str] = COUNTERFACTUALS,
                  dev_fraction: float = 0.3, seed: int = 0, boot: dict[str, Any] | None = None,
                  judge=None, batch_size: int = 8,
                  chat_template_kwargs: dict | None = None) -> tuple[list[dict], dict]:
    """Score every answer token with every method and counterfactual.

    Returns ``(token_rows, classification)``: one dict per answer token (text, span, PIR under
    each counterfactual as ``pir_{variant}``, ``pir`` / ``logp_without`` for the configured
    one, gold label and kind, dev/test split, each method's label) and :func:`evaluate`'s
    summary. One persona forward per batch, plus one forward per counterfactual variant.
    ``judge`` is a :class:`percontrast.llm.ChatLLM` or None (the judge baseline is skipped).
    """
    from percontrast.pir import score_sequences
    from percontrast.prompts import (
        build_messages,
        counterfactual_entries,
        encode_prompt,
        placebo_partners,
    )

    variants = list(dict.fromkeys([counterfactual, *variants]))
    judge_keywords = _judge_keywords(judge, rows)
    partners = (placebo_partners([r["persona"] for r in rows], seed)
                if "placebo" in variants else [None] * len(rows))
    split = split_answers([r["id"] for r in rows], dev_fraction, seed)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def prompt(question, entries):
        return encode_prompt(tokenizer, build_messages("persona_qa", question, entries),
                             chat_template_kwargs)

    token_rows: list[dict] = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        encoded = [answer_tokens(tokenizer, row["answer"]) for row in chunk]
        lengths = [len(ids) for ids, _ in encoded]
        with_seqs = [prompt(row["question"], [row["persona"]]) + ids
                     for row, (ids, _) in zip(chunk, encoded, strict=True)]
        logp_with = score_sequences(model, with_seqs, lengths, pad_id)
        logp_cf = {}
        for v in variants:
            seqs = []
            for k, (row, (ids, _)) in enumerate(zip(chunk, encoded, strict=True)):
                j = partners[start + k]
                placebo = None if j is None else [rows[j]["persona"]]
                seqs.append(prompt(row["question"],
                                   counterfactual_entries(v, [row["persona"]], placebo)) + ids)
            logp_cf[v] = score_sequences(model, seqs, lengths, pad_id)
        for k, (row, (_, tokens)) in enumerate(zip(chunk, encoded, strict=True)):
            token_rows += _answer_token_rows(
                row, tokens, logp_with[k].tolist(), {v: logp_cf[v][k].tolist() for v in variants},
                counterfactual=counterfactual, threshold=threshold, split=split[row["id"]],
                judged=judge_keywords[start + k])
    return token_rows, _classification(
        token_rows, threshold=threshold, counterfactual=counterfactual, variants=variants,
        dev_fraction=dev_fraction, seed=seed, boot=boot, judged=judge is not None)
