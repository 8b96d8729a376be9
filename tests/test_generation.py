"""percontrast.generation on a tiny random-init Llama with SmolLM2's real tokenizer and template."""

from __future__ import annotations

import math

import pytest
import torch

from percontrast.generation import (
    GenerationResult,
    Generations,
    GumbelSampler,
    _top_p_mask,
    generate,
    stop_token_ids,
    stream_seed,
)
from percontrast.prompts import encode_prompt

# Deliberately different lengths, so batches need left padding.
CONVS = [
    [{"role": "user", "content": "Hi"}],
    [{"role": "system", "content": "You write product reviews for the user, in their style."},
     {"role": "user", "content": "Review a blue kettle that boils water fast and looks nice on "
                                 "the counter, in about three sentences."}],
    [{"role": "user", "content": "Name a colour."}],
    [{"role": "system", "content": "Answer briefly."},
     {"role": "user", "content": "Tell me about the history of tea in two sentences, please."}],
    [{"role": "user", "content": "ok"}],
]


@pytest.fixture(scope="module")
def tiny_model(bundled_tokenizer):
    """Like conftest's tiny Llama but with an untied output layer: the tied random-init model
    greedily repeats the prompt's last token (a newline) whatever the prompt, which would make the
    equality tests below pass vacuously."""
    from percontrast.models import build_tiny

    model, tok = build_tiny({"architecture": "llama", "hidden_size": 64, "num_layers": 2,
                             "num_heads": 4, "num_kv_heads": 2, "intermediate_size": 128,
                             "tie_word_embeddings": False}, tokenizer=bundled_tokenizer, seed=0)
    return model.eval(), tok


def hf_greedy(model, tok, conv, max_new_tokens):
    """Reference: plain HF greedy decoding of one unpadded prompt."""
    ids = encode_prompt(tok, conv)
    x = torch.tensor([ids])
    out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), do_sample=False,
                         max_new_tokens=max_new_tokens, eos_token_id=stop_token_ids(tok, model),
                         pad_token_id=tok.pad_token_id)
    return out[0, len(ids):].tolist()


def test_prompts_differ_in_length(tiny_model):
    _, tok = tiny_model
    lengths = {len(encode_prompt(tok, c)) for c in CONVS}
    assert len(lengths) >= 4  # otherwise the padding tests below would test nothing


def test_greedy_batched_equals_unbatched_hf_generate(tiny_model):
    """Left padding + sorting + batching change nothing: each row equals HF's single-prompt
    greedy decode, and results come back in input order."""
    model, tok = tiny_model
    got = generate(model, tok, CONVS, temperature=0, max_new_tokens=10, batch_size=8)
    assert len(got) == len(CONVS)
    for conv, res in zip(CONVS, got, strict=True):
        assert res.token_ids == hf_greedy(model, tok, conv, 10)
        assert res.text == tok.decode(res.token_ids, skip_special_tokens=True).strip()
    assert len({tuple(r.token_ids) for r in got}) >= 3  # prompts really lead to different outputs


def test_batch_size_and_order_do_not_change_greedy(tiny_model):
    model, tok = tiny_model
    one = generate(model, tok, CONVS, temperature=0, max_new_tokens=8, batch_size=1)
    two = generate(model, tok, CONVS, temperature=0, max_new_tokens=8, batch_size=2)
    rev = generate(model, tok, CONVS[::-1], temperature=0, max_new_tokens=8, batch_size=3)
    assert [r.token_ids for r in one] == [r.token_ids for r in two]
    assert [r.token_ids for r in one] == [r.token_ids for r in rev][::-1]
    # the outputs differ between prompts, so order preservation is actually observable
    assert len({tuple(r.token_ids) for r in one}) > 1


def test_max_new_tokens_respected(tiny_model):
    model, tok = tiny_model
    for limit in (1, 5):
        res = generate(model, tok, CONVS, temperature=0.7, max_new_tokens=limit, seed=1)
        for r in res:
            assert 1 <= r.n_tokens <= limit
            if not r.finished:  # a random-init model practically never emits EOS
                assert r.n_tokens == limit
            assert r.n_tokens == len(r.token_ids)


def test_stops_at_eos_and_reports_finished(tiny_model):
    """An EOS-loving model stops after one token: finished, empty text, nothing after it."""
    model, tok = tiny_model
    eos = tok.eos_token_id
    boost = torch.zeros(model.config.vocab_size)
    boost[eos] = 1e4
    handle = model.lm_head.register_forward_hook(lambda m, i, out: out + boost)
    try:
        res = generate(model, tok, CONVS[:3], temperature=0, max_new_tokens=6)
    finally:
        handle.remove()
    for r in res:
        assert r == GenerationResult(text="", n_tokens=1, finished=True, token_ids=[eos])


def test_end_of_turn_tokens_are_stop_tokens(bundled_tokenizer):
    stops = stop_token_ids(bundled_tokenizer)
    assert bundled_tokenizer.eos_token_id in stops
    assert bundled_tokenizer.convert_tokens_to_ids("<|im_end|>") in stops


def test_same_seed_reproducible_other_seed_differs(tiny_model):
    model, tok = tiny_model
    kw = dict(temperature=1.0, max_new_tokens=8, batch_size=2)
    a = generate(model, tok, CONVS, seed=11, **kw)
    b = generate(model, tok, CONVS, seed=11, **kw)
    c = generate(model, tok, CONVS, seed=12, **kw)
    assert [r.token_ids for r in a] == [r.token_ids for r in b]
    assert [r.token_ids for r in a] != [r.token_ids for r in c]
    # sampling really samples: the random-init model's greedy output is something else
    greedy = generate(model, tok, CONVS, temperature=0, max_new_tokens=8)
    assert [r.token_ids for r in a] != [r.token_ids for r in greedy]


def test_sample_does_not_depend_on_batch_composition(tiny_model):
    """The documented guarantee: a request's random stream is its own. With an int seed,
    request i is seeded from (seed, i) whatever the batch size; with per-request seeds, a request
    gets the same sample wherever it sits and whoever shares its batch."""
    model, tok = tiny_model
    kw = dict(temperature=1.0, max_new_tokens=8)
    by1 = generate(model, tok, CONVS, seed=5, batch_size=1, **kw)
    by5 = generate(model, tok, CONVS, seed=5, batch_size=5, **kw)
    assert [r.token_ids for r in by1] == [r.token_ids for r in by5]

    full = generate(model, tok, CONVS, seed=[7] * len(CONVS), batch_size=4, **kw)
    subset = generate(model, tok, [CONVS[3], CONVS[0]], seed=[7, 7], batch_size=2, **kw)
    alone = generate(model, tok, [CONVS[1]], seed=[7], **kw)
    assert subset[0].token_ids == full[3].token_ids
    assert subset[1].token_ids == full[0].token_ids
    assert alone[0].token_ids == full[1].token_ids


def test_tiny_top_p_is_greedy(tiny_model):
    model, tok = tiny_model
    greedy = generate(model, tok, CONVS, temperature=0, max_new_tokens=6)
    nucleus = generate(model, tok, CONVS, temperature=1.5, top_p=1e-9, max_new_tokens=6, seed=3)
    assert [r.token_ids for r in greedy] == [r.token_ids for r in nucleus]


def test_top_p_mask_keeps_smallest_set_reaching_mass():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = torch.isfinite(_top_p_mask(logits, 0.75))
    assert kept.tolist() == [[True, True, False, False]]
    kept = torch.isfinite(_top_p_mask(logits, 0.4))  # the top token alone is enough
    assert kept.tolist() == [[True, False, False, False]]
    kept = torch.isfinite(_top_p_mask(logits.flip(-1), 0.81))  # order in the vocabulary is free
    assert kept.tolist() == [[False, True, True, True]]


def test_gumbel_sampler_matches_softmax():
    """Gumbel-max with temperature T samples softmax(logits / T): frequencies within 4 sigma."""
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    temperature, n = 0.7, 6000
    gen = torch.Generator().manual_seed(0)
    sampler = GumbelSampler([gen], temperature)
    counts = torch.zeros(4)
    for _ in range(n):
        counts[sampler(None, logits).argmax()] += 1
    expected = torch.softmax(logits[0] / temperature, -1)
    for k in range(4):
        sigma = math.sqrt(n * expected[k] * (1 - expected[k]))
        assert abs(counts[k] - n * expected[k]) < 4 * sigma + 1


def test_stream_seed_mixes():
    seeds = {stream_seed(s, i) for s in range(4) for i in range(4)} | {stream_seed(s) for s in
                                                                        range(4)}
    assert len(seeds) == 20
    assert all(0 <= s < 2**63 for s in seeds)


def test_throughput_and_empty_input(tiny_model):
    model, tok = tiny_model
    res = generate(model, tok, CONVS[:2], temperature=0, max_new_tokens=4)
    assert isinstance(res, Generations)
    assert res.n_tokens == sum(r.n_tokens for r in res) > 0
    assert res.seconds > 0 and res.tokens_per_second > 0
    assert list(generate(model, tok, [], temperature=0)) == []


def test_on_result_callback_and_training_mode_restored(tiny_model):
    model, tok = tiny_model
    seen = {}
    model.train()
    try:
        res = generate(model, tok, CONVS, temperature=0, max_new_tokens=3, batch_size=2,
                       on_result=lambda i, r: seen.__setitem__(i, r))
        assert model.training
    finally:
        model.eval()
    assert sorted(seen) == list(range(len(CONVS)))
    assert [seen[i] for i in range(len(CONVS))] == list(res)


def test_bad_arguments(tiny_model):
    model, tok = tiny_model
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, tok, CONVS, max_new_tokens=0)
    with pytest.raises(ValueError, match="seeds"):
        generate(model, tok, CONVS, seed=[1, 2])


def test_the_generations_file_round_trips_and_names_its_faults(tmp_path):
    from types import SimpleNamespace

    from percontrast.generation_file import generation_rows, read_generations
    from percontrast.io import DataError, write_jsonl

    records = [SimpleNamespace(id=f"r{i}", task="review", reference=f"ref {i}") for i in range(3)]
    results = [SimpleNamespace(text=f"out {i}", n_tokens=2, finished=True) for i in range(3)]
    prompts = [[{"role": "system", "content": f"persona {i}"}, {"role": "user", "content": "q"}]
               for i in range(3)]
    path = tmp_path / "g.jsonl"
    write_jsonl(path, reversed(list(generation_rows(records, results, prompts))))
    outputs, shown = read_generations(path, records)  # back in the records' order
    assert outputs == ["out 0", "out 1", "out 2"] and shown == ["persona 0", "persona 1",
                                                                "persona 2"]
    with pytest.raises(DataError, match="no generation for 1 test record"):
        read_generations(path, [*records, SimpleNamespace(id="r9")])
    path.write_text('{"id": "r0", "output": "a"}\n{"id": "r0", "output": "b"}\n')
    with pytest.raises(DataError, match=r"g.jsonl.*line 2.*duplicate generation"):
        read_generations(path, records)


# sha256 (first 16 hex digits) of [[text, token_ids, n_tokens, finished], ...] for CONVS with
# max_new_tokens=12, seed=7, recorded with the generation code before the GPU path was added
# (torch 2.13 CPU, transformers 5.25): the CPU default must keep giving these bytes.
CPU_DEFAULT_DIGESTS = {0: "bb5cb795e30252f2", 0.4: "e541720eb5e4bd5e", 1.0: "722c3e03c88fedf3"}


def _digest(results) -> str:
    import hashlib
    import json

    blob = json.dumps([[r.text, r.token_ids, r.n_tokens, r.finished] for r in results])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@pytest.mark.parametrize("temperature", sorted(CPU_DEFAULT_DIGESTS))
def test_cpu_default_output_is_byte_identical_to_before(tiny_model, temperature):
    import transformers

    model, tok = tiny_model
    if (torch.__version__.split("+")[0], transformers.__version__) != ("2.13.0", "5.25.0"):
        pytest.skip("the recorded digests belong to torch 2.13 / transformers 5.25 on CPU")
    for batch_size in (2, 8):
        got = generate(model, tok, CONVS, temperature=temperature, max_new_tokens=12,
                       batch_size=batch_size, seed=7)
        assert _digest(got) == CPU_DEFAULT_DIGESTS[temperature]


@pytest.mark.parametrize("temperature", [0, 0.4])
def test_length_sort_changes_no_output_and_keeps_record_order(tiny_model, temperature):
    """Sorting batches by prompt length (the default) or batching in input order: the same text
    per record (greedy: guaranteed up to float ties; sampling: each request draws from its own
    stream), and outputs in the order of the inputs."""
    model, tok = tiny_model
    kwargs = dict(temperature=temperature, max_new_tokens=10, batch_size=2, seed=3)
    seen = []
    on = generate(model, tok, CONVS, **kwargs, on_result=lambda i, r: seen.append(i))
    off = generate(model, tok, CONVS, sort_by_length=False, **kwargs)
    assert [r.text for r in on] == [r.text for r in off]
    assert [r.token_ids for r in on] == [r.token_ids for r in off]
    lengths = [len(encode_prompt(tok, c)) for c in CONVS]
    assert seen == sorted(range(len(CONVS)), key=lambda i: -lengths[i])  # batched longest first
    assert seen != list(range(len(CONVS)))  # ...which is not the input order
    if temperature == 0:  # each output belongs to its own record
        for conv, res in zip(CONVS, on, strict=True):
            assert res.token_ids == generate(model, tok, [conv], **kwargs)[0].token_ids


def test_gpu_settings_leave_the_cpu_path_alone(tiny_model, native):
    from percontrast.generation import (
        generation_dtype,
        prepare_for_cuda,
        resolve_cache,
        supports_static_cache,
    )

    model, tok = tiny_model
    before = (model.dtype, model.config._attn_implementation)
    settings = prepare_for_cuda(model)
    assert (model.dtype, model.config._attn_implementation) == before
    assert settings["device"] == "cpu" and settings["dtype"] == "float32"
    assert supports_static_cache(model)  # Llama: transformers can give it a static cache...
    assert resolve_cache("auto", model) is None  # ...but only CUDA gets one by default
    assert resolve_cache("static", model) == "static"
    assert resolve_cache("dynamic", model) is None
    with pytest.raises(ValueError, match="cache_implementation"):
        resolve_cache("paged", model)
    # a CPU without native bf16 loads as before (with it, auto is bf16: test_precision.py)
    native(False)
    for spec_dtype in (None, "auto", "bfloat16", "float32"):
        assert generation_dtype(spec_dtype, "cpu") is None
    assert generation_dtype("float32", "cuda") is None  # a pinned dtype stays pinned


def test_static_cache_on_cpu_gives_the_same_greedy_tokens(tiny_model):
    model, tok = tiny_model
    kwargs = dict(temperature=0, max_new_tokens=6, batch_size=2)
    default = generate(model, tok, CONVS[:3], **kwargs)
    static = generate(model, tok, CONVS[:3], cache_implementation="static", **kwargs)
    assert [r.token_ids for r in static] == [r.token_ids for r in default]


def test_load_for_generation_on_cpu_matches_load_prepared(tiny_dir):
    from percontrast.generation import load_for_generation
    from percontrast.models import load_prepared

    model, tok, settings = load_for_generation(tiny_dir, device="cpu", precision="fp32")
    ref, _ = load_prepared(tiny_dir, device="cpu")
    assert settings["model"] == "tiny" and settings["dtype"] == "float32"
    assert model.dtype == ref.dtype
    for (name, a), (_, b) in zip(model.state_dict().items(), ref.state_dict().items(),
                                 strict=True):
        assert torch.equal(a, b), name


def test_bf16_generation_is_reproducible_per_precision(tiny_dir):
    """Forced bf16 (what auto picks on a CPU with native bf16): bf16 weights, and the same call
    gives the same outputs; fp32 may sample other tokens (the guarantee is per precision)."""
    from percontrast.generation import load_for_generation

    model, tok, settings = load_for_generation(tiny_dir, device="cpu", precision="bf16")
    assert settings["dtype"] == "bfloat16" and model.dtype == torch.bfloat16
    kwargs = {"max_new_tokens": 3, "seed": 3, "temperature": 0.7}
    first = generate(model, tok, CONVS[:2], **kwargs)
    again = generate(model, tok, CONVS[:2], batch_size=1, **kwargs)
    assert [r.token_ids for r in first] == [r.token_ids for r in again]
