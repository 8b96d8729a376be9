"""LoRA training (``training.lora``): trains, saves a model every consumer loads, resumes after a
kill, generates; PerCE's counterfactual forward runs through the adapter; bad targets are named."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from percontrast import training as training_mod
from percontrast.generation import generate
from percontrast.lora import ADAPTER_DIR, apply_lora, linear_module_names
from percontrast.models import load_prepared
from percontrast.pir import PairCollator
from percontrast.prompts import encode_record
from percontrast.training import PerCETrainer, run_training, training_arguments
from tests.test_training import CrashAt, make_records

LORA = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj", "down_proj"]}
TRAINING = {"epochs": 1, "max_steps": 4, "per_device_batch_size": 2, "max_length": 256,
            "warmup_ratio": 0.0, "save_steps": 2, "logging_steps": 1, "precision": "fp32",
            "lora": LORA}
RUN = dict(method="perce", lr=5e-2, clip=(0.8, 5.0), batch_size=2, seed=0)


@pytest.fixture(scope="module")
def lora_run(tiny_dir, tmp_path_factory):
    """One uninterrupted LoRA run (4 steps): the reference of the resume test."""
    out = tmp_path_factory.mktemp("lora") / "run"
    return out, run_training(tiny_dir, make_records(8), out, training=TRAINING, **RUN)


def state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_a_lora_run_trains_saves_a_merged_model_and_the_adapter(tiny_dir, lora_run):
    out, summary = lora_run
    assert summary["global_step"] == 4
    base, _ = load_prepared(tiny_dir, device="cpu")
    model, tok = load_prepared(out / "model", device="cpu")  # what generate/aloe/judge call
    assert type(model).__name__ == "LlamaForCausalLM"
    assert not any("lora" in k for k in model.state_dict())  # merged: a plain model
    after, before = state(model), state(base)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    # only the adapted projections moved; embeddings, norms and the rest stay the base's
    assert changed == {"model.layers.0.self_attn.q_proj.weight",
                       "model.layers.0.self_attn.v_proj.weight",
                       "model.layers.0.mlp.down_proj.weight"}
    # the kept adapter reproduces the merged weights on the base: W + (alpha / r) * B @ A
    adapter = load_file(out / "model" / ADAPTER_DIR / "adapter_model.safetensors")
    config = json.loads((out / "model" / ADAPTER_DIR / "adapter_config.json").read_text())
    assert config["r"] == 4 and config["lora_alpha"] == 8
    prefix = "base_model.model.model.layers.0.self_attn.q_proj"
    delta = adapter[f"{prefix}.lora_B.weight"] @ adapter[f"{prefix}.lora_A.weight"] * (8 / 4)
    name = "model.layers.0.self_attn.q_proj.weight"
    torch.testing.assert_close(after[name], before[name] + delta, atol=1e-6, rtol=1e-5)
    manifest = json.loads((out / "model" / "percontrast_model.json").read_text())
    assert manifest["lora"]["target_modules"] == LORA["target_modules"]
    # and it generates
    gens = generate(model, tok, [[{"role": "user", "content": "Review item 3."}]],
                    temperature=0.0, max_new_tokens=5, batch_size=1)
    assert len(gens) == 1 and 1 <= gens[0].n_tokens <= 5


def test_a_killed_lora_run_resumes_to_the_same_weights(tiny_dir, lora_run, tmp_path):
    ref, _ = lora_run
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_training(tiny_dir, make_records(8), out, training=TRAINING, callbacks=[CrashAt(2)],
                     **RUN)
    ckpt = out / "checkpoints" / "checkpoint-2"
    assert (ckpt / "adapter_model.safetensors").is_file() and not (out / "done.json").exists()
    summary = run_training(tiny_dir, make_records(8), out, training=TRAINING, **RUN)
    assert summary["resumed_from"] == "checkpoint-2" and summary["global_step"] == 4
    a, b = state(load_prepared(out / "model")[0]), state(load_prepared(ref / "model")[0])
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=1e-6, rtol=1e-5, msg=name)
    ad_a = load_file(out / "model" / ADAPTER_DIR / "adapter_model.safetensors")
    ad_b = load_file(ref / "model" / ADAPTER_DIR / "adapter_model.safetensors")
    for name in ad_b:
        torch.testing.assert_close(ad_a[name], ad_b[name], atol=1e-6, rtol=1e-5, msg=name)


def test_a_lora_run_killed_after_its_last_checkpoint_finishes_from_it(tiny_dir, lora_run,
                                                                      tmp_path):
    ref, _ = lora_run
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_training(tiny_dir, make_records(8), out, training=TRAINING, callbacks=[CrashAt(4)],
                     keep_checkpoints=True, **RUN)
    summary = run_training(tiny_dir, make_records(8), out, training=TRAINING, **RUN)
    assert summary["resumed_from"] == "checkpoint-4" and summary["global_step"] == 4
    a, b = state(load_prepared(out / "model")[0]), state(load_prepared(ref / "model")[0])
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=1e-6, rtol=1e-5, msg=name)
    assert (out / "model" / ADAPTER_DIR / "adapter_model.safetensors").is_file()


def test_adding_lora_never_resumes_a_full_fine_tuning_checkpoint(tiny_dir, tmp_path):
    out = tmp_path / "run"
    full = {k: v for k, v in TRAINING.items() if k != "lora"}
    with pytest.raises(KeyboardInterrupt):
        run_training(tiny_dir, make_records(8), out, training=full, callbacks=[CrashAt(2)],
                     **RUN)
    summary = run_training(tiny_dir, make_records(8), out, training=TRAINING, **RUN)
    assert summary["resumed_from"] is None
    (skipped,) = summary["skipped_checkpoints"]
    assert "training.lora: \"<unset>\" ->" in skipped["reason"]


def test_perce_counterfactual_forward_goes_through_the_adapter(tiny_dir, tmp_path, monkeypatch):
    """The persona-free logprobs PerCE weights with are the adapted model's: equal to the base's
    while the adapter is still zero (step 1), different once it has been trained (step 2+)."""
    model, tok = load_prepared(tiny_dir, device="cpu")
    model = apply_lora(model, {"lora": LORA})
    real = training_mod.counterfactual_logprobs
    seen = []

    def spy(m, ids, mask, labels):
        out = real(m, ids, mask, labels)
        with m.disable_adapter():  # the frozen base on the same batch
            base = real(m, ids, mask, labels)
        seen.append((out, base, labels != -100))
        return out

    monkeypatch.setattr(training_mod, "counterfactual_logprobs", spy)
    pairs = [encode_record(tok, r) for r in make_records(4)]
    args = training_arguments({"max_steps": 3, "warmup_ratio": 0.0, "per_device_batch_size": 1,
                               "precision": "fp32"}, tmp_path, method="perce", lr=0.1,
                              batch_size=1, seed=0, save_strategy="no")
    PerCETrainer(model=model, args=args, train_dataset=pairs,
                 data_collator=PairCollator(tok.pad_token_id)).train()
    assert len(seen) == 3
    out, base, mask = seen[0]
    torch.testing.assert_close(out, base)  # lora_B starts at zero: adapter = identity
    out, base, mask = seen[-1]
    assert (out[mask] - base[mask]).abs().max() > 1e-3  # the adapted model, not the base


def test_unknown_target_modules_are_named_with_the_available_ones(tiny_dir):
    model, _ = load_prepared(tiny_dir, device="cpu")
    with pytest.raises(ValueError) as err:
        apply_lora(model, {"lora": {"target_modules": ["q_proj", "query_key_value"]}})
    message = str(err.value)
    assert "training.lora.target_modules" in message and "query_key_value" in message
    for name in linear_module_names(model):
        assert name in message
    assert "q_proj" in linear_module_names(model) and "lm_head" in linear_module_names(model)


def test_the_config_takes_training_lora_and_the_run_spec_carries_it(repo):
    import yaml

    from percontrast.config import ConfigError, load_config
    from percontrast.plan import main_run, run_training_spec

    raw = yaml.safe_load((repo / "configs" / "tiny.yaml").read_text())
    plain = load_config(repo / "configs" / "tiny.yaml")
    run = main_run(plain, "tiny-llama", "review", "perce")
    assert "lora" not in run_training_spec(plain, run)  # absent: full fine-tuning, spec as before
    cfg = load_config(repo / "configs" / "tiny.yaml",
                      {"training": {**raw["training"], "lora": {"r": 8}}})
    assert cfg["training"]["lora"] == {"r": 8, "alpha": 32, "dropout": 0.05,
                                       "target_modules": "all-linear"}
    assert run_training_spec(cfg, run)["lora"]["r"] == 8  # in the run's identity
    with pytest.raises(ConfigError, match="target_modules"):
        load_config(repo / "configs" / "tiny.yaml",
                    {"training": {**raw["training"], "lora": {"target_modules": "q_proj"}}})


def test_lora_with_gradient_checkpointing_trains_every_adapter(tiny_dir, tmp_path):
    """Checkpointed blocks see the frozen embeddings' outputs, which need no grad: with reentrant
    checkpointing their adapters would silently stay at zero (transformers 5's default
    checkpointing does not have that trap; this guards it)."""
    model, tok = load_prepared(tiny_dir, device="cpu")
    training = {"max_steps": 1, "warmup_ratio": 0.0, "per_device_batch_size": 2,
                "precision": "fp32", "gradient_checkpointing": True, "lora": LORA}
    model = apply_lora(model, training)
    args = training_arguments(training, tmp_path, method="perce", lr=1e-2, batch_size=2, seed=0,
                              save_strategy="no")
    PerCETrainer(model=model, args=args, train_dataset=[encode_record(tok, r)
                                                        for r in make_records(2)],
                 data_collator=PairCollator(tok.pad_token_id)).train()
    b_weights = {k: v for k, v in model.state_dict().items() if "lora_B" in k}
    assert len(b_weights) == 3
    for name, weight in b_weights.items():
        assert weight.abs().max() > 0, name  # moved off its zero init: it got a gradient


# --------------------------------------------------------------------------- memory (issue 21)
# LoRA peaked above full fine-tuning: peft's wrapper hid ``logits_to_keep`` (full [B, seq, V]
# logits every step) and peft's own lora_dropout kept a dropped copy of every adapted layer's
# input for the backward pass. These tests fail if either comes back, or if LoRA ever holds a
# second copy of the base weights, unties the embeddings or keeps gradients on frozen weights.

def _adapted_linears(model) -> dict[str, torch.nn.Linear]:
    head = model.get_output_embeddings()
    return {n: m for n, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and m is not head}


def test_lora_adds_only_the_adapter_to_the_base_weights(tiny_dir, tmp_path):
    model, tok = load_prepared(tiny_dir, device="cpu")
    storages = {p.untyped_storage().data_ptr() for p in model.parameters()}
    base_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    linears = _adapted_linears(model)
    assert len(linears) == 7  # q k v o gate up down of the one layer; lm_head is not adapted
    expected = sum(16 * (m.in_features + m.out_features) for m in linears.values())
    assert expected == 8192

    peft_model = apply_lora(model, {"lora": {"r": 16}})  # the defaults: all-linear, r 16
    trainable = {n: p for n, p in peft_model.named_parameters() if p.requires_grad}
    assert sum(p.numel() for p in trainable.values()) == expected
    assert all("lora_" in n for n in trainable)
    frozen = [p for n, p in peft_model.named_parameters() if not p.requires_grad]
    # the frozen weights are the loaded tensors themselves, not copies: same storages, same bytes
    assert {p.untyped_storage().data_ptr() for p in frozen} == storages
    assert sum(p.numel() * p.element_size() for p in frozen) == base_bytes
    inner = peft_model.get_base_model()
    assert inner.get_output_embeddings().weight is inner.get_input_embeddings().weight  # tied

    args = training_arguments({"max_steps": 2, "warmup_ratio": 0.0, "per_device_batch_size": 1,
                               "precision": "fp32"}, tmp_path, method="perce", lr=1e-2,
                              batch_size=1, seed=0, save_strategy="no")
    trainer = PerCETrainer(model=peft_model, args=args,
                           train_dataset=[encode_record(tok, r) for r in make_records(2)],
                           data_collator=PairCollator(tok.pad_token_id))
    trainer.train()
    assert all(p.grad is None for p in frozen)  # no gradient buffer on a frozen weight
    state = trainer.optimizer.state
    assert sum(s["exp_avg"].numel() + s["exp_avg_sq"].numel() for s in state.values()) \
        == 2 * expected  # Adam moments for the adapter only


def test_lora_forward_computes_the_response_logits_only(tiny_dir):
    """peft's ``forward(input_ids, ..., **kwargs)`` does not name ``logits_to_keep``: reading
    its signature alone made every LoRA step project all positions onto the vocabulary."""
    from percontrast.pir import collate_pairs, counterfactual_logprobs, response_logits

    model, tok = load_prepared(tiny_dir, device="cpu")
    batch = collate_pairs([encode_record(tok, r) for r in make_records(2)], tok.pad_token_id)
    k = batch["shift_labels"].shape[1]
    assert batch["input_ids"].shape[1] > 3 * (k + 1)  # a prompt, so the difference shows
    peft_model = apply_lora(model, {"lora": LORA})
    positions = []
    head = peft_model.get_base_model().get_output_embeddings()
    hook = head.register_forward_hook(lambda mod, args, out: positions.append(args[0].shape[1]))
    try:
        logits = response_logits(peft_model, batch["input_ids"], batch["attention_mask"], k)
        counterfactual_logprobs(peft_model, batch["cf_input_ids"], batch["cf_attention_mask"],
                                batch["shift_labels"])
    finally:
        hook.remove()
    assert positions == [k + 1, k + 1]  # persona and persona-free forwards
    assert logits.shape == (2, k, head.out_features)
    assert logits.untyped_storage().nbytes() == 2 * (k + 1) * head.out_features * 4


def _saved_activation_bytes(model, batch) -> tuple[int, torch.Tensor]:
    """Bytes of the non-parameter tensors a training forward keeps for the backward pass
    (distinct storages), and the loss."""
    from percontrast.pir import response_logits, token_logprobs

    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    kept: dict[int, int] = {}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in params:
            kept[ptr] = t.untyped_storage().nbytes()
        return t

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        logits = response_logits(model, batch["input_ids"], batch["attention_mask"],
                                 batch["shift_labels"].shape[1])
        loss = -token_logprobs(logits, batch["shift_labels"]).sum()
    return sum(kept.values()), loss


def test_lora_dropout_keeps_no_copy_of_the_inputs_and_matches_peft(tiny_dir):
    """peft's dropout module kept dropout(x) (and its mask) of every adapted layer for the
    backward pass; folded into lora_A it keeps nothing more than dropout 0 does, with the very
    masks, loss and gradients of peft's own dropout."""
    from peft import LoraConfig, get_peft_model

    from percontrast.lora import DropoutLoraA
    from percontrast.pir import collate_pairs

    _, tok = load_prepared(tiny_dir, device="cpu")
    batch = collate_pairs([encode_record(tok, r) for r in make_records(2)], tok.pad_token_id)
    settings = {**LORA, "target_modules": "all-linear"}

    def run(model):
        torch.manual_seed(7)  # the dropout masks' stream
        kept, loss = _saved_activation_bytes(model, batch)
        loss.backward()
        grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
        return kept, loss.detach(), grads

    folded = apply_lora(load_prepared(tiny_dir, device="cpu")[0],
                        {"lora": {**settings, "dropout": 0.2}})
    torch.manual_seed(0)  # apply_lora's init stream, for peft's own model below
    plain = get_peft_model(load_prepared(tiny_dir, device="cpu")[0], LoraConfig(
        r=settings["r"], lora_alpha=settings["alpha"], lora_dropout=0.2,
        target_modules="all-linear", task_type="CAUSAL_LM"))
    with torch.no_grad():  # lora_B starts at zero: make the adapter act, alike in both
        for model in (folded, plain):
            for name, p in model.named_parameters():
                if "lora_B" in name:
                    p.copy_(torch.linspace(-0.5, 0.5, p.numel()).view_as(p))
    no_dropout = apply_lora(load_prepared(tiny_dir, device="cpu")[0],
                            {"lora": {**settings, "dropout": 0.0}})
    checkpointed = apply_lora(load_prepared(tiny_dir, device="cpu")[0],
                              {"lora": {**settings, "dropout": 0.2}})
    checkpointed.load_state_dict(folded.state_dict())
    checkpointed.gradient_checkpointing_enable()  # recomputes the folded dropout once more
    checkpointed.enable_input_require_grads()

    kept_folded, loss_folded, grads_folded = run(folded)
    kept_plain, loss_plain, grads_plain = run(plain)
    kept_none, _, _ = run(no_dropout)
    _, loss_checkpointed, grads_checkpointed = run(checkpointed)
    torch.testing.assert_close(loss_folded, loss_plain, rtol=0, atol=0)
    assert grads_folded.keys() == grads_plain.keys() and len(grads_folded) == 14
    for name, grad in grads_plain.items():
        torch.testing.assert_close(grads_folded[name], grad, rtol=1e-6, atol=1e-7, msg=name)
        torch.testing.assert_close(grads_checkpointed[name], grad, rtol=1e-6, atol=1e-7,
                                   msg=name)
    torch.testing.assert_close(loss_checkpointed, loss_plain, rtol=0, atol=0)
    # what peft's dropout kept on top: per adapted layer its dropped input (fp32) and the mask
    inputs = 2 * batch["input_ids"].shape[1] * (6 * 32 + 64)  # 6 layers read 32 wide, down 64
    assert kept_plain - kept_none >= inputs * 4
    assert kept_folded <= kept_none
    assert sum(isinstance(m, DropoutLoraA) for m in folded.modules()) == 7
    assert not any(isinstance(m, torch.nn.Dropout) for m in folded.modules())
