"""The response cache: one JSON file per request, named by the sha256 of the canonical request.

Why: judge and simulator calls are the slow and paid part of a rerun, and Snakemake reruns a rule
whenever anything upstream changes. Every answer is stored under ``cache_dir/ab/abcdef....json``,
named by the sha256 of a canonical JSON of (backend, model, base_url, model revision, messages,
sampling parameters), and written atomically as soon as it arrives: concurrent jobs can share a
cache, a killed run keeps every answer it got, and a rerun pays only for requests it has not
seen. A request never holds a key (see :mod:`percontrast.llm.credentials`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from percontrast.io import DataError, read_json, write_json

log = logging.getLogger(__name__)

CACHE_FORMAT = 1


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def request_key(request: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of a request (which never contains a key)."""
    return hashlib.sha256(canonical_json(request).encode("utf-8")).hexdigest()


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
