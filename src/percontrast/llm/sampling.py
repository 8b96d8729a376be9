"""What one chat call asks for: its messages, its sampling parameters and per-request seeds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from percontrast.llm.cache import request_key
from percontrast.llm.errors import LLMRefusedError

Messages = Sequence[dict[str, str]]
#: ``on_done(j, text, meta)``: a backend delivers the answer to the call's ``j``-th request.
OnDone = Callable[[int, str, dict[str, Any]], None]
#: ``on_error(j, err)``: the endpoint rejected the call's ``j``-th request alone.
OnError = Callable[[int, LLMRefusedError], None]


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


def request_seed(seed: int, messages: Messages) -> int:
    """One request's sampling seed from (call seed, its messages): requests sent together draw
    independent noise, and a request's answer does not depend on what it was batched with."""
    return int(request_key({"seed": seed, "messages": messages})[:8], 16)


def check_messages(messages: Messages) -> list[dict[str, str]]:
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
