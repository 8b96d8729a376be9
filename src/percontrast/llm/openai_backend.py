"""The ``openai`` backend: OpenAI-compatible chat completions over HTTP, with our own retries.

It uses the ``openai`` package's async client against any OpenAI-compatible endpoint: OpenAI
itself (``base_url`` unset), vLLM, the llama.cpp server, Ollama. The key is read from the
environment variable *named* by the entry's ``api_key_env`` when a call starts, and is scrubbed
from every message.

Why our own retries: the client is built with ``max_retries=0`` and this module retries 408 / 409
/ 429 / 5xx, timeouts and connection errors with exponential backoff and jitter, a bounded number
of times and within a total deadline per request (:class:`RetryPolicy`, the entry's
``timeout_s``), so the behaviour is testable and a dead or trickling server fails in seconds with
a message naming its URL, not after minutes of hidden retries.

What counts as an answer: a 2xx JSON chat completion whose first choice has string content.
Anything else is an error: HTTP 401 / 403 / 404 or a body that is not a chat completion (an HTML
page) make the endpoint unusable (:class:`LLMUnavailableError`: no request will pass); another
4xx, or a 200 without choices or with ``content: null``, rejects that one request
(:class:`LLMRefusedError`). An answer longer than ``max_tokens`` allows
(:func:`max_answer_chars`: 32 characters a token) makes the endpoint unusable too: it ignores
``max_tokens``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from percontrast.llm.credentials import USERINFO, redact_http_logs, redact_url
from percontrast.llm.errors import (
    LLMError,
    LLMRefusedError,
    LLMRequestError,
    LLMUnavailableError,
)
from percontrast.llm.sampling import OnDone, OnError, Sampling

log = logging.getLogger(__name__)

OPENAI_BASE_URL = "https://api.openai.com/v1"
_RETRY_STATUS = {408, 409, 429}
# Statuses that say the endpoint or the model, not one request, is wrong: no request will pass.
_UNUSABLE_STATUS = {
    401: "the key was rejected: check the key in the variable named by api_key_env",
    403: "the key may not use this model or endpoint",
    404: "no such model or route: check model and base_url (it usually ends in /v1)",
}
#: The longest answer accepted per token asked for (``max_tokens``), in characters: far above
#: any tokenizer's average (about 4 for English, 1-2 for CJK; runs of spaces or dashes reach
#: 16-32), so only a server that ignores ``max_tokens`` (or a hostile one) exceeds it.
MAX_CHARS_PER_TOKEN = 32
_ANSWER_SLACK_CHARS = 1024


class _BadAnswer(Exception):
    """A 2xx response that holds no answer; ``kind`` as in :meth:`OpenAIBackend._classify`."""

    def __init__(self, kind: str, status: int, message: str):
        super().__init__(message)
        self.kind, self.status = kind, status


class _Cancelled(Exception):
    """Another request of the same call failed; this one stops early."""


@dataclass(frozen=True)
class RetryPolicy:
    """Retry and timeout settings of the openai backend.

    A request is tried at most ``1 + max_retries`` times; retry ``k`` waits
    ``min(max_delay, base_delay * 2**(k-1))`` scaled by a random factor in [0.5, 1] (jitter, so
    parallel workers do not retry in lockstep), or the server's ``Retry-After`` when it sends one
    (capped at ``max_delay``).

    ``total_s`` is the total deadline of one request, every attempt and wait included: an
    attempt is cancelled when it runs out (however the server trickles its bytes) and no retry
    starts that would wait past it. An llm entry's ``timeout_s`` sets it. The default, 180 s, is
    well above a judge or simulator answer of a few hundred tokens from a slow server (about a
    minute at 5 tokens/s) and well below what a hung job costs. ``request_timeout_s`` and
    ``connect_timeout_s`` are httpx's per-read and connect timeouts, which fail a silent server
    (or a dead host) sooner.
    """

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    total_s: float = 180.0
    request_timeout_s: float = 120.0
    connect_timeout_s: float = 5.0

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_delay)
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * rng.uniform(0.5, 1.0)


def max_answer_chars(max_tokens: int) -> int:
    """The longest answer accepted for a request of ``max_tokens`` (:data:`MAX_CHARS_PER_TOKEN`
    characters a token, plus a little slack)."""
    return int(max_tokens) * MAX_CHARS_PER_TOKEN + _ANSWER_SLACK_CHARS


def _run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run``; from inside a running loop (a notebook) in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class OpenAIBackend:
    """OpenAI-compatible chat completions over HTTP: the async client, our retries, a deadline.

    Why async: httpx's timeouts bound each read, not a request, so a server that trickles one
    byte a second never times out. Cancelling the awaited request (``asyncio.wait_for``) is
    the total deadline httpx recommends; it closes the connection mid-read, headers or body.
    """

    kind = "openai"

    def __init__(self, name: str, spec: dict[str, Any], retry: RetryPolicy):
        self.name = name
        self.model = spec["model"]
        self._url = spec.get("base_url") or OPENAI_BASE_URL
        self.base_url = redact_url(self._url)
        self.api_key_env = spec.get("api_key_env")
        self.concurrency = int(spec.get("concurrency") or 4)
        self.retry = retry
        self._secret: str | None = None
        self._rng = random.Random()

    def key_fields(self) -> dict[str, Any]:
        return {"backend": self.kind, "model": self.model, "base_url": self.base_url}

    def unavailable_reason(self) -> str | None:
        """Why no request can be sent (missing configuration), or None."""
        if self.api_key_env:
            if not os.environ.get(self.api_key_env):
                return (f"set {self.api_key_env} (the environment variable named by its "
                        f"api_key_env) to the API key for {self.base_url}")
        elif self._url == OPENAI_BASE_URL:
            return ("no base_url is set, so it calls the OpenAI API, but no api_key_env: "
                    "set api_key_env: OPENAI_API_KEY and export OPENAI_API_KEY, or set base_url to "
                    "an OpenAI-compatible server (vLLM, llama.cpp server, Ollama)")
        try:
            import openai  # noqa: F401
        except ImportError:
            return "the 'openai' package is not installed: pip install 'openai>=1.40'"
        return None

    def _make_client(self):
        """A client for one call (it lives in that call's event loop)."""
        import openai

        # Local servers need no key, but the client insists on one; never fall back to
        # OPENAI_API_KEY from the environment, which would send it to a foreign server.
        self._secret = os.environ.get(self.api_key_env) if self.api_key_env else None
        timeout = openai.Timeout(self.retry.request_timeout_s, connect=self.retry.connect_timeout_s)
        client = openai.AsyncOpenAI(api_key=self._secret or "no-key", base_url=self._url,
                                    max_retries=0, timeout=timeout)
        redact_http_logs()  # after the client: its HTTP stack's loggers exist now
        return client

    def _scrub(self, text: str) -> str:
        if self._secret and self._secret in text:
            text = text.replace(self._secret, "***")
        return USERINFO.sub("", text)

    def _classify(self, err: Exception) -> tuple[str, bool, str, float | None, int | None]:
        """(kind, retryable, description, Retry-After seconds, HTTP status) of an exception.

        kind: "unreachable" (connection failed, read timed out), "deadline" (the request's total
        deadline passed), "unusable" (the endpoint refuses every request: HTTP 401 / 403 / 404, a
        body that is not a chat completion), "refused" (it rejected this request: other 4xx, a
        200 without an answer), "status" (5xx / 408 / 409 / 429) or "other".
        """
        import openai

        if isinstance(err, _BadAnswer):
            return err.kind, False, str(err), None, err.status
        if isinstance(err, asyncio.TimeoutError):  # wait_for: our deadline (TimeoutError, 3.11+)
            return ("deadline", False, f"no complete answer within the request deadline of "
                    f"{self.retry.total_s:g} s (the llm entry's timeout_s)", None, None)
        if isinstance(err, openai.APITimeoutError):
            return "unreachable", True, "request timed out", None, None
        if isinstance(err, openai.APIConnectionError):
            cause = err.__cause__ or err
            why = f"connection failed ({type(cause).__name__}: {cause})"
            return "unreachable", True, why, None, None
        if isinstance(err, openai.APIStatusError):
            status = err.status_code
            retry_after = None
            try:
                value = err.response.headers.get("retry-after")
                retry_after = float(value) if value is not None else None
            except (TypeError, ValueError, AttributeError):
                pass
            body = " ".join(str(getattr(err, "message", "") or err).split())[:300]
            why = f"HTTP {status} ({body})"
            if status in _UNUSABLE_STATUS:
                return "unusable", False, f"{why}; {_UNUSABLE_STATUS[status]}", None, status
            if status in _RETRY_STATUS or status >= 500:
                return "status", True, why, retry_after, status
            return "refused", False, why, None, status
        return "other", False, f"{type(err).__name__}: {err}", None, None

    def _read(self, raw, max_tokens: int) -> tuple[str, dict[str, Any]]:
        """The answer in a 2xx response, or :class:`_BadAnswer` saying what is wrong with it.
        An answer longer than ``max_tokens`` allows (:func:`max_answer_chars`) is one: the
        server ignores ``max_tokens``, and the answer would be kept (and cached) whole."""
        http = raw.http_response  # the httpx response, in every openai version since 1.0
        ctype = http.headers.get("content-type", "")
        status = http.status_code
        limit = max_answer_chars(max_tokens)

        def too_long(size: str) -> _BadAnswer:
            return _BadAnswer("unusable", status, (
                f"HTTP {status} with {size}, more than a request of max_tokens={max_tokens} "
                f"can be answered with (at most {limit} characters, {MAX_CHARS_PER_TOKEN} a "
                "token); the server ignores max_tokens: fix the server, or raise the llm "
                "entry's max_new_tokens if such long answers are expected"))

        # JSON may spell a character in up to 12 bytes (a \uXXXX surrogate pair): a body past
        # that is refused before it is parsed
        if len(http.content) > 12 * limit + 65536:
            raise too_long(f"a body of {len(http.content)} bytes")
        try:
            data = json.loads(http.content) if "json" in ctype.lower() else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            snippet = " ".join(http.content[:120].decode("utf-8", "replace").split())
            raise _BadAnswer("unusable", status, f"HTTP {status} with a {ctype or 'untyped'} "
                             f"body, not a chat completion ({snippet!r}); base_url must be the "
                             "root of an OpenAI-compatible API (usually ending in /v1)")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise _BadAnswer("refused", status, f"HTTP {status} without choices "
                             f"({json.dumps(data)[:200]})")
        choice = choices[0]
        message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
        text = message.get("content")
        if not isinstance(text, str):
            raise _BadAnswer("refused", status, f"HTTP {status} with message content "
                             f"{json.dumps(text)[:60]} (finish_reason "
                             f"{choice.get('finish_reason')!r}), not an answer")
        if len(text) > limit:
            raise too_long(f"an answer of {len(text)} characters")
        meta = {"finish_reason": choice.get("finish_reason"), "served_model": data.get("model")}
        usage = data.get("usage")
        if isinstance(usage, dict):
            meta["usage"] = {k: usage.get(k) for k in ("prompt_tokens", "completion_tokens")}
        return text, meta

    async def _complete(self, client, messages: list[dict[str, str]], sampling: Sampling,
                        stop: asyncio.Event, settle: bool) -> tuple[str, dict[str, Any]]:
        kwargs: dict[str, Any] = dict(model=self.model, messages=messages,
                                      temperature=sampling.temperature,
                                      max_tokens=sampling.max_new_tokens, seed=sampling.seed)
        if sampling.top_p < 1.0:
            kwargs["top_p"] = sampling.top_p
        start = time.monotonic()
        attempt = 0
        while True:
            if stop.is_set():
                raise _Cancelled
            left = self.retry.total_s - (time.monotonic() - start)
            try:
                raw = await asyncio.wait_for(
                    client.chat.completions.with_raw_response.create(**kwargs),
                    timeout=max(left, 0.001))
                text, meta = self._read(raw, sampling.max_new_tokens)
            except Exception as err:  # classified below; anything unknown is not retried
                kind, retryable, why, retry_after, status = self._classify(err)
                why = self._scrub(why)
                attempt += 1
                elapsed = time.monotonic() - start
                delay = self.retry.delay(attempt, self._rng, retry_after)
                if not retryable or attempt > self.retry.max_retries \
                        or elapsed + delay > self.retry.total_s:
                    raise self._error(kind, why, status, attempt, elapsed, stop, settle) \
                        from None
                log.warning("llm %r: %s from %s; retry %d/%d in %.1f s", self.name, why,
                            self.base_url, attempt, self.retry.max_retries, delay)
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                except asyncio.TimeoutError:
                    continue
                raise _Cancelled from None
            meta.update(attempts=attempt + 1, seconds=round(time.monotonic() - start, 3))
            return text, meta

    def _error(self, kind: str, why: str, status: int | None, attempt: int, elapsed: float,
               stop: asyncio.Event, settle: bool) -> LLMError:
        """The final error of one request; unless it concerns this request alone (and the
        caller settles such errors), it stops the call: no further request starts."""
        tries = f"{attempt} attempt{'s' if attempt > 1 else ''} in {elapsed:.1f} s"
        if kind == "refused":
            err: LLMError = LLMRefusedError(f"{self.base_url} answered {why}, after {tries}",
                                            status=status)
        elif kind == "unreachable":
            err = LLMUnavailableError(f"cannot reach {self.base_url}: {why}, after {tries}; is "
                                      "the server running and is base_url right?")
        elif kind == "deadline":
            err = LLMUnavailableError(f"{self.base_url}: {why}, after {tries}; is the server "
                                      "stalled, or does it need a larger timeout_s?")
        elif kind == "unusable":
            err = LLMUnavailableError(f"{self.base_url} is not usable: {why}, after {tries}",
                                      status=status)
        else:
            err = LLMRequestError(f"{self.base_url} answered {why}, after {tries}", status=status)
        if not (settle and isinstance(err, LLMRefusedError)):
            stop.set()  # before the worker slot is released: the next request must not start
        return err

    def complete_many(self, items: list[list[dict[str, str]]], sampling: Sampling,
                      on_done: OnDone, on_error: OnError | None = None) -> None:
        """Run ``items`` with ``concurrency`` requests in flight. A request the endpoint
        rejected alone (:class:`LLMRefusedError`) goes to ``on_error`` when one is given; any
        other failure cancels what has not started, waits for what is running (its answers are
        still delivered) and is raised."""
        _run_async(self._complete_all(items, sampling, on_done, on_error))

    async def _complete_all(self, items, sampling, on_done, on_error) -> None:
        client = self._make_client()
        stop = asyncio.Event()
        slots = asyncio.Semaphore(self.concurrency)
        errors: list[LLMError] = []

        async def one(j: int, messages: list[dict[str, str]]) -> None:
            async with slots:
                if stop.is_set():
                    return
                try:
                    text, meta = await self._complete(client, messages, sampling, stop,
                                                      on_error is not None)
                except _Cancelled:
                    return
                except LLMRefusedError as err:
                    if on_error is None:
                        errors.append(err)
                    else:
                        on_error(j, err)
                    return
                except LLMError as err:
                    errors.append(err)
                    return
                on_done(j, text, meta)

        try:
            await asyncio.gather(*(one(j, m) for j, m in enumerate(items)))
        finally:
            stop.set()
            await client.close()
        if errors:
            raise errors[0]
