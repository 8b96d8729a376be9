"""Model loading: tiny random-init models, the bundled GGUF, prepare/load round trips."""

from __future__ import annotations

import json

import pytest
import torch

from percontrast.models import (
    MANIFEST,
    ModelUnavailableError,
    build_tiny,
    load_model,
    load_prepared,
    prepare_model,
)


@pytest.mark.parametrize("arch, cls", [("llama", "LlamaForCausalLM"),
                                       ("qwen3", "Qwen3ForCausalLM")])
def test_tiny_model_is_a_real_architecture_with_the_real_tokenizer(bundled_tokenizer, arch, cls):
    model, tok = build_tiny({"architecture": arch, "hidden_size": 32, "num_layers": 1,
                             "num_heads": 2, "num_kv_heads": 1, "intermediate_size": 64},
                            tokenizer=bundled_tokenizer, seed=1)
    assert type(model).__name__ == cls
    assert model.config.vocab_size == len(tok) == 49152
    ids = tok("Hello world", return_tensors="pt")["input_ids"]
    logits = model(ids).logits
    assert logits.shape == (1, ids.shape[1], len(tok))
    again, _ = build_tiny({"architecture": arch, "hidden_size": 32, "num_layers": 1,
                           "num_heads": 2, "num_kv_heads": 1, "intermediate_size": 64},
                          tokenizer=bundled_tokenizer, seed=1)
    torch.testing.assert_close(again(ids).logits, logits)  # seeded init


def test_tiny_prepare_and_load_round_trip(tmp_path):
    spec = {"source": "tiny", "architecture": "qwen3", "hidden_size": 32, "num_layers": 1,
            "num_heads": 2, "num_kv_heads": 1, "intermediate_size": 64}
    out = prepare_model("tiny", spec, tmp_path / "tiny", seed=3)
    files = {p.name for p in out.iterdir()}
    assert "model.safetensors" in files and MANIFEST in files
    assert not any(f.endswith((".bin", ".pt", ".pkl")) for f in files)  # never pickles
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["weights"] == "local" and manifest["architecture"] == "Qwen3ForCausalLM"
    reference, tok = load_model(spec, device="cpu", seed=3)
    loaded, tok2 = load_prepared(out, device="cpu")
    ids = tok("a short test", return_tensors="pt")["input_ids"]
    torch.testing.assert_close(loaded(ids).logits, reference(ids).logits)
    assert tok2("a short test")["input_ids"] == tok("a short test")["input_ids"]


def test_prepare_is_atomic_on_failure(tmp_path):
    with pytest.raises(ValueError):
        prepare_model("bad", {"source": "tiny", "architecture": "gpt9"}, tmp_path / "bad")
    assert list(tmp_path.iterdir()) == []  # no half-written folder, no temp left behind


def test_unprepared_folder_and_missing_local_model_fail_clearly(tmp_path):
    with pytest.raises(ModelUnavailableError, match="not a prepared model"):
        load_prepared(tmp_path)
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        load_model({"source": "local", "path": str(tmp_path / "nope")})


def test_unreachable_hub_model_fails_fast_with_a_hint(monkeypatch):
    import time

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(ModelUnavailableError) as err:
        load_model({"source": "hub", "id": "Qwen/Qwen3-4B"})
    assert time.monotonic() - start < 30
    assert "source: local" in str(err.value) and "Qwen/Qwen3-4B" in str(err.value)


@pytest.mark.slow
def test_bundled_gguf_prepares_into_a_trainable_savable_model(smollm2_dir, tmp_path):
    manifest = json.loads((smollm2_dir / MANIFEST).read_text())
    assert manifest["gguf"].endswith(".gguf") and manifest["weights"] == "local"
    assert 130e6 < manifest["n_parameters"] < 140e6
    model, tok = load_prepared(smollm2_dir, device="cpu")
    assert type(model).__name__ == "LlamaForCausalLM"
    assert getattr(model, "hf_quantizer", None) is None
    assert "quantization_config" not in model.config.to_dict()
    model.save_pretrained(tmp_path / "again")  # refused while marked quantized
    # it is a working instruct model: greedy decoding answers a factual question
    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt")
    ids = ids["input_ids"] if hasattr(ids, "keys") else ids
    out = model.generate(ids, max_new_tokens=12, do_sample=False)
    assert "Paris" in tok.decode(out[0, ids.shape[1]:])
    # and gradients flow (Trainer needs a non-quantized, trainable model)
    model.train()
    loss = model(ids, labels=ids).loss
    loss.backward()
    assert model.model.embed_tokens.weight.grad is not None


def test_tiny_vocab_size_can_exceed_the_tokenizer_never_undercut_it(bundled_tokenizer):
    spec = {"architecture": "qwen3", "hidden_size": 16, "num_layers": 1, "num_heads": 2,
            "num_kv_heads": 1, "intermediate_size": 32, "head_dim": 8}
    model, _ = build_tiny({**spec, "vocab_size": 151936, "init_device": "meta"},
                          tokenizer=bundled_tokenizer)
    assert model.config.vocab_size == 151936  # e.g. Qwen3's embedding size for benchmarks
    assert model.model.embed_tokens.weight.shape == (151936, 16)
    with pytest.raises(ValueError, match="smaller than the tokenizer"):
        build_tiny({**spec, "vocab_size": 1000}, tokenizer=bundled_tokenizer)
