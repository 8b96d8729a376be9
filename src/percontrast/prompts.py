"""The paper's prompt templates (appendix D), built with and without the user persona.

One module builds every prompt, whether for training, generation or PIR, so the persona-kept and
persona-removed contexts can never drift apart. Each task type's template is its record in
:mod:`percontrast.data.registry`; :data:`TEMPLATES` reads them there. A template has three parts:

* ``instruction``  — the task, always present ("Your task is to write abstracts for the user's
                     paper.")
* ``persona``      — the intro, the retrieved past writings, and the outro that asks to match them
                     ("The following are abstracts ... {entries} Based on these examples,
                     compose ...")
* ``plain``        — what replaces the persona part when it is removed ("Compose a new abstract.")

so the counterfactual prompt differs from the real one *only* by the persona (the intervention of
PerContrast), and still reads as a complete instruction.

The response is tokenized once, on its own, and the same ids are appended after both chat-templated
prompts (which end in the same generation prompt). PIR therefore compares the model's log-prob of
the identical token ids in the two contexts; tokenizing ``prompt + response`` as one string could
merge tokens across the boundary differently in the two contexts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from percontrast.data import registry
from percontrast.data.demo import marker_spans
from percontrast.data.records import Record
from percontrast.data.registry import Template

#: The PIR benchmark's prompt (appendix A): the persona holder answers a question. Not a task
#: type (no records, no dataset), so it is kept here rather than in the registry.
PERSONA_QA = "persona_qa"
_PERSONA_QA_TEMPLATE = Template(
    "Answer the question in one short sentence, speaking as yourself.",
    "This is your persona:",
    "Answer as this person would.",
    "",
)


class _Templates(Mapping):
    """A live view: prompt kind -> :class:`Template`; every task type's (registry), then
    :data:`PERSONA_QA`'s."""

    def __getitem__(self, kind: str) -> Template:
        if kind == PERSONA_QA:
            return _PERSONA_QA_TEMPLATE
        for t in registry.task_types():
            if t.name == kind:
                return t.template
        raise KeyError(kind)

    def __iter__(self):
        return iter([*registry.TASK_TYPE_NAMES, PERSONA_QA])

    def __len__(self) -> int:
        return len(registry.TASK_TYPE_NAMES) + 1


TEMPLATES: Mapping[str, Template] = _Templates()


def format_persona(entries: list[str]) -> str:
    """Past writings as a numbered list, one entry per paragraph, best-ranked first."""
    return "\n".join(f"[{i}] {entry.strip()}" for i, entry in enumerate(entries, start=1))


def system_prompt(kind: str, persona_entries: list[str] | None) -> str:
    """The system message; ``persona_entries=None`` builds the persona-removed counterfactual.

    An empty list renders like ``None``: "the following are the user's reviews:" followed by
    nothing is no persona, and would only cost tokens.
    """
    t = TEMPLATES[kind]
    parts = [t.instruction]
    if persona_entries and t.persona_intro:
        parts += [t.persona_intro, format_persona(persona_entries), t.persona_outro]
    elif t.plain:
        parts.append(t.plain)
    return "\n".join(p for p in parts if p)


def user_prompt(kind: str, query: str, meta: dict[str, Any] | None = None) -> str:
    """The user turn: the query, after the record's evidence where the template has a
    ``context`` (general QA's context or passage)."""
    context = TEMPLATES[kind].context if kind in TEMPLATES else None
    if context is None:
        return query
    label, key = context
    return f"{label}:\n{(meta or {}).get(key, '')}\n\nQuestion: {query}"


def build_messages(kind: str, query: str, persona_entries: list[str] | None,
                   meta: dict[str, Any] | None = None) -> list[dict[str, str]]:
    return [{"role": "system", "content": system_prompt(kind, persona_entries)},
            {"role": "user", "content": user_prompt(kind, query, meta)}]


# --------------------------------------------------------------------------- counterfactuals

#: What replaces the persona in PerContrast's second forward (config ``pir.counterfactual``):
#: ``removed`` — the paper's: the persona part gives way to the template's plain instruction;
#: ``filler``  — the persona's entries become neutral text of the same word count (the prompt
#:               keeps its shape and length, only the information goes);
#: ``placebo`` — another user's persona (a persona is there, just not this user's).
COUNTERFACTUALS = ("removed", "filler", "placebo")

#: Neutral words the ``filler`` counterfactual cycles through: no fact about anyone.
FILLER_SENTENCE = "This line is a neutral placeholder and says nothing about any person."


def filler_entry(entry: str) -> str:
    """Neutral text with as many words as ``entry``: :data:`FILLER_SENTENCE` repeated."""
    words = FILLER_SENTENCE.split()
    n = max(1, len(entry.split()))
    text = " ".join(words[i % len(words)] for i in range(n))
    return text if text.endswith(".") else text + "."


def counterfactual_entries(variant: str, persona_entries: list[str] | None,
                           placebo_entries: list[str] | None = None) -> list[str] | None:
    """The persona entries of the counterfactual prompt (None = the persona part removed).

    Only the entries change, never the instruction, intro, outro or query, so the two prompts
    differ exactly where the intervention is meant to be.
    """
    if variant == "removed":
        return None
    if variant == "filler":
        return [filler_entry(e) for e in persona_entries] if persona_entries else None
    if variant == "placebo":
        if not placebo_entries:
            raise ValueError("the placebo counterfactual needs another user's persona entries")
        return list(placebo_entries)
    raise ValueError(f"unknown counterfactual {variant!r}; expected one of {COUNTERFACTUALS}")


def placebo_partners(owners: Sequence[str], seed: int) -> list[int]:
    """For each item, the index of another item whose owner (user id, or persona text) differs:
    whose persona serves as its placebo. Seeded and deterministic; items are visited in a
    shuffled cycle and each takes the next item of another owner, so the placebos spread over
    the other owners rather than all being one user's. Fails when all items share one owner
    (no other persona exists)."""
    import random

    if len(set(owners)) < 2 and owners:
        raise ValueError("the placebo counterfactual needs personas of at least two users")
    order = list(range(len(owners)))
    random.Random(f"placebo-{seed}").shuffle(order)
    position = {item: k for k, item in enumerate(order)}
    partners = []
    for i in range(len(owners)):
        k = position[i]
        j = next(order[(k + d) % len(order)] for d in range(1, len(order))
                 if owners[order[(k + d) % len(order)]] != owners[i])
        partners.append(j)
    return partners


def record_messages(record: Record, *, with_persona: bool = True) -> list[dict[str, str]]:
    """Chat messages for a canonical record (its profile = the retrieved top-k entries)."""
    return build_messages(record.task, record.query, record.profile if with_persona else None,
                          record.meta)


# --------------------------------------------------------------------------- tokenization

@dataclass
class EncodedPair:
    """One example tokenized twice: with and without persona, the same response ids after both.

    ``with_ids[-n:] == without_ids[-n:] == response_ids`` where ``n = len(response_ids)``;
    ``response_start_*`` is the index of the first response token in each sequence.

    ``marker_mask`` (one entry per response id, or None) flags the tokens that spell one of the
    user's known personal markers (demo records' ``meta["markers"]``): ground truth for which
    tokens PIR *should* single out, so training can log PIR and weights on them apart from the
    rest. It only observes; the loss never reads it.
    """

    with_ids: list[int]
    without_ids: list[int]
    response_ids: list[int]
    persona_entries_kept: int = 0
    truncated: dict[str, int] = field(default_factory=dict)
    marker_mask: list[bool] | None = None

    @property
    def response_start_with(self) -> int:
        return len(self.with_ids) - len(self.response_ids)

    @property
    def response_start_without(self) -> int:
        return len(self.without_ids) - len(self.response_ids)


def encode_prompt(tokenizer, messages: list[dict[str, str]],
                  chat_template_kwargs: dict[str, Any] | None = None) -> list[int]:
    """Chat-templated prompt ids ending in the assistant generation prompt."""
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                        **(chat_template_kwargs or {}))
    if hasattr(ids, "keys"):  # transformers >= 5 returns a BatchEncoding
        ids = ids["input_ids"]
    return list(ids)


def encode_response(tokenizer, response: str, *, add_eos: bool = True) -> list[int]:
    """Response ids, tokenized on their own, closed by the end-of-turn token so models learn
    to stop."""
    ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    if add_eos and tokenizer.eos_token_id is not None:
        ids = ids + [tokenizer.eos_token_id]
    return ids


def response_marker_mask(tokenizer, response: str, markers: Sequence[str] | None,
                         response_ids: Sequence[int]) -> list[bool] | None:
    """Per response id: does the token overlap an occurrence of a marker (see
    :func:`percontrast.data.demo.marker_spans`)? None without markers or character offsets.

    The response is tokenized again with offsets rather than changing :func:`encode_response`, so
    the ids trained on stay exactly what they are without markers; if the re-tokenization does
    not reproduce them (it always should) no mask is better than a misaligned one. Ids past the
    text's own tokens (the appended end-of-turn token) are never markers.
    """
    if markers is None or not getattr(tokenizer, "is_fast", False):
        return None  # slow tokenizers have no offset mapping
    enc = tokenizer(response, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = list(enc["input_ids"]), enc["offset_mapping"]
    if list(response_ids[:len(ids)]) != ids:
        return None
    spans = [(a, b) for a, b in marker_spans(response, markers) if b > a]
    mask = [e > s and any(s < b and a < e for a, b in spans) for s, e in offsets]
    return mask + [False] * (len(response_ids) - len(ids))


def _shorten_text(tokenizer, text: str, n_tokens: int, *, keep: str = "start") -> str:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    n_tokens = max(0, n_tokens)
    kept = ids[:n_tokens] if keep == "start" else ids[len(ids) - n_tokens:] if n_tokens else []
    return tokenizer.decode(kept, skip_special_tokens=True)


@dataclass
class FittedPrompt:
    """What survives of an example's parts after fitting a token budget (see :func:`fit_prompt`)."""

    entries: list[str] | None
    query: str
    response_ids: list[int]
    prompt_ids: list[int]
    truncated: dict[str, int] = field(default_factory=dict)


def fit_prompt(tokenizer, kind: str, query: str, persona_entries: list[str] | None,
               response_ids: list[int], max_length: int | None, *,
               meta: dict[str, Any] | None = None,
               chat_template_kwargs: dict[str, Any] | None = None) -> FittedPrompt:
    """Fit persona prompt + response into ``max_length`` tokens, losing the least useful first.

    Persona first: whole entries from the end (the least relevant), then the tail of the last
    kept entry; then the start of the query (the most recent conversation turns and the task's
    items are at its end); the response is cut only when it alone exceeds the budget (counted
    in ``truncated["response"]``). With no response (generation) the prompt fills the budget.
    """
    entries = list(persona_entries or [])
    truncated: dict[str, int] = {}

    def encode(entries_: list[str] | None, query_: str) -> list[int]:
        return encode_prompt(tokenizer, build_messages(kind, query_, entries_, meta),
                             chat_template_kwargs)

    with_prompt = encode(entries if persona_entries is not None else None, query)
    if max_length is not None and len(with_prompt) + len(response_ids) > max_length:
        # 1) drop whole persona entries from the end while that is enough
        while entries and len(with_prompt) + len(response_ids) > max_length:
            overflow = len(with_prompt) + len(response_ids) - max_length
            last_len = len(tokenizer(entries[-1], add_special_tokens=False)["input_ids"])
            if len(entries) > 1 and last_len <= overflow:
                entries.pop()
                truncated["persona_entries"] = truncated.get("persona_entries", 0) + 1
            else:  # 2) cut the tail of the last entry (re-encode: decode can shift a token)
                cut = _shorten_text(tokenizer, entries[-1], last_len - overflow - 1)
                truncated["persona_tokens"] = truncated.get("persona_tokens", 0) + overflow
                entries[-1] = cut
                if not cut.strip():
                    entries.pop()
            with_prompt = encode(entries, query)
        # 3) the query, from its start
        while len(with_prompt) + len(response_ids) > max_length and query:
            overflow = len(with_prompt) + len(response_ids) - max_length
            q_len = len(tokenizer(query, add_special_tokens=False)["input_ids"])
            if q_len == 0:
                break
            query = _shorten_text(tokenizer, query, q_len - overflow - 1, keep="end")
            truncated["query_tokens"] = truncated.get("query_tokens", 0) + overflow
            with_prompt = encode(entries if persona_entries is not None else None, query)
        # 4) last resort: the response tail
        budget = max_length - len(with_prompt)
        if budget < 0 or (budget == 0 and response_ids):
            raise ValueError(f"max_length={max_length} cannot hold even the bare {kind!r} prompt "
                             f"({len(with_prompt)} tokens)"
                             + (" plus one response token" if response_ids else ""))
        if len(response_ids) > budget:
            truncated["response"] = len(response_ids) - budget
            response_ids = response_ids[:budget]
    return FittedPrompt(entries if persona_entries is not None else None, query,
                        list(response_ids), with_prompt, truncated)


def encode_pair(tokenizer, kind: str, query: str, persona_entries: list[str] | None,
                response: str, *, max_length: int | None = None,
                meta: dict[str, Any] | None = None,
                chat_template_kwargs: dict[str, Any] | None = None,
                markers: Sequence[str] | None = None, counterfactual: str = "removed",
                placebo_entries: list[str] | None = None) -> EncodedPair:
    """Tokenize an example with and without persona, fitting ``max_length`` tokens
    (truncation order: :func:`fit_prompt`); with ``markers``, also flag the response tokens
    that spell them (:func:`response_marker_mask`, cut with the response).

    ``counterfactual`` picks what replaces the persona (:data:`COUNTERFACTUALS`); ``filler``
    mirrors the entries that survived truncation, ``placebo`` (``placebo_entries``: another
    user's) is fitted to the same budget the same way, persona entries first.
    """
    response_ids = encode_response(tokenizer, response)
    mask = response_marker_mask(tokenizer, response, markers, response_ids)
    fit = fit_prompt(tokenizer, kind, query, persona_entries, response_ids,
                     max_length, meta=meta, chat_template_kwargs=chat_template_kwargs)
    cf_entries = counterfactual_entries(counterfactual, fit.entries, placebo_entries)
    if counterfactual == "placebo":
        cf_fit = fit_prompt(tokenizer, kind, fit.query, cf_entries, fit.response_ids,
                            max_length, meta=meta, chat_template_kwargs=chat_template_kwargs)
        if cf_fit.query != fit.query or cf_fit.response_ids != fit.response_ids:
            raise ValueError(f"max_length={max_length} cannot hold the placebo prompt without "
                             "cutting the query or the response")
        cf_entries = cf_fit.entries
    without_prompt = encode_prompt(tokenizer, build_messages(kind, fit.query, cf_entries, meta),
                                   chat_template_kwargs)
    return EncodedPair(with_ids=fit.prompt_ids + fit.response_ids,
                       without_ids=without_prompt + fit.response_ids,
                       response_ids=fit.response_ids,
                       persona_entries_kept=len(fit.entries or []),
                       truncated=fit.truncated,
                       marker_mask=None if mask is None else mask[:len(fit.response_ids)])


def generation_messages(tokenizer, record: Record, max_prompt_tokens: int | None, *,
                        chat_template_kwargs: dict[str, Any] | None = None,
                        ) -> tuple[list[dict[str, str]], dict[str, int]]:
    """A record's persona prompt for generation, fitted into ``max_prompt_tokens`` the same way
    training prompts are (persona first, then the start of the query); and what was cut.

    A prompt whose fixed part alone is longer (a QA context lives in the template, not in the
    persona or query) is kept whole and reported as ``{"over_budget": its length}``: cutting
    the evidence would change the task, and the model may still hold it.
    """
    try:
        fit = fit_prompt(tokenizer, record.task, record.query, record.profile, [],
                         max_prompt_tokens, meta=record.meta,
                         chat_template_kwargs=chat_template_kwargs)
    except ValueError:
        messages = record_messages(record)
        return messages, {"over_budget": len(encode_prompt(tokenizer, messages,
                                                           chat_template_kwargs))}
    return build_messages(record.task, fit.query, fit.entries, record.meta), fit.truncated


def pair_from_messages(tokenizer, with_persona: list[dict[str, str]],
                       without_persona: list[dict[str, str]], response_ids: list[int],
                       chat_template_kwargs: dict[str, Any] | None = None) -> EncodedPair:
    """An :class:`EncodedPair` from ready-made chat messages and response ids (no truncation)."""
    return EncodedPair(
        with_ids=encode_prompt(tokenizer, with_persona, chat_template_kwargs) + response_ids,
        without_ids=encode_prompt(tokenizer, without_persona, chat_template_kwargs)
        + response_ids,
        response_ids=response_ids)


def encode_record(tokenizer, record: Record, *, max_length: int | None = None,
                  chat_template_kwargs: dict[str, Any] | None = None,
                  counterfactual: str = "removed",
                  placebo_entries: list[str] | None = None) -> EncodedPair:
    """A record's training pair; records that list their markers (``meta["markers"]``, the demo
    data) get a :attr:`EncodedPair.marker_mask`, an empty list meaning "no marker tokens"."""
    return encode_pair(tokenizer, record.task, record.query, record.profile, record.reference,
                       max_length=max_length, meta=record.meta,
                       chat_template_kwargs=chat_template_kwargs,
                       markers=(record.meta or {}).get("markers"),
                       counterfactual=counterfactual, placebo_entries=placebo_entries)


def encode_records(tokenizer, records: Sequence[Record], *, max_length: int | None = None,
                   chat_template_kwargs: dict[str, Any] | None = None,
                   counterfactual: str = "removed", seed: int = 0) -> list[EncodedPair]:
    """Training pairs of a dataset under one counterfactual (config ``pir.counterfactual``);
    ``placebo`` gives each record the profile of a record of another user
    (:func:`placebo_partners`, seeded)."""
    partners = (placebo_partners([r.user_id for r in records], seed)
                if counterfactual == "placebo" else [None] * len(records))
    return [encode_record(tokenizer, r, max_length=max_length,
                          chat_template_kwargs=chat_template_kwargs,
                          counterfactual=counterfactual,
                          placebo_entries=None if j is None else records[j].profile)
            for r, j in zip(records, partners, strict=True)]
