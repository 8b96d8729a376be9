"""Credentials: what an llm entry's ``api_key_env`` and ``base_url`` may hold, and redaction.

A config never holds a key: ``api_key_env`` names the environment variable that holds it, and
``base_url`` may hold no query string or fragment (:func:`api_key_env_problem`,
:func:`base_url_problem`, checked by :func:`percontrast.config.validate_schema` through
:func:`llm_config_problem` before any job is planned, and by :func:`percontrast.llm.make_llm`).
A refusal never shows the value, which is most likely a key; :func:`scrub_config_message` masks
such values in the schema's own messages, :func:`redact_url` drops credentials from a URL, and
:func:`redact_http_logs` drops them from the HTTP stack's log records.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

USERINFO = re.compile(r"(?<=://)[^/\s@]+@")
#: What ``api_key_env`` may hold: a variable's name, never the key (the schema's pattern too).
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ENV_NAME_RULE = ("the name of the environment variable that holds the key (letters, digits "
                  "and _, not starting with a digit, at most 64 characters), never the key "
                  "itself")


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
        return USERINFO.sub("", url)
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


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
                out += [m.group(0)[:-1] for m in USERINFO.finditer(head)]
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
            redacted = USERINFO.sub("", message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


_REDACT = _RedactUserinfo()


def redact_http_logs() -> None:
    """Put the redacting filter on the HTTP stack's loggers (a logger's filters see only the
    records logged on it, so every existing child logger gets it too). Idempotent."""
    names = set(_HTTP_LOGGERS) | {n for n in logging.root.manager.loggerDict
                                  if n.split(".")[0] in _HTTP_LOGGERS}
    for name in names:
        logger = logging.getLogger(name)
        if _REDACT not in logger.filters:
            logger.addFilter(_REDACT)
