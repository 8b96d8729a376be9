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

import ipaddress
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


#: Variables every shell or scheduler sets that hold no API key (paths, locale, session and job
#: settings). ``api_key_env``'s variable goes out as the bearer token to ``base_url``, so naming
#: one of these would send, say, the home folder or ``$PATH`` to that server: a mistake at best,
#: and a shared config that reads a machine's state at worst.
_NOT_SECRET = frozenset((
    "HOME", "PATH", "USER", "USERNAME", "LOGNAME", "SHELL", "PWD", "OLDPWD", "LANG", "LANGUAGE",
    "TERM", "COLORTERM", "TMPDIR", "TMP", "TEMP", "HOSTNAME", "HOST", "DISPLAY", "EDITOR",
    "VISUAL", "PAGER", "MAIL", "TZ", "SHLVL", "PS1", "_", "PYTHONPATH", "PYTHONHOME",
    "LD_LIBRARY_PATH", "LD_PRELOAD", "MANPATH", "VIRTUAL_ENV", "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV", "CUDA_HOME", "CUDA_VISIBLE_DEVICES", "HF_HOME", "OMP_NUM_THREADS"))
_NOT_SECRET_PREFIXES = ("LC_", "XDG_", "SSH_", "SLURM_")
#: Cloud credentials that sign requests or name a credentials file, and are never an
#: OpenAI-compatible endpoint's bearer token: naming one would hand it to whatever server
#: ``base_url`` points at. (An endpoint's own key variable, such as AWS_BEARER_TOKEN_BEDROCK,
#: HF_TOKEN or GITHUB_TOKEN for their OpenAI-compatible APIs, is accepted.)
_NOT_BEARER = frozenset((
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET", "GOOGLE_APPLICATION_CREDENTIALS"))


def _env_name_problem(value: str) -> str | None:
    """Why ``value`` is no variable name (it may be the key itself), or None."""
    if not _ENV_NAME.fullmatch(value):
        return (f"must be {_ENV_NAME_RULE}; the value given is not shown, as it may be the "
                "key: export the key in a variable and write that variable's name here")
    if _looks_like_a_key(value):
        return (f"looks like an API key, not a variable name (it must be {_ENV_NAME_RULE}); "
                "the value given is not shown: export the key in a variable and write that "
                "variable's name here")
    return None


def _not_a_key_problem(value: str) -> str | None:
    """Why the variable named ``value`` cannot hold an API key, or None (the name is shown: it
    is a well-known variable, not a key)."""
    name = value.upper()
    if name in _NOT_BEARER:
        what = "a cloud credential that signs requests, never a bearer token"
    elif name in _NOT_SECRET or name.startswith(_NOT_SECRET_PREFIXES):
        what = "a variable of the shell or the system, not an API key"
    else:
        return None
    return (f"names {value}, {what}: the variable named here is sent as the bearer token to "
            "base_url, so its value would go to that server; name the variable that holds "
            "this endpoint's key (such as OPENAI_API_KEY)")


def api_key_env_problem(value: Any) -> str | None:
    """Why ``value`` cannot be an llm entry's ``api_key_env``, or None. The message never
    contains the value unless it is a well-known variable that holds no API key: a value that
    is no variable name is most likely the key itself."""
    if value is None:
        return None
    if not isinstance(value, str):
        return _env_name_problem("")
    return _env_name_problem(value) or _not_a_key_problem(value)


#: Schemes named when a ``base_url`` uses one (any other is "not shown": it may be a key).
_KNOWN_SCHEMES = ("file", "ftp", "ftps", "sftp", "ssh", "ws", "wss", "unix", "git", "data",
                  "s3", "gs", "hdfs", "tcp", "grpc")


def is_loopback(host: str | None) -> bool:
    """``host`` (a URL's hostname) is this machine: ``localhost``, 127.0.0.0/8 or ::1."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url_problem(value: Any, *, allow_http: bool = False) -> str | None:
    """Why ``value`` cannot be an llm entry's ``base_url``, or None.

    A query string or fragment is refused (the client would also append ``chat/completions``
    after it) and never shown: it is where a key would be (``?api_key=...``). The URL must be
    http(s) with a host, and https unless the host is this machine (loopback) or the entry
    sets ``allow_http: true``: the key and every prompt go out in it. A refused URL is never
    shown whole."""
    if not isinstance(value, str) or not value:
        return None
    if "?" in value or "#" in value:
        return (f"must not hold a query string or fragment ({redact_url(value)}?..., not "
                "shown: it may hold a credential); give the key through api_key_env (the "
                "name of the environment variable that holds it)")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises on a malformed port or netloc)
    except ValueError:
        return "is not a valid URL (its host or port is malformed); it is not shown"
    scheme = parts.scheme.lower() if "://" in value else ""
    if scheme not in ("http", "https"):
        what = (f"its scheme is {scheme!r}" if scheme in _KNOWN_SCHEMES else
                "it has an unsupported scheme" if scheme else "it has no http:// or https://")
        return (f"must be the http(s) URL of an OpenAI-compatible API, such as "
                f"https://host/v1 or http://127.0.0.1:8000/v1, but {what} (the value is not "
                "shown: it may hold a credential)")
    if not parts.hostname:
        return (f"has no host: it must look like {scheme}://host/v1 (the value is not shown: "
                "it may hold a credential)")
    if scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        return (f"is plain http:// to {parts.hostname}, which is not this machine: the key "
                "and every prompt would cross the network unencrypted. Use https://, or set "
                "allow_http: true in this llm entry if that network is trusted (a cluster "
                "node serving vLLM, say)")
    return None


def _secret_values(tree: Any) -> list[str]:
    """Strings under ``tree`` (a config's ``llm`` section, however malformed) that may be
    credentials: bad ``api_key_env`` values, and the userinfo, query and fragment of a
    ``base_url``."""
    out: list[str] = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == "api_key_env" and isinstance(value, str) and _env_name_problem(value):
                out.append(value)
            elif key == "base_url" and isinstance(value, str):
                cut = re.search(r"[?#]", value)
                head = value[:cut.start()] if cut else value
                if cut:  # "?api_key=..." and "api_key=...", whichever a message quotes
                    out += [value[cut.start():], value[cut.start() + 1:]]
                out += [m.group(0)[:-1] for m in USERINFO.finditer(head)]
                netloc = head.split("/")[0]
                if "://" not in head and "@" in netloc:  # "user:pw@host/v1", no scheme
                    out.append(netloc.rsplit("@", 1)[0])
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
        for key in path[:-1]:
            entry = entry[key] if isinstance(entry, (dict, list)) else None
        spec = entry if isinstance(entry, dict) else {}
        if path[-1] == "api_key_env":
            problem = api_key_env_problem(spec.get("api_key_env"))
        else:
            problem = base_url_problem(spec.get("base_url"),
                                       allow_http=spec.get("allow_http") is True)
        if problem is None and path[-1] == "api_key_env":
            problem = f"must be {_ENV_NAME_RULE} (the value given is not shown)"
        if problem is not None:
            return problem
    llm = cfg.get("llm") if isinstance(cfg, dict) else None
    for secret in sorted(_secret_values(llm), key=len, reverse=True):
        for form in (secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]):
            message = message.replace(form, "***")
    return message


def entry_problem(spec: dict[str, Any]) -> tuple[str, str] | None:
    """``(key, why)`` for the first credential problem of one llm entry, or None."""
    problem = api_key_env_problem(spec.get("api_key_env"))
    if problem is not None:
        return "api_key_env", problem
    problem = base_url_problem(spec.get("base_url"), allow_http=spec.get("allow_http") is True)
    return None if problem is None else ("base_url", problem)


def llm_config_problem(cfg: dict[str, Any]) -> str | None:
    """The first credential problem of a (schema-valid) config's ``llm`` section, as
    ``"llm.<entry>.<key>: ..."``, or None: a key written where its variable's name belongs, or
    a variable that holds no key; a ``base_url`` with a query string or fragment, without
    http(s) or a host, or plain http to another machine without ``allow_http: true``. Run
    before planning, so such a value never reaches a job's params, logs or Snakemake's
    metadata."""
    llm = cfg.get("llm") if isinstance(cfg, dict) else None
    for name, spec in (llm.items() if isinstance(llm, dict) else ()):
        if not isinstance(spec, dict):
            continue
        problem = entry_problem(spec)
        if problem is not None:
            return f"llm.{name}.{problem[0]}: {problem[1]}"
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
