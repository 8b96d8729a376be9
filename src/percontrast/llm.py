"""One chat interface for every generator, simulated user and judge, with a response cache.

The pipeline asks LLMs for synthetic persona-QA data, for the simulated ALOE user, and for judge
scores. Each such role is a named entry of the config's ``llm`` section::

    llm:
      judge: {backend: openai, model: gpt-4o-mini, api_key_env: OPENAI_API_KEY}
      vllm:  {backend: openai, model: Qwen/Qwen3-14B, base_url: "http://node7:8000/v1"}
      local: {backend: transformers, model: smollm2-135m, max_new_tokens: 128}

and :func:`make_llm` turns an entry into a :class:`ChatLLM` whose ``chat(messages)`` /
``chat_many([messages, ...])`` return strings. Two backends:

``openai``        the ``openai`` package's client against any OpenAI-compatible endpoint: OpenAI
                  itself (``base_url`` unset), vLLM, the llama.cpp server, Ollama. The key is read
                  from the environment variable *named* by ``api_key_env``; a config never holds a
                  key, and neither does anything this module writes or logs.
``transformers``  in-process: ``model`` is a model-registry name, loaded from
                  ``{models_dir}/{name}`` (made by the ``prepare_model`` rule) and sampled with
                  :func:`percontrast.generation.generate`. The default pipeline uses this one, so
                  it runs offline.

Why the cache: judge and simulator calls are the slow and paid part of a rerun, and Snakemake
reruns a rule whenever anything upstream changes. Every answer is stored under
``cache_dir/ab/abcdef....json``, one small JSON file per request, named by the sha256 of a
canonical JSON of (backend, model, base_url, model revision, messages, sampling parameters),
and written atomically as soon as it arrives. Concurrent jobs can share a cache, a killed run keeps
every answer it got, and a rerun pays only for requests it has not seen. Sampled requests
(temperature > 0) are cached too, keyed with their seed, so a rerun reproduces them exactly; for
greedy requests the seed is left out of the key. Identical requests inside one call are sent once:
ask with different seeds to get several samples of one prompt.

Why our own retries: the client is built with ``max_retries=0`` and this module retries 408 / 409
/ 429 / 5xx, timeouts and connection errors with exponential backoff and jitter, a bounded number
of times and within a total deadline per request (:class:`RetryPolicy`, the entry's ``timeout_s``),
so the behaviour is testable and a dead or trickling server fails in seconds with a message naming
its URL, not after minutes of hidden retries.

What counts as an answer: a 2xx JSON chat completion whose first choice has string content.
Anything else is an error and is never cached: HTTP 401 / 403 / 404 or a body that is not a chat
completion (an HTML page) make the endpoint unusable (:class:`LLMUnavailableError`: no request
will pass); another 4xx, or a 200 without choices or with ``content: null``, rejects that one
request (:class:`LLMRefusedError`), which :meth:`ChatLLM.try_chat_many` returns in its place so a
caller can count it. An answer longer than ``max_tokens`` allows (:func:`max_answer_chars`:
32 characters a token) makes the endpoint unusable too: it ignores ``max_tokens``. Errors name
the llm entry, the URL (credentials redacted) and the status; credentials in ``base_url`` are
also redacted from the HTTP stack's log records.

What a config may hold: ``api_key_env`` must look like a variable's name and ``base_url`` may
hold no query string or fragment (:func:`api_key_env_problem`, :func:`base_url_problem`,
checked by :func:`percontrast.config.validate_schema` before any job is planned, and by
:func:`make_llm`); the refusal never shows the value, which is most likely a key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from percontrast import layout
from percontrast.io import DataError, read_json, write_json

log = logging.getLogger(__name__)

OPENAI_BASE_URL = "https://api.openai.com/v1"
CACHE_FORMAT = 1
BACKENDS = ("transformers", "openai")
_RETRY_STATUS = {408, 409, 429}
# Statuses that say the endpoint or the model, not one request, is wrong: no request will pass.
_UNUSABLE_STATUS = {
    401: "the key was rejected: check the key in the variable named by api_key_env",
    403: "the key may not use this model or endpoint",
    404: "no such model or route: check model and base_url (it usually ends in /v1)",
}
_USERINFO = re.compile(r"(?<=://)[^/\s@]+@")
#: What ``api_key_env`` may hold: a variable's name, never the key (the schema's pattern too).
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ENV_NAME_RULE = ("the name of the environment variable that holds the key (letters, digits "
                  "and _, not starting with a digit, at most 64 characters), never the key "
                  "itself")
#: The longest answer accepted per token asked for (``max_tokens``), in characters: far above
#: any tokenizer's average (about 4 for English, 1-2 for CJK; runs of spaces or dashes reach
#: 16-32), so only a server that ignores ``max_tokens`` (or a hostile one) exceeds it.
MAX_CHARS_PER_TOKEN = 32
_ANSWER_SLACK_CHARS = 1024

Messages = Sequence[dict[str, str]]


class LLMError(RuntimeError):
    """An LLM request could not be served; ``status`` is the HTTP status, when there was one."""

    def __init__(self, message: str = "", *, status: int | None = None):
        super().__init__(message)
        self.status = status


class LLMUnavailableError(LLMError):
    """The endpoint or model is not usable: not configured, no key, unreachable, not prepared."""


class LLMConfigError(LLMUnavailableError, ValueError):
    """An llm entry that must not be used as written (a key where its variable's name belongs,
    a query string in ``base_url``); the message never shows the offending value."""


class LLMRequestError(LLMError):
    """The endpoint answered with an error that retrying did not (or cannot) fix."""


class LLMRefusedError(LLMRequestError):
    """The endpoint rejected this one request (HTTP 400 / 413 / 422 ..., a content filter, a 200
    without an answer) while others may pass: a caller that settles per request (``settle``)
    records it for that request instead of losing the whole call. Never cached."""


class _BadAnswer(Exception):
    """A 2xx response that holds no answer; ``kind`` as in :meth:`_OpenAIBackend._classify`."""

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


@dataclass(frozen=True)
class Sampling:
    """Sampling parameters of one call; part of every cache key."""

    temperature: float
    max_new_tokens: int
    seed: int = 0
    top_p: float = 1.0

    def __post_init__(self):
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")

    def key(self) -> dict[str, Any]:
        d = {"temperature": float(self.temperature), "max_new_tokens": int(self.max_new_tokens),
             "top_p": float(self.top_p)}
        if self.temperature > 0:  # greedy answers do not depend on the seed
            d["seed"] = int(self.seed)
        return d


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def request_key(request: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of a request (which never contains a key)."""
    return hashlib.sha256(canonical_json(request).encode("utf-8")).hexdigest()


def request_seed(seed: int, messages: Messages) -> int:
    """One request's sampling seed from (call seed, its messages): requests sent together draw
    independent noise, and a request's answer does not depend on what it was batched with."""
    return int(request_key({"seed": seed, "messages": messages})[:8], 16)


def redact_url(url: str | None) -> str | None:
    """``url`` without ``user:password@``, query string or fragment, for keys, logs and
    messages (a ``base_url`` holding a query or fragment is refused anyway: see
    :func:`base_url_problem`)."""
    if not url:
        return url
    url = re.split(r"[?#]", url, maxsplit=1)[0]
    try:
        parts = urlsplit(url)
        if parts.username is None and parts.password is None:
            return url
        host = parts.hostname or ""
        if parts.port is not None:
            host += f":{parts.port}"
    except ValueError:  # a malformed netloc (bad port, bracket): drop the userinfo by pattern
        return _USERINFO.sub("", url)
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def max_answer_chars(max_tokens: int) -> int:
    """The longest answer accepted for a request of ``max_tokens`` (:data:`MAX_CHARS_PER_TOKEN`
    characters a token, plus a little slack)."""
    return int(max_tokens) * MAX_CHARS_PER_TOKEN + _ANSWER_SLACK_CHARS


def _looks_like_a_key(value: str) -> bool:
    """A long mix of lower case, upper case and digits (``gsk_aB3d...``, ``hf_Xy9...``): a key's
    shape. Variable names are short words, conventionally upper case (``OPENAI_API_KEY``)."""
    return (len(value) >= 24 and any(c.islower() for c in value)
            and any(c.isupper() for c in value) and any(c.isdigit() for c in value))


def api_key_env_problem(value: Any) -> str | None:
    """Why ``value`` cannot be an llm entry's ``api_key_env``, or None. The message never
    contains the value: a value that is no variable name is most likely the key itself."""
    if value is None:
        return None
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        return (f"must be {_ENV_NAME_RULE}; the value given is not shown, as it may be the "
                "key: export the key in a variable and write that variable's name here")
    if _looks_like_a_key(value):
        return (f"looks like an API key, not a variable name (it must be {_ENV_NAME_RULE}); "
                "the value given is not shown: export the key in a variable and write that "
                "variable's name here")
    return None


def base_url_problem(value: Any) -> str | None:
    """Why ``value`` cannot be an llm entry's ``base_url``, or None. A query string or fragment
    is refused (the client would also append ``chat/completions`` after it) and never shown:
    it is where a key would be (``?api_key=...``)."""
    if not isinstance(value, str) or not value:
        return None
    if "?" in value or "#" in value:
        return (f"must not hold a query string or fragment ({redact_url(value)}?..., not "
                "shown: it may hold a credential); give the key through api_key_env (the "
                "name of the environment variable that holds it)")
    try:
        urlsplit(value).port  # noqa: B018 (raises on a malformed port or netloc)
    except ValueError:
        return "is not a valid URL (its host or port is malformed); it is not shown"
    return None


def _secret_values(tree: Any) -> list[str]:
    """Strings under ``tree`` (a config's ``llm`` section, however malformed) that may be
    credentials: bad ``api_key_env`` values, and the userinfo, query and fragment of a
    ``base_url``."""
    out: list[str] = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == "api_key_env" and isinstance(value, str) and api_key_env_problem(value):
                out.append(value)
            elif key == "base_url" and isinstance(value, str):
                cut = re.search(r"[?#]", value)
                head = value[:cut.start()] if cut else value
                if cut:  # "?api_key=..." and "api_key=...", whichever a message quotes
                    out += [value[cut.start():], value[cut.start() + 1:]]
                out += [m.group(0)[:-1] for m in _USERINFO.finditer(head)]
            else:
                out += _secret_values(value)
    elif isinstance(tree, (list, tuple)):
        for value in tree:
            out += _secret_values(value)
    return [v for v in out if v]


def scrub_config_message(cfg: dict[str, Any], path: Sequence[Any], message: str) -> str:
    """A config validation ``message`` about the key at ``path`` (a list of keys) that shows no
    credential: an error on ``api_key_env`` / ``base_url`` says what the key must be, and any
    other message has the ``llm`` section's possible credentials masked (validators quote the
    value they reject, and may quote a whole entry)."""
    path = list(path)
    if path and path[-1] in ("api_key_env", "base_url") and path[0] == "llm":
        entry: Any = cfg
        for key in path:
            entry = entry[key] if isinstance(entry, (dict, list)) else None
        check = api_key_env_problem if path[-1] == "api_key_env" else base_url_problem
        problem = check(entry)
        if problem is None and path[-1] == "api_key_env":
            problem = f"must be {_ENV_NAME_RULE} (the value given is not shown)"
        if problem is not None:
            return problem
    llm = cfg.get("llm") if isinstance(cfg, dict) else None
    for secret in sorted(_secret_values(llm), key=len, reverse=True):
        for form in (secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]):
            message = message.replace(form, "***")
    return message


def llm_config_problem(cfg: dict[str, Any]) -> str | None:
    """The first credential problem of a (schema-valid) config's ``llm`` section, as
    ``"llm.<entry>.<key>: ..."``, or None: a key written where its variable's name belongs, a
    query string or fragment in ``base_url``. Run before planning, so such a value never
    reaches a job's params, logs or Snakemake's metadata."""
    llm = cfg.get("llm") if isinstance(cfg, dict) else None
    for name, spec in (llm.items() if isinstance(llm, dict) else ()):
        if not isinstance(spec, dict):
            continue
        for key, check in (("api_key_env", api_key_env_problem),
                           ("base_url", base_url_problem)):
            problem = check(spec.get(key))
            if problem is not None:
                return f"llm.{name}.{key}: {problem}"
    return None


def _check_messages(messages: Messages) -> list[dict[str, str]]:
    if not messages:
        raise ValueError("a chat request needs at least one message")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) \
                or not isinstance(m.get("content"), str):
            raise ValueError(f"message {i} must be a dict with string 'role' and 'content', "
                             f"got {m!r:.200}")
        out.append(dict(m))
    return out


class ResponseCache:
    """``root/ab/abcd....json`` per request: the request (for audit), the answer, metadata."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        path = self.path(key)
        try:
            entry = read_json(path)
        except FileNotFoundError:
            return None
        except (DataError, OSError, UnicodeDecodeError) as err:
            log.warning("ignoring unreadable cache entry %s (%s)", path, err)
            return None
        if not isinstance(entry, dict) or entry.get("key") != key \
                or not isinstance(entry.get("response"), str):
            log.warning("ignoring malformed cache entry %s", path)
            return None
        return entry["response"]

    def put(self, key: str, request: dict[str, Any], response: str,
            meta: dict[str, Any] | None = None) -> None:
        write_json(self.path(key), {"format": CACHE_FORMAT, "key": key, "request": request,
                                    "response": response, "meta": meta or {},
                                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


# --------------------------------------------------------------------------------- backends

OnDone = Callable[[int, str, dict[str, Any]], None]
OnError = Callable[[int, "LLMRefusedError"], None]
_HTTP_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2", "openai")


class _RedactUserinfo(logging.Filter):
    """Drops ``user:password@`` from URLs in a record: httpx logs every request's full URL at
    INFO ("HTTP Request: POST http://user:pw@host/v1/...") and the SDK logs it at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error report
            return True
        if "@" in message:
            redacted = _USERINFO.sub("", message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


_REDACT = _RedactUserinfo()


def _redact_http_logs() -> None:
    """Put the redacting filter on the HTTP stack's loggers (a logger's filters see only the
    records logged on it, so every existing child logger gets it too). Idempotent."""
    names = set(_HTTP_LOGGERS) | {n for n in logging.root.manager.loggerDict
                                  if n.split(".")[0] in _HTTP_LOGGERS}
    for name in names:
        logger = logging.getLogger(name)
        if _REDACT not in logger.filters:
            logger.addFilter(_REDACT)


def _run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run``; from inside a running loop (a notebook) in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class _OpenAIBackend:
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
        _redact_http_logs()  # after the client: its HTTP stack's loggers exist now
        return client

    def _scrub(self, text: str) -> str:
        if self._secret and self._secret in text:
            text = text.replace(self._secret, "***")
        return _USERINFO.sub("", text)

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


class _TransformersBackend:
    """A prepared registry model, loaded once on first use, sampled in batches."""

    kind = "transformers"

    def __init__(self, name: str, spec: dict[str, Any], models_dir: str | os.PathLike,
                 device: str | None, batch_size: int):
        self.name = name
        self.model = spec["model"]
        self.base_url = None
        self.model_dir = Path(models_dir) / self.model
        self.device = device
        self.batch_size = batch_size
        self._loaded = None
        self._lock = threading.Lock()

    def _manifest(self) -> dict[str, Any] | None:
        from percontrast.models import MANIFEST

        try:
            return read_json(self.model_dir / MANIFEST)
        except (FileNotFoundError, DataError):
            return None

    def key_fields(self) -> dict[str, Any]:
        # The manifest pins what the folder holds (registry spec, seed, hub commit): re-preparing
        # the model differently must not replay answers of the old one.
        manifest = self._manifest()
        revision = request_key(manifest) if manifest is not None else None
        return {"backend": self.kind, "model": self.model, "base_url": None,
                "model_revision": revision}

    def unavailable_reason(self) -> str | None:
        if self._manifest() is None:
            return (f"model folder {self.model_dir} is not prepared: run the prepare_model rule "
                    f"(snakemake {self.model_dir}) or check models_dir and the registry name")
        return None

    def complete_many(self, items: list[list[dict[str, str]]], sampling: Sampling,
                      on_done: OnDone, on_error: OnError | None = None) -> None:
        """Generate every item (an in-process model refuses nothing: ``on_error`` is unused)."""
        from percontrast.generation import generate
        from percontrast.models import load_prepared

        with self._lock:  # one model, one generate at a time, whatever the calling threads
            if self._loaded is None:
                model, tokenizer = load_prepared(self.model_dir, device=self.device)
                spec = (self._manifest() or {}).get("spec", {})
                self._loaded = (model.eval(), tokenizer, spec.get("chat_template_kwargs"))
            model, tokenizer, template_kwargs = self._loaded
            generate(model, tokenizer, items, temperature=sampling.temperature,
                     top_p=sampling.top_p, max_new_tokens=sampling.max_new_tokens,
                     batch_size=self.batch_size,
                     seed=[request_seed(sampling.seed, m) for m in items],
                     chat_template_kwargs=template_kwargs,
                     on_result=lambda i, r: on_done(i, r.text, {"n_tokens": r.n_tokens,
                                                                "finished": r.finished}))


# --------------------------------------------------------------------------------- interface

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
        return {"format": CACHE_FORMAT, **fields, "messages": _check_messages(messages),
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
        for key, check in (("api_key_env", api_key_env_problem),
                           ("base_url", base_url_problem)):
            problem = check(spec.get(key))
            if problem is not None:
                raise LLMConfigError(f"llm entry {name!r}: {key} {problem}")
        retry = retry or RetryPolicy()
        if spec.get("timeout_s") is not None:
            timeout_s = float(spec["timeout_s"])
            if timeout_s <= 0:
                raise ValueError(f"llm entry {name!r}: timeout_s must be > 0, got {timeout_s}")
            retry = replace(retry, total_s=timeout_s)
        backend = _OpenAIBackend(name, spec, retry)
    else:
        backend = _TransformersBackend(name, spec, layout.path("models_dir") if models_dir is None
                                       else models_dir, device, batch_size)
    return ChatLLM(name, spec, backend, ResponseCache(cache_dir))


__all__ = ["ChatLLM", "LLMConfigError", "LLMError", "LLMRefusedError", "LLMRequestError",
           "LLMUnavailableError", "ResponseCache", "RetryPolicy", "Sampling",
           "api_key_env_problem", "base_url_problem", "llm_config_problem", "make_llm",
           "max_answer_chars", "redact_url", "request_key", "scrub_config_message"]
