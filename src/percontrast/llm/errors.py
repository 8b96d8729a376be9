"""The errors an LLM call raises: unusable endpoint, one refused request, a bad config entry."""

from __future__ import annotations


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

