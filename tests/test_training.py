"""PerCETrainer: exact gradient accumulation, learning, checkpoint resume, run outputs."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import TrainerCallback, TrainingArguments

from percontrast.data.records import Record
from percontrast.models import load_prepared
from percontrast.pir import PairCollator
from percontrast.prompts import encode_record
from percontrast.training import PerCEConfig, PerCETrainer, as_perce_config, run_training
from tests.conftest import TINY  # noqa: F401  (imported from here by other test modules)


def make_records(n: int = 4) -> list[Record]:
    users = [("Biscuit", "Leeds", "Honestly,"), ("Pepper", "Oslo", "Frankly,")]
    out = []
    for i in range(n):
        pet, town, opener = users[i % 2]
        out.append(Record(
            id=f"r{i}", task="product_review", user_id=pet, query=f"Review item number {i}.",
            reference=f"{opener} item {i} is great; {pet} loves it here in {town}." + " Yes." * i,
            profile=[f"{opener} my dog {pet} and I live in {town}.",
                     f"{opener} {pet} chewed the last one, {town} weather again."]))
    return out


def one_sgd_step(tiny_dir, tmp_path, pairs, per_device, accum, method="perce"):
    model, tok = load_prepared(tiny_dir, device="cpu")
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    args = PerCEConfig(
        output_dir=str(tmp_path), per_device_train_batch_size=per_device,
        gradient_accumulation_steps=accum, learning_rate=1.0, optim="sgd", max_steps=1,
        lr_scheduler_type="constant", max_grad_norm=0.0, weight_decay=0.0, use_cpu=True,
        report_to="none", save_strategy="no", seed=0, disable_tqdm=True, weighting=method)
    trainer = PerCETrainer(model=model, args=args, train_dataset=pairs,
                           data_collator=PairCollator(tok.pad_token_id))
    trainer.train()
    return {k: before[k] - v.detach() for k, v in model.named_parameters()}  # = lr * grad


@pytest.mark.parametrize("method", ["perce", "lossce"])
def test_gradient_accumulation_4x1_equals_1x4(tiny_dir, tmp_path, method):
    _, tok = load_prepared(tiny_dir, device="cpu")
    pairs = [encode_record(tok, r) for r in make_records(4)]
    assert len({len(p.response_ids) for p in pairs}) == 4  # unequal lengths: the hard case
    big = one_sgd_step(tiny_dir, tmp_path / "a", pairs, per_device=4, accum=1, method=method)
    acc = one_sgd_step(tiny_dir, tmp_path / "b", pairs, per_device=1, accum=4, method=method)
    for name in big:
        torch.testing.assert_close(acc[name], big[name], atol=1e-5, rtol=1e-4)
    assert any(g.abs().sum() > 0 for g in big.values())


class CrashAt(TrainerCallback):
    """Simulates a kill: raises once training reaches ``step`` (after its checkpoint is saved)."""

    def __init__(self, step):
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            raise KeyboardInterrupt("simulated kill")


TRAINING = {"epochs": 1, "max_steps": 6, "per_device_batch_size": 2, "max_length": 256,
            "warmup_ratio": 0.0, "save_steps": 2, "logging_steps": 1, "precision": "fp32"}


def test_run_training_writes_a_loadable_model_log_and_done_last(tiny_dir, tmp_path):
    out = tmp_path / "run"
    summary = run_training(tiny_dir, make_records(8), out, method="perce", lr=1e-3,
                           clip=(0.8, 5.0), training=TRAINING, batch_size=2, seed=0)
    assert summary["global_step"] == 6 and summary["gradient_accumulation_steps"] == 1
    done = json.loads((out / "done.json").read_text())
    assert done == json.loads(json.dumps(summary))
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if "loss" in r]
    assert [r["step"] for r in train_rows] == [1, 2, 3, 4, 5, 6]
    for r in train_rows:
        assert 0.8 - 1e-6 <= r["weight_mean"] <= 5.0 + 1e-6
        assert 0 <= r["frac_clip_min"] <= 1 and 0 <= r["frac_clip_max"] <= 1
        assert r["tokens_per_s"] > 0 and "pir_mean" in r
    assert "step_time_s" in train_rows[-1]
    model, _ = load_prepared(out / "model", device="cpu")
    assert type(model).__name__ == "LlamaForCausalLM"
    assert not (out / "checkpoints").exists()  # only the final model is kept


def test_a_killed_run_resumes_from_its_last_checkpoint(tiny_dir, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_training(tiny_dir, make_records(8), out, method="perce", lr=1e-3, clip=(0.8, 5.0),
                     training=TRAINING, batch_size=2, seed=0, callbacks=[CrashAt(4)])
    assert not (out / "done.json").exists()  # nothing that looks done
    assert (out / "checkpoints" / "checkpoint-4").is_dir()
    summary = run_training(tiny_dir, make_records(8), out, method="perce", lr=1e-3,
                           clip=(0.8, 5.0), training=TRAINING, batch_size=2, seed=0)
    assert summary["resumed_from"] == "checkpoint-4"
    assert summary["global_step"] == 6
    steps = [json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines()
             if "loss" in json.loads(line)]
    assert steps == [1, 2, 3, 4, 5, 6]  # continued, not restarted, and no duplicates
    # and the resumed run ends where an uninterrupted one does
    ref = tmp_path / "ref"
    run_training(tiny_dir, make_records(8), ref, method="perce", lr=1e-3, clip=(0.8, 5.0),
                 training=TRAINING, batch_size=2, seed=0)
    a, _ = load_prepared(out / "model", device="cpu")
    b, _ = load_prepared(ref / "model", device="cpu")
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters(),
                                   strict=True):
        torch.testing.assert_close(pa, pb, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("method", ["ce", "perce"])
def test_short_training_lowers_the_loss(tiny_dir, tmp_path, method):
    training = {**TRAINING, "max_steps": 30, "save_steps": 100, "learning_rate": 3e-3}
    out = tmp_path / method
    run_training(tiny_dir, make_records(4), out, method=method, lr=3e-3, clip=(0.8, 5.0),
                 training=training, batch_size=4, seed=0)
    nll = [json.loads(line)["nll"] for line in (out / "log.jsonl").read_text().splitlines()
           if "nll" in json.loads(line)]
    assert len(nll) == 30
    assert sum(nll[-5:]) / 5 < 0.8 * sum(nll[:5]) / 5


def test_unknown_weighting_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="weighting must be one of"):
        PerCEConfig(output_dir=str(tmp_path), report_to="none", weighting="focal")


def test_perce_config_holds_the_loss_settings(tiny_dir, tmp_path):
    args = PerCEConfig(output_dir=str(tmp_path), report_to="none", use_cpu=True)
    assert (args.weighting, args.clip, args.track_pir) == ("perce", (0.8, 5.0), False)
    assert args.remove_unused_columns is False  # cf_* columns must reach the collator's batch
    with pytest.raises(ValueError, match="remove_unused_columns=False"):
        PerCEConfig(output_dir=str(tmp_path), remove_unused_columns=True)
    with pytest.raises(ValueError, match="clip min 5.0 > clip max 1.0"):
        PerCEConfig(output_dir=str(tmp_path), clip=(5.0, 1.0))
    assert as_perce_config(args) is args
    # a plain TrainingArguments is converted, the caller's object left as it was
    plain = TrainingArguments(output_dir=str(tmp_path), report_to="none", use_cpu=True,
                              learning_rate=0.25)
    converted = as_perce_config(plain)
    assert isinstance(converted, PerCEConfig) and converted.learning_rate == 0.25
    assert converted.remove_unused_columns is False and plain.remove_unused_columns is True
    model, _ = load_prepared(tiny_dir, device="cpu")
    trainer = PerCETrainer(model=model, args=plain)  # PerCE's defaults, as TRL's SFTTrainer does
    assert isinstance(trainer.args, PerCEConfig) and trainer.args.learning_rate == 0.25
    assert (trainer.weighting, trainer.clip) == ("perce", (0.8, 5.0))


def test_training_arguments_read_warmup_ratio_as_a_ratio(tmp_path):
    from percontrast.training import training_arguments

    def args(**training):
        return training_arguments({"max_steps": 100, **training}, tmp_path, method="lossce",
                                  lr=1e-3, clip=(0.5, 3.0), batch_size=4, seed=0, device="cpu")

    made = args(warmup_ratio=0.04, per_device_batch_size=2)
    assert isinstance(made, PerCEConfig)
    assert (made.weighting, made.clip, made.gradient_accumulation_steps) == \
        ("lossce", (0.5, 3.0), 2)
    assert made.get_warmup_steps(100) == 4 and made.get_warmup_steps(1000) == 40
    assert args(warmup_ratio=0.0).get_warmup_steps(100) == 0
    with pytest.raises(ValueError, match=r"warmup_ratio must be in \[0, 1\), got 4"):
        args(warmup_ratio=4)
    assert args(save_steps=7).save_steps == 7


def test_perce_trains_with_the_configured_counterfactual(tiny_dir, tmp_path):
    """config pir.counterfactual reaches training (through the run's spec): another user's
    persona as the counterfactual gives other PIR, so other weights and another model (clip
    [0, 5]: a random-init model's PIR is near 0, and [0.8, 5] would weigh every token 0.8)."""
    logs, weights = {}, {}
    for cf in ("removed", "placebo"):
        out = tmp_path / cf
        training = {**TRAINING, "max_steps": 2} | ({"counterfactual": cf} if cf != "removed"
                                                   else {})
        run_training(tiny_dir, make_records(4), out, method="perce", lr=1e-2, clip=(0.0, 5.0),
                     training=training, batch_size=2, seed=0)
        logs[cf] = [json.loads(line)["pir_mean"] for line in
                    (out / "log.jsonl").read_text().splitlines() if '"loss"' in line]
        weights[cf] = load_prepared(out / "model", device="cpu")[0].state_dict()
    assert logs["removed"][0] != pytest.approx(logs["placebo"][0], abs=1e-6)
    assert any(not torch.equal(weights["removed"][k], weights["placebo"][k])
               for k in weights["removed"])


# --------------------------------------- issue 20 item 5: a batch with no response token, NaN


def _trainer(tiny_dir, tmp_path, method):
    model, tok = load_prepared(tiny_dir, device="cpu")
    args = PerCEConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none",
                       save_strategy="no", disable_tqdm=True, weighting=method)
    trainer = PerCETrainer(model=model, args=args, train_dataset=[],
                           data_collator=PairCollator(tok.pad_token_id))
    batch = PairCollator(tok.pad_token_id)([encode_record(tok, r) for r in make_records(2)])
    return trainer, model, batch


@pytest.mark.parametrize("method", ["perce", "lossce", "entce", "ce"])
@pytest.mark.parametrize("num_items", [None, 0])
def test_a_batch_without_response_tokens_is_exactly_zero_and_counted(tiny_dir, tmp_path, caplog,
                                                                     method, num_items):
    trainer, model, batch = _trainer(tiny_dir, tmp_path, method)
    batch["shift_labels"] = torch.full_like(batch["shift_labels"], -100)
    with caplog.at_level("WARNING"):
        loss = trainer.compute_loss(model, batch, num_items_in_batch=num_items)
    assert loss.item() == 0.0  # not NaN
    assert "no response token" in caplog.text
    logs = trainer._stats.flush()
    assert logs["empty_batches"] == 1 and logs["response_tokens"] == 0
    assert all(v == v for v in logs.values())  # no NaN statistic either


def test_non_finite_logits_raise_instead_of_a_nan_loss(tiny_dir, tmp_path):
    trainer, model, batch = _trainer(tiny_dir, tmp_path, "perce")
    with torch.no_grad():
        model.get_output_embeddings().weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        trainer.compute_loss(model, batch)


# ------------------------------------------------- issue 20 item 10: weights honour the umask


def _modes(root):
    return {str(p.relative_to(root)): p.stat().st_mode & 0o777 for p in root.rglob("*")}


def test_trained_and_prepared_weights_honour_the_umask(tmp_path):
    import os

    from percontrast.models import prepare_model

    old = os.umask(0o022)
    try:
        model_dir = prepare_model("tiny", TINY, tmp_path / "tiny", seed=0)
        training = {**TRAINING, "max_steps": 2, "save_steps": 1}
        run_training(model_dir, make_records(2), tmp_path / "run", method="perce", lr=1e-3,
                     clip=(0.8, 5.0), training=training, batch_size=2, seed=0,
                     keep_checkpoints=True)
    finally:
        os.umask(old)
    for root in (model_dir, tmp_path / "run"):
        modes = _modes(root)
        assert any(name.endswith("model.safetensors") for name in modes), modes
        for name, mode in modes.items():
            want = 0o755 if (root / name).is_dir() else 0o644
            assert mode == want, f"{root / name}: {oct(mode)}, umask 022 gives {oct(want)}"
