"""Load a dataset from the Hugging Face hub, failing fast and helpfully when the hub is unreachable.

``datasets.load_dataset`` on a machine without network retries for ~25 s per file (and up to a
minute with a blackholed network) before it gives up with a generic ``ConnectionError``. A pipeline
step that has a local copy available should instead be told, at once, which dataset failed and how
to point the loader at that copy. So before calling ``load_dataset`` we make one short, retry-free
probe of the hub; if it fails we call ``load_dataset`` in offline mode, which serves a previously
cached copy if there is one and fails in about a second otherwise. ``HF_HUB_OFFLINE=1`` /
``HF_DATASETS_OFFLINE=1`` skip the probe. Remote code is never run (no ``trust_remote_code``).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)

#: Seconds the reachability probe waits; override with ``PERCONTRAST_HUB_TIMEOUT``.
DEFAULT_PROBE_TIMEOUT = 5.0

_TRUE = {"1", "ON", "YES", "TRUE"}


class HubUnavailableError(RuntimeError):
    """The hub (or the dataset on it) could not be reached; the message says what to do instead."""


def hub_offline_requested() -> bool:
    """True when the environment asks for offline mode (``HF_HUB_OFFLINE`` and friends)."""
    return any(os.environ.get(name, "").strip().upper() in _TRUE
               for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _probe_timeout(timeout: float | None) -> float:
    if timeout is not None:
        return float(timeout)
    try:
        return float(os.environ.get("PERCONTRAST_HUB_TIMEOUT", DEFAULT_PROBE_TIMEOUT))
    except ValueError:
        return DEFAULT_PROBE_TIMEOUT


def _probe_hub(repo_id: str, timeout: float) -> Exception | None:
    """One HEAD request to the dataset's API page, no retries. Returns the error, or None.

    Any HTTP answer (even 401/404) means the hub is reachable: ``load_dataset`` will then give the
    precise error itself.
    """
    try:
        from huggingface_hub import constants
        endpoint = constants.ENDPOINT
    except Exception:  # pragma: no cover - very old huggingface_hub
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    url = f"{endpoint.rstrip('/')}/api/datasets/{repo_id}"
    try:
        from huggingface_hub.utils import get_session
    except ImportError:  # pragma: no cover - fall back to the standard library
        import urllib.error
        import urllib.request
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout)
        except urllib.error.HTTPError:
            return None
        except Exception as err:  # noqa: BLE001 - any failure means "unreachable"
            return err
        return None
    try:
        get_session().head(url, timeout=timeout)
    except Exception as err:  # noqa: BLE001 - any failure means "unreachable"
        return err
    return None


@contextlib.contextmanager
def _offline_mode() -> Iterator[None]:
    """Temporarily switch ``datasets`` and ``huggingface_hub`` to offline mode (cache only)."""
    import datasets.config as dconfig
    from huggingface_hub import constants as hconstants

    saved = [(dconfig, name, getattr(dconfig, name))
             for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE") if hasattr(dconfig, name)]
    saved.append((hconstants, "HF_HUB_OFFLINE", hconstants.HF_HUB_OFFLINE))
    try:
        for module, name, _ in saved:
            setattr(module, name, True)
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def _network_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean "could not get the data" rather than "bad arguments"."""
    types: list[type[BaseException]] = [OSError]  # ConnectionError, TimeoutError, FileNotFound...
    for module_name in ("httpx2", "httpx", "requests"):
        with contextlib.suppress(Exception):
            module = __import__(module_name)
            base = getattr(module, "HTTPError", None) or getattr(module, "RequestException", None)
            if isinstance(base, type) and issubclass(base, BaseException):
                types.append(base)
    with contextlib.suppress(Exception):
        from huggingface_hub.errors import HfHubHTTPError
        types.append(HfHubHTTPError)
    with contextlib.suppress(Exception):
        from datasets.exceptions import DatasetNotFoundError
        types.append(DatasetNotFoundError)
    return tuple(types)


def hub_error_message(repo_id: str, config: str | None, split: str, cause: object,
                      local_hint: str | None = None) -> str:
    """The advice every hub failure carries: which dataset, and how to do without the hub."""
    parts = ([f"config {config!r}"] if config else []) + [f"split {split!r}"]
    what = f"dataset {repo_id!r} ({', '.join(parts)})"
    hint = local_hint or ("pass `path=` (or set `path:` for this task in the config) to a local "
                          "copy of the dataset")
    return (f"could not load {what} from the Hugging Face hub: {cause}. "
            f"If this machine has no network, {hint}; or download it where there is network "
            f"(`hf download {repo_id} --repo-type dataset`) and set HF_HUB_OFFLINE=1 "
            f"to use the local cache.")


def load_hub_dataset(repo_id: str, config: str | None = None, split: str = "train",
                     revision: str | None = None, *, timeout: float | None = None,
                     local_hint: str | None = None) -> Any:
    """``datasets.load_dataset(repo_id, config, split=split, revision=revision)``, failing fast.

    Raises :class:`HubUnavailableError` (message names the dataset and says how to use a local
    copy; ``local_hint`` replaces the generic advice) when neither the hub nor the local cache
    can supply the data. Bad arguments (unknown split, config) still raise ``datasets``' errors.
    """
    import datasets

    offline = hub_offline_requested()
    probe_error = None
    if not offline:
        probe_error = _probe_hub(repo_id, _probe_timeout(timeout))
        if probe_error is not None:
            log.warning("Hugging Face hub unreachable (%s); trying the local cache for %s",
                        probe_error, repo_id)
    ctx = _offline_mode() if (offline or probe_error is not None) else contextlib.nullcontext()
    try:
        with ctx:
            return datasets.load_dataset(repo_id, config, split=split, revision=revision)
    except _network_errors() as err:
        cause = f"{type(err).__name__}: {err}"
        if probe_error is not None:
            cause = f"hub unreachable ({type(probe_error).__name__}: {probe_error}) and not cached"
        elif offline:
            cause = f"offline mode is set (HF_HUB_OFFLINE) and it is not cached ({cause})"
        raise HubUnavailableError(
            hub_error_message(repo_id, config, split, cause, local_hint)) from err
