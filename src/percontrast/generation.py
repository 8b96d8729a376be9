"""Batched sampling from a causal LM: chat-templated prompts in, decoded responses out.

Used by the in-process LLM backend (:mod:`percontrast.llm`) and by the pipeline's ``generate``
rule. The paper samples with temperature 0.4 and at most 512 new tokens; ``temperature=0`` is
greedy decoding.

How it works, and why:

* Prompts are built by :func:`percontrast.prompts.encode_prompt` (the same chat template, ending
  in the assistant generation prompt, that training and PIR use) and left-padded with
  :func:`percontrast.pir.left_pad`, so every row's last position is its last prompt token and new
  tokens line up across the batch.
* Requests are sorted by prompt length (longest first) before batching, so rows in one batch have
  similar lengths and little compute goes to padding; results come back in input order
  (``sort_by_length=False`` batches in input order instead, for comparison: same outputs).
* Precision (:func:`generation_dtype`, ``generation.precision``): bf16 weights where the
  device computes bf16 natively (a GPU that supports it, or a CPU with AVX-512 BF16 / AMX),
  the entry's dtype elsewhere. On CUDA also SDPA attention and a static KV cache
  (``cache_implementation="static"``, which transformers also compiles) where transformers
  supports one for the model; on CPU the model's attention and a dynamic cache.
* Decoding is Hugging Face ``generate`` (KV cache, multiple stop tokens, padding of finished rows),
  always in its *greedy* mode. Sampling is done by :class:`GumbelSampler`, a logits processor that
  adds Gumbel noise drawn from a ``torch.Generator`` *owned by each request* to ``logits / T``
  (after the top-p cut): the argmax of that is an exact sample from ``softmax(logits / T)``
  (the Gumbel-max trick). HF's own sampler draws from one global RNG for the whole batch, so a
  request's sample would depend on which other requests shared its batch and in what order.

Reproducibility guarantee: request ``i`` draws its noise from its own stream, seeded from
``(seed, i)`` (or from ``seeds[i]`` alone when a list of seeds is given), one draw per decoding
step. The random numbers a request sees therefore do not depend on ``batch_size``, on the other
requests, or on the length sort. The same call (same model, device, inputs, seed) gives the same
outputs, bit for bit (per device and precision: bf16 and fp32 logits differ, so their samples
do too). Across different batch compositions the *noise* is identical, but the logits
can differ in the last float bits (batched matmuls, padding), which can flip a near-tie between
two tokens; that is the only source of difference and it is rare. CPU and GPU streams differ
(different generators), so runs are reproducible per device type.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from percontrast.pir import left_pad
from percontrast.prompts import encode_prompt

log = logging.getLogger(__name__)

#: End-of-turn tokens of common chat templates; the ones a tokenizer has are stop tokens too.
END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<|end_of_turn|>", "<end_of_turn>", "<|end|>",
                      "<|endoftext|>", "<|eom_id|>")


@dataclass
class GenerationResult:
    """One response. ``n_tokens`` counts generated tokens including the stop token;
    ``finished`` is True when the model stopped on a stop token, False when it hit
    ``max_new_tokens``."""

    text: str
    n_tokens: int
    finished: bool
    token_ids: list[int] | None = None


class Generations(list):
    """The results, in input order, plus throughput of the call that produced them."""

    n_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.n_tokens / self.seconds if self.seconds > 0 else 0.0


def stream_seed(seed: int, index: int | None = None) -> int:
    """A 63-bit generator seed for one request, hashed so that nearby seeds (42, 43) or indices
    do not give shifted copies of each other's streams."""
    text = f"percontrast-generate:{seed}" + ("" if index is None else f":{index}")
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def stop_token_ids(tokenizer, model=None) -> list[int]:
    """EOS, the model's generation-config EOS ids, and whichever end-of-turn tokens exist.

    Chat models end a turn with a token that is not always ``tokenizer.eos_token`` (Llama 3's
    ``<|eot_id|>``, Qwen's ``<|im_end|>`` vs ``<|endoftext|>``); stopping only at one of them lets
    a model run on into a hallucinated next turn.
    """
    ids: list[int] = []

    def add(value):
        if value is None:
            return
        for v in (value if isinstance(value, (list, tuple)) else [value]):
            if v is not None and int(v) not in ids:
                ids.append(int(v))

    add(tokenizer.eos_token_id)
    if model is not None and getattr(model, "generation_config", None) is not None:
        add(model.generation_config.eos_token_id)
    vocab = tokenizer.get_vocab()
    for token in END_OF_TURN_TOKENS:
        add(vocab.get(token))
    if not ids:
        raise ValueError("the tokenizer has no EOS or end-of-turn token: generation could not stop")
    return ids


class GumbelSampler:
    """Logits processor: temperature, top-p, then per-request Gumbel noise (see module doc).

    Row ``r`` of every call belongs to request ``generators[r]``; each call draws exactly one
    vocabulary-sized block of noise per row, so a request's n-th token always uses the n-th block
    of its own stream.
    """

    def __init__(self, generators: Sequence[torch.Generator], temperature: float,
                 top_p: float = 1.0):
        if temperature <= 0:
            raise ValueError("GumbelSampler samples; use greedy decoding for temperature 0")
        self.generators = list(generators)
        self.temperature = float(temperature)
        self.top_p = float(top_p)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        # float64: Exp(1) noise from float32 uniforms is 0 with probability ~2^-24 per token, i.e.
        # every few hundred steps over a 50k vocabulary, which would force an arbitrary token.
        scores = scores.double() / self.temperature
        if self.top_p < 1.0:
            scores = _top_p_mask(scores, self.top_p)
        noise = torch.empty_like(scores)
        for row, gen in enumerate(self.generators):
            # Exp(1) noise: argmax(s - log E) == argmax(s + Gumbel) — an exact categorical sample.
            noise[row].exponential_(generator=gen)
        return scores - noise.clamp_(min=torch.finfo(noise.dtype).tiny).log()


def _top_p_mask(scores: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of tokens whose probability mass reaches ``top_p`` (at least one)."""
    sorted_scores, order = torch.sort(scores, dim=-1, descending=True)
    probs = sorted_scores.softmax(dim=-1)
    drop_sorted = probs.cumsum(dim=-1) - probs >= top_p  # the mass before this token is enough
    drop_sorted[..., 0] = False
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return scores.masked_fill(drop, float("-inf"))


def _truncate_at_stop(ids: list[int], stops: set[int]) -> tuple[list[int], bool]:
    for pos, tok in enumerate(ids):
        if tok in stops:
            return ids[:pos + 1], True
    return ids, False


CACHE_IMPLEMENTATIONS = ("auto", "static", "dynamic")


def supports_static_cache(model) -> bool:
    """Whether transformers can give ``model`` a static (compilable) KV cache: a decoder whose
    cache is a standard ``Cache`` and whose forward compiles as one graph (Llama, Qwen3...)."""
    default_cache = getattr(type(model), "_supports_default_dynamic_cache", None)
    if default_cache is not None and not default_cache():
        return False
    if getattr(model.config, "is_encoder_decoder", False):
        return False
    return bool(getattr(model, "_can_compile_fullgraph", False)
                or getattr(model, "_supports_static_cache", False))


def resolve_cache(cache_implementation: str, model) -> str | None:
    """``auto``: a static cache on CUDA where the model supports one, else transformers'
    default (dynamic); ``static`` / ``dynamic`` as named. None = transformers' default."""
    if cache_implementation not in CACHE_IMPLEMENTATIONS:
        raise ValueError(f"cache_implementation must be one of {CACHE_IMPLEMENTATIONS}, "
                         f"got {cache_implementation!r}")
    if cache_implementation == "auto":
        on_cuda = model.device.type == "cuda"
        return "static" if on_cuda and supports_static_cache(model) else None
    return "static" if cache_implementation == "static" else None


def attention_implementation(model) -> str | None:
    return getattr(model.config, "_attn_implementation", None)


def prepare_for_cuda(model) -> dict[str, Any]:
    """On CUDA: switch the model to SDPA attention when it uses another (eager) kernel and
    supports SDPA. Returns what the model generates with (dtype, attention). On CPU it changes
    nothing."""
    if model.device.type == "cuda" and attention_implementation(model) != "sdpa" \
            and getattr(model, "_supports_sdpa", False) \
            and hasattr(model, "set_attn_implementation"):
        try:
            model.set_attn_implementation("sdpa")
        except (ValueError, ImportError) as err:  # pragma: no cover (GPU only)
            log.warning("SDPA attention unavailable for %s: %s", type(model).__name__, err)
    return {"device": str(model.device), "dtype": str(model.dtype).removeprefix("torch."),
            "attention": attention_implementation(model)}


def generation_dtype(spec_dtype: str | None, device: torch.device | str,
                     precision: str | None = "auto") -> str | None:
    """The dtype to load a model in for generation (:mod:`percontrast.precision`).

    ``precision`` ``auto``: bf16 weights where the device computes bf16 natively (a CUDA GPU
    that supports it, or a CPU with AVX-512 BF16 / AMX) unless the registry entry pins float16;
    elsewhere None, the entry's own dtype. ``bf16`` / ``fp32`` force that dtype. Decoding one
    token at a time is memory-bound, so bf16 weights halve the bytes read per token; nothing is
    learned from generation, so no fp32 master copy is needed."""
    from percontrast.precision import resolve

    device = torch.device(device)
    if precision not in (None, "auto"):
        return {"bf16": "bfloat16", "fp32": "float32"}[resolve(precision, device.type)]
    if spec_dtype == "float16":
        return None
    return "bfloat16" if resolve("auto", device.type) == "bf16" else None


def load_for_generation(folder, *, device: str | None = None, precision: str | None = "auto"):
    """(model, tokenizer, settings) of a prepared model or a training run's ``model/`` folder,
    in the dtype :func:`generation_dtype` picks, with SDPA attention on CUDA
    (:func:`prepare_for_cuda`). ``settings`` records the device, dtype, attention and the
    model's name from its manifest (for per-model settings)."""
    from pathlib import Path

    from percontrast.io import read_json
    from percontrast.models import MANIFEST, load_prepared, pick_device

    folder = Path(folder)
    manifest_path = folder / MANIFEST
    manifest = read_json(manifest_path) if manifest_path.is_file() else {}
    target = pick_device(device)
    dtype = generation_dtype(manifest.get("spec", {}).get("dtype"), target, precision)
    model, tokenizer = load_prepared(folder, device=str(target), dtype=dtype)
    settings = prepare_for_cuda(model)
    settings["model"] = manifest.get("name")
    return model, tokenizer, settings


def _greedy_config(tokenizer, stops: list[int], pad_id: int, max_new_tokens: int,
                   cache: str | None, longest_prompt: int):
    """HF's greedy ``GenerationConfig`` (sampling is :class:`GumbelSampler`'s), with one
    static cache size for every batch of the call: no reallocation, no recompilation."""
    from transformers import GenerationConfig

    extra: dict[str, Any] = {}
    if cache is not None:
        extra["cache_implementation"] = cache
        if longest_prompt and hasattr(GenerationConfig(), "max_cache_len"):
            extra["max_cache_len"] = longest_prompt + max_new_tokens
    return GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, num_beams=1,
                            eos_token_id=stops, pad_token_id=pad_id,
                            bos_token_id=tokenizer.bos_token_id, **extra)


def _progress_bar(n: int):
    from tqdm.auto import tqdm

    return tqdm(total=n, desc="generate", unit="resp")


def _check_settings(max_new_tokens: int, batch_size: int, temperature: float,
                    top_p: float) -> None:
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")


def _request_seeds(seed: int | Sequence[int], n: int) -> list[int]:
    """Each request's stream seed: from ``(seed, i)``, or from its own entry of a list."""
    if isinstance(seed, int):
        return [stream_seed(seed, i) for i in range(n)]
    if len(seed) != n:
        raise ValueError(f"got {len(seed)} seeds for {n} conversations")
    return [stream_seed(int(s)) for s in seed]


def _generators(seeds: Sequence[int], device) -> list[torch.Generator]:
    gens = []
    for s in seeds:
        g = torch.Generator(device=device)
        g.manual_seed(s)
        gens.append(g)
    return gens


@torch.inference_mode()
def generate(model, tokenizer, conversations: Sequence[Sequence[dict[str, str]]], *,
             temperature: float = 0.4, top_p: float = 1.0, max_new_tokens: int = 512,
             batch_size: int = 8, seed: int | Sequence[int] = 0,
             chat_template_kwargs: dict[str, Any] | None = None, progress: bool = False,
             on_result: Callable[[int, GenerationResult], None] | None = None,
             sort_by_length: bool = True, cache_implementation: str = "auto",
             ) -> Generations:
    """Generate one response per conversation (a list of chat messages), in input order.

    ``seed``: an int seeds request ``i`` from ``(seed, i)``; a list gives each request its own
    seed (request ``i`` then depends on ``seeds[i]`` only — what a response cache keyed by
    (messages, seed) needs). ``on_result(index, result)`` is called as each batch finishes, so a
    caller can save progress. Returns a :class:`Generations` list with the throughput.
    ``sort_by_length``: batch requests of similar prompt length (the default; False batches in
    input order). ``cache_implementation``: see :func:`resolve_cache` (``auto``: static on CUDA
    where supported, transformers' default elsewhere).
    """
    _check_settings(max_new_tokens, batch_size, temperature, top_p)
    n = len(conversations)
    seeds = _request_seeds(seed, n)

    from transformers import LogitsProcessorList

    device = model.device
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        pad_id = tokenizer.eos_token_id
    stops = stop_token_ids(tokenizer, model)
    stop_set = set(stops)
    prompts = [encode_prompt(tokenizer, list(conv), chat_template_kwargs) for conv in conversations]
    # longest first (stable: ties keep input order), or input order
    order = sorted(range(n), key=lambda i: -len(prompts[i])) if sort_by_length else list(range(n))
    cache = resolve_cache(cache_implementation, model)
    config = _greedy_config(tokenizer, stops, pad_id, max_new_tokens, cache,
                            max((len(p) for p in prompts), default=0))

    results: list[GenerationResult | None] = [None] * n
    out = Generations()
    was_training = model.training
    model.eval()
    bar = _progress_bar(n) if progress else None
    start = time.perf_counter()
    try:
        for b in range(0, n, batch_size):
            idx = order[b:b + batch_size]
            input_ids, attention_mask = left_pad([prompts[i] for i in idx], pad_id)
            processors = LogitsProcessorList()
            if temperature > 0:
                processors.append(GumbelSampler(_generators([seeds[i] for i in idx], device),
                                                temperature, top_p))
            generated = model.generate(
                input_ids=input_ids.to(device), attention_mask=attention_mask.to(device),
                generation_config=config, logits_processor=processors)
            new = generated[:, input_ids.shape[1]:].tolist()
            for i, ids in zip(idx, new, strict=True):
                ids, finished = _truncate_at_stop(ids, stop_set)
                text_ids = ids[:-1] if finished else ids
                res = GenerationResult(
                    text=tokenizer.decode(text_ids, skip_special_tokens=True).strip(),
                    n_tokens=len(ids), finished=finished, token_ids=ids)
                results[i] = res
                out.n_tokens += len(ids)
                if on_result is not None:
                    on_result(i, res)
            if bar is not None:
                bar.update(len(idx))
                bar.set_postfix(tok_s=f"{out.n_tokens / (time.perf_counter() - start):.1f}")
    finally:
        if bar is not None:
            bar.close()
        if was_training:
            model.train()
    out.seconds = time.perf_counter() - start
    out.extend(results)
    if n:
        log.info("generated %d responses, %d tokens in %.1f s (%.1f tokens/s, batch %d, %s, %s, "
                 "%s cache, %s)", n, out.n_tokens, out.seconds, out.tokens_per_second, batch_size,
                 device, str(model.dtype).removeprefix("torch."), cache or "default",
                 "length-sorted" if sort_by_length else "input order")
    return out
