"""One chat interface for every generator, simulated user and judge, with a response cache.

The pipeline asks LLMs for synthetic persona-QA data, for the simulated ALOE user, and for judge
scores. Each such role is a named entry of the config's ``llm`` section::

    llm:
      judge: {backend: openai, model: gpt-4o-mini, api_key_env: OPENAI_API_KEY}
      vllm:  {backend: openai, model: Qwen/Qwen3-14B, base_url: "https://node7:8000/v1"}
      lan:   {backend: openai, model: Qwen/Qwen3-14B, base_url: "http://node7:8000/v1",
              allow_http: true}
      local: {backend: transformers, model: smollm2-135m, max_new_tokens: 128}

and :func:`make_llm` turns an entry into a :class:`ChatLLM` whose ``chat(messages)`` /
``chat_many([messages, ...])`` return strings. The package holds one job per module:

``credentials``     what ``api_key_env`` and ``base_url`` may hold (checked at config validation
                    and by :func:`make_llm`): a variable that holds this endpoint's key, and an
                    https URL (plain http only to this machine, or with ``allow_http: true``);
                    and the redaction of URLs, messages and HTTP logs;
``cache``           the response cache, one JSON file per request named by its sha256;
``openai_backend``  OpenAI-compatible endpoints (OpenAI, vLLM, the llama.cpp server, Ollama)
                    with our retries, deadline and answer checks;
``local_backend``   the ``transformers`` backend: a prepared registry model, in-process, so the
                    default pipeline runs offline;
``sampling`` and ``errors``: what a call asks for, and what it raises.

Requests are cached as their answers arrive. Sampled requests (temperature > 0) are cached too,
keyed with their seed, so a rerun reproduces them exactly; for greedy requests the seed is left
out of the key. Identical requests inside one call are sent once: ask with different seeds to get
several samples of one prompt. Nothing but an answer is cached: a request the endpoint refused
(:class:`LLMRefusedError`) is returned in its place by :meth:`ChatLLM.try_chat_many` so a caller
can count it, and an unusable endpoint (:class:`LLMUnavailableError`) fails the call. Errors name
the llm entry, the URL (credentials redacted) and the status.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from percontrast import layout
from percontrast.llm.cache import CACHE_FORMAT, ResponseCache, canonical_json, request_key
from percontrast.llm.credentials import (
    api_key_env_problem,
    base_url_problem,
    entry_problem,
    llm_config_problem,
    redact_url,
    scrub_config_message,
)
from percontrast.llm.errors import (
    LLMConfigError,
    LLMError,
    LLMRefusedError,
    LLMRequestError,
    LLMUnavailableError,
)
from percontrast.llm.local_backend import TransformersBackend
from percontrast.llm.openai_backend import (
    MAX_CHARS_PER_TOKEN,
    OPENAI_BASE_URL,
    OpenAIBackend,
    RetryPolicy,
    max_answer_chars,
)
from percontrast.llm.sampling import Messages, Sampling, check_messages, request_seed

log = logging.getLogger(__name__)

BACKENDS = ("transformers", "openai")


class ChatLLM:
    """``chat`` / ``chat_many`` for one ``llm`` config entry, behind the response cache."""

    def __init__(self, name: str, spec: dict[str, Any], backend, cache: ResponseCache):
        self.name = name
        self.spec = dict(spec)
        self.backend = backend
        self.cache = cache
        self.stats = {"requests": 0, "cache_hits": 0, "sent": 0}

    def __repr__(self) -> str:
        return (f"ChatLLM({self.name!r}, backend={self.backend.kind!r}, "
                f"model={self.backend.model!r}, base_url={self.backend.base_url!r})")

    def sampling(self, *, temperature: float | None = None, max_new_tokens: int | None = None,
                 seed: int = 0, top_p: float | None = None) -> Sampling:
        """The call's sampling parameters; unset ones come from the config entry."""
        return Sampling(
            temperature=float(self.spec.get("temperature", 0.0) if temperature is None
                              else temperature),
            max_new_tokens=int(self.spec.get("max_new_tokens", 256) if max_new_tokens is None
                               else max_new_tokens),
            seed=int(seed), top_p=float(1.0 if top_p is None else top_p))

    def request(self, messages: Messages, sampling: Sampling,
                fields: dict[str, Any] | None = None) -> dict[str, Any]:
        """The canonical request whose hash is the cache key (``fields``: the backend's
        :meth:`key_fields`, when the caller already has them)."""
        fields = self.backend.key_fields() if fields is None else fields
        return {"format": CACHE_FORMAT, **fields, "messages": check_messages(messages),
                "sampling": sampling.key()}

    def chat(self, messages: Messages, **sampling) -> str:
        return self.chat_many([messages], progress=False, **sampling)[0]

    def chat_many(self, conversations: Sequence[Messages], *, progress: bool | None = None,
                  temperature: float | None = None, max_new_tokens: int | None = None,
                  seed: int = 0, top_p: float | None = None) -> list[str]:
        """Answers in input order. Cached answers are returned without touching the backend;
        the rest are requested (identical requests once) and cached as they arrive. Any failed
        request fails the call (answers received so far stay cached).

        ``progress=None`` shows a bar only on a terminal.
        """
        return self._chat_many(conversations, settle=False, progress=progress,
                               temperature=temperature, max_new_tokens=max_new_tokens, seed=seed,
                               top_p=top_p)  # type: ignore[return-value]

    def try_chat_many(self, conversations: Sequence[Messages], *, progress: bool | None = None,
                      temperature: float | None = None, max_new_tokens: int | None = None,
                      seed: int = 0, top_p: float | None = None) -> list[str | LLMRefusedError]:
        """:meth:`chat_many`, except that a request the endpoint rejected alone comes back as
        its :class:`LLMRefusedError` in its place (so a judge can count it) instead of failing
        the call. An unusable endpoint still raises."""
        return self._chat_many(conversations, settle=True, progress=progress,
                               temperature=temperature, max_new_tokens=max_new_tokens, seed=seed,
                               top_p=top_p)

    def _chat_many(self, conversations: Sequence[Messages], *, settle: bool,
                   progress: bool | None, temperature: float | None,
                   max_new_tokens: int | None, seed: int,
                   top_p: float | None) -> list[str | LLMRefusedError]:
        sampling = self.sampling(temperature=temperature, max_new_tokens=max_new_tokens,
                                 seed=seed, top_p=top_p)
        n = len(conversations)
        fields = self.backend.key_fields()
        requests = [self.request(m, sampling, fields) for m in conversations]
        keys = [request_key(r) for r in requests]
        answers: list[str | LLMRefusedError | None] = [self.cache.get(k) for k in keys]
        missing: dict[str, list[int]] = {}
        for i, (key, answer) in enumerate(zip(keys, answers, strict=True)):
            if answer is None:
                missing.setdefault(key, []).append(i)
        n_missing = sum(len(v) for v in missing.values())
        self.stats["requests"] += n
        self.stats["cache_hits"] += n - n_missing
        if not missing:
            log.debug("llm %r: %d requests, all from the cache", self.name, n)
            return answers  # type: ignore[return-value]

        def counts() -> str:
            got = sum(isinstance(a, str) for a in answers)
            now = got - (n - n_missing)
            refused = sum(isinstance(a, LLMRefusedError) for a in answers)
            return (f"{n - n_missing} of {n} requests were served from the cache "
                    f"({self.cache.root}), " + (f"{now} answered now, " if now else "")
                    + (f"{refused} refused, " if refused else "") + f"{n - got - refused} missing")

        where = self.where()
        reason = self.backend.unavailable_reason()
        if reason is not None:
            raise LLMUnavailableError(f"{where}: {reason} [{counts()}]")

        log.info("llm %r: %d requests, %d from the cache, %d to %s", self.name, n, n - n_missing,
                 len(missing), self.backend.base_url or self.backend.model)
        from tqdm.auto import tqdm

        todo = list(missing)
        bar = tqdm(total=len(todo), desc=f"llm {self.name}", unit="req",
                   disable=None if progress is None else not progress)

        def on_done(j: int, text: str, meta: dict[str, Any]) -> None:
            key = todo[j]
            self.cache.put(key, requests[missing[key][0]], text, meta)
            for i in missing[key]:
                answers[i] = text
            self.stats["sent"] += 1
            bar.update(1)

        def on_error(j: int, err: LLMRefusedError) -> None:
            refused = LLMRefusedError(f"{where}: {err}", status=err.status)
            for i in missing[todo[j]]:
                answers[i] = refused
            self.stats["sent"] += 1
            self.stats["refused"] = self.stats.get("refused", 0) + 1
            bar.update(1)

        try:
            self.backend.complete_many([requests[missing[k][0]]["messages"] for k in todo],
                                       sampling, on_done, on_error if settle else None)
        except LLMError as err:
            raise type(err)(f"{where}: {err} [{counts()}]", status=err.status) from err
        finally:
            bar.close()
        return answers  # type: ignore[return-value]

    def where(self) -> str:
        """How messages name this LLM: the entry, its backend and model, its redacted URL."""
        where = f"llm entry {self.name!r} ({self.backend.kind}, model {self.backend.model!r}"
        return where + (f", base_url {self.backend.base_url})" if self.backend.base_url else ")")


def make_llm(spec: dict[str, Any], *, cache_dir: str | os.PathLike,
             models_dir: str | os.PathLike | None = None, name: str | None = None,
             device: str | None = None, batch_size: int = 8,
             retry: RetryPolicy | None = None) -> ChatLLM:
    """A :class:`ChatLLM` for one entry of the config's ``llm`` section.

    ``name`` is the entry's name (used in messages; defaults to its label or model); the entry's
    ``timeout_s`` overrides ``retry.total_s`` (the total deadline of one request). Nothing is
    loaded or contacted here: a run whose answers are all cached needs neither the model nor the
    server nor the key. ``models_dir`` holds the prepared models of transformers entries
    (default the layout's ``data/models``).
    """
    backend_kind = spec.get("backend")
    if backend_kind not in BACKENDS:
        raise ValueError(f"llm backend must be one of {BACKENDS}, got {backend_kind!r}")
    if not spec.get("model"):
        raise ValueError("an llm entry needs 'model'")
    name = name or spec.get("label") or spec["model"]
    if backend_kind == "openai":
        problem = entry_problem(spec)
        if problem is not None:
            raise LLMConfigError(f"llm entry {name!r}: {problem[0]} {problem[1]}")
        retry = retry or RetryPolicy()
        if spec.get("timeout_s") is not None:
            timeout_s = float(spec["timeout_s"])
            if timeout_s <= 0:
                raise ValueError(f"llm entry {name!r}: timeout_s must be > 0, got {timeout_s}")
            retry = replace(retry, total_s=timeout_s)
        backend = OpenAIBackend(name, spec, retry)
    else:
        backend = TransformersBackend(name, spec, layout.path("models_dir") if models_dir is None
                                       else models_dir, device, batch_size)
    return ChatLLM(name, spec, backend, ResponseCache(cache_dir))

__all__ = ["BACKENDS", "CACHE_FORMAT", "MAX_CHARS_PER_TOKEN", "OPENAI_BASE_URL", "ChatLLM",
           "LLMConfigError", "LLMError", "LLMRefusedError", "LLMRequestError",
           "LLMUnavailableError", "Messages", "ResponseCache", "RetryPolicy", "Sampling",
           "api_key_env_problem", "base_url_problem", "canonical_json", "entry_problem",
           "llm_config_problem", "make_llm", "max_answer_chars", "redact_url", "request_key",
           "request_seed", "scrub_config_message"]
