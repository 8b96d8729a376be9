"""The online E-step on ground-truth personal tokens: marker masks, their batches, the marker
statistics of the training log, ``track_pir`` for the baselines, and the figure drawn from them.

The demo records know which response tokens are personal (``meta["markers"]``), so the training
log can show whether PIR singles them out; these tests pin each link with known answers.
"""

from __future__ import annotations

import json

import pytest
import torch
from transformers import TrainerCallback

from percontrast.data.demo import find_markers, marker_spans
from percontrast.data.records import Record
from percontrast.models import load_prepared, prepare_model
from percontrast.pir import IGNORE_INDEX, PairCollator, collate_pairs, pir_batch
from percontrast.prompts import (
    EncodedPair,
    build_messages,
    encode_pair,
    encode_prompt,
    encode_record,
    encode_response,
)
from percontrast.report import figure_style, training_figures
from percontrast.training import PerCEConfig, PerCETrainer, _StepStats, run_training
from tests.test_figures import assert_png

REFERENCE = "Biscuit loved it. Cheers from Oslo!"
TINY = {"source": "tiny", "architecture": "llama", "hidden_size": 32, "intermediate_size": 64,
        "num_layers": 1, "num_heads": 2, "num_kv_heads": 1, "dtype": "float32"}


# --------------------------------------------------------------------------- marker spans & masks

def test_marker_spans_are_whole_word_case_insensitive_occurrences():
    text = "Biscuit met biscuits; Oslo, then OSLO and biscuit again."
    assert marker_spans(text, ["Biscuit", "Oslo"]) == [(0, 7), (22, 26), (33, 37), (42, 49)]
    assert [text[a:b] for a, b in marker_spans(text, ["Oslo"])] == ["Oslo", "OSLO"]
    assert marker_spans(text, ["Leeds"]) == []
    assert find_markers(text, ["Leeds", "oslo", "Biscuit", "oslo"]) == ["oslo", "Biscuit"]


def masked_tokens(tok, pair: EncodedPair) -> list[str]:
    return [tok.decode([t]) for t, m in zip(pair.response_ids, pair.marker_mask, strict=True)
            if m]


def test_marker_mask_flags_exactly_the_marker_tokens(bundled_tokenizer):
    tok = bundled_tokenizer
    pair = encode_pair(tok, "product_review", "Review this.", ["My dog Biscuit."], REFERENCE,
                       markers=["Biscuit", "Oslo"])
    assert pair.response_ids == encode_response(tok, REFERENCE)  # ids unchanged by the mask
    assert len(pair.marker_mask) == len(pair.response_ids) == 12
    # B|isc|uit| loved| it|.| Che|ers| from| Oslo|!|<|im_end|>
    assert pair.marker_mask == [True, True, True, False, False, False, False, False, False,
                                True, False, False]
    assert pair.response_ids[-1] == tok.eos_token_id and not pair.marker_mask[-1]
    assert "".join(masked_tokens(tok, pair)) == "Biscuit Oslo"
    assert encode_pair(tok, "product_review", "Review this.", None, REFERENCE).marker_mask is None


def test_marker_mask_needs_whole_words_and_ignores_case(bundled_tokenizer):
    tok = bundled_tokenizer
    pair = encode_pair(tok, "product_review", "q", None, "biscuits and BISCUIT here",
                       markers=["Biscuit"])
    assert "".join(masked_tokens(tok, pair)).strip() == "BISCUIT"  # "biscuits" is another word
    none = encode_pair(tok, "product_review", "q", None, REFERENCE, markers=[])
    assert none.marker_mask == [False] * len(none.response_ids)  # known: no marker tokens


def test_encode_record_reads_the_records_markers(bundled_tokenizer):
    tok = bundled_tokenizer
    kw = dict(id="r", task="product_review", user_id="u", query="Review this.",
              reference=REFERENCE, profile=["My dog Biscuit, from Oslo."])
    with_markers = encode_record(tok, Record(**kw, meta={"markers": ["Oslo"],
                                                         "user_markers": ["Oslo", "Biscuit"]}))
    assert sum(with_markers.marker_mask) == 1
    assert masked_tokens(tok, with_markers) == [" Oslo"]
    assert encode_record(tok, Record(**kw)).marker_mask is None  # non-demo data: no mask


def test_a_truncated_response_keeps_its_mask_aligned(bundled_tokenizer):
    tok = bundled_tokenizer
    prompt = encode_prompt(tok, build_messages("product_review", "", None))
    full = encode_pair(tok, "product_review", "", None, REFERENCE, markers=["Biscuit", "Oslo"])
    cut = encode_pair(tok, "product_review", "", None, REFERENCE, markers=["Biscuit", "Oslo"],
                      max_length=len(prompt) + 4)
    assert cut.truncated["response"] == 8
    assert cut.response_ids == full.response_ids[:4]
    assert cut.marker_mask == [True, True, True, False]


# --------------------------------------------------------------------------- batches

def test_collated_marker_mask_is_aligned_with_shift_labels():
    a = EncodedPair(with_ids=[1, 2, 3, 5, 6, 7], without_ids=[1, 5, 6, 7], response_ids=[5, 6, 7],
                    marker_mask=[False, True, False])
    b = EncodedPair(with_ids=[1, 2, 8, 9, 10, 11, 12], without_ids=[1, 8, 9, 10, 11, 12],
                    response_ids=[8, 9, 10, 11, 12])  # no markers known: all False
    batch = PairCollator(0)([a, b])
    labels = batch["shift_labels"]
    assert labels.tolist() == [[IGNORE_INDEX, IGNORE_INDEX, 5, 6, 7], [8, 9, 10, 11, 12]]
    assert batch["marker_mask"].dtype == torch.bool
    assert batch["marker_mask"].tolist() == [[False, False, False, True, False], [False] * 5]
    assert labels[batch["marker_mask"]].tolist() == [6]
    plain = collate_pairs([b, b], 0)
    assert set(batch) - set(plain) == {"marker_mask"}  # nothing else changes


def test_a_mask_of_the_wrong_length_is_an_error():
    bad = EncodedPair(with_ids=[1, 5], without_ids=[5], response_ids=[5], marker_mask=[True, False])
    with pytest.raises(ValueError, match="marker_mask has 2 entries for 1 response ids"):
        collate_pairs([bad], 0)


# --------------------------------------------------------------------------- log statistics

def test_step_stats_marker_means_over_a_window():
    stats = _StepStats()
    clip = (0.0, 5.0)
    # step 1: PIR 2, 0.5, 0 on three response tokens; the 4th position is padding and must not
    # count even though its marker flag is set
    stats.add(torch.tensor([[-1.0, -2.0, -3.0, 0.0]]),
              torch.tensor([[2.0, 0.5, 0.8, 0.0]]),
              torch.tensor([[True, True, True, False]]), clip,
              torch.tensor([[-3.0, -2.5, -3.0, 0.0]]), tokens=10,
              marker_mask=torch.tensor([[True, False, False, True]]))
    # step 2: PIR 1, 0.5
    stats.add(torch.tensor([[-1.0, -1.0]]), torch.tensor([[1.5, 1.0]]),
              torch.tensor([[True, True]]), clip, torch.tensor([[-2.0, -1.5]]), tokens=4,
              marker_mask=torch.tensor([[True, False]]))
    out = stats.flush()
    assert out["n_marker_tokens"] == 2 and out["response_tokens"] == 5
    assert out["pir_marker_mean"] == pytest.approx((2 + 1) / 2)
    assert out["pir_other_mean"] == pytest.approx((0.5 + 0 + 0.5) / 3)
    assert out["weight_marker_mean"] == pytest.approx((2 + 1.5) / 2)
    assert out["weight_other_mean"] == pytest.approx((0.5 + 0.8 + 1.0) / 3)
    assert out["pir_mean"] == pytest.approx(4 / 5) and out["weight_mean"] == pytest.approx(5.8 / 5)


def test_step_stats_leave_out_means_without_tokens_behind_them():
    stats = _StepStats()
    one = torch.ones(1, 3)
    mask = torch.ones(1, 3, dtype=torch.bool)
    stats.add(-one, one, mask, (0.0, 5.0), None, tokens=3)  # no mask in the batch
    assert not {k for k in stats.flush() if "marker" in k or "other" in k}
    stats.add(-one, one, mask, (0.0, 5.0), None, tokens=3,
              marker_mask=torch.tensor([[False, True, False]]))  # no PIR measured (plain CE)
    out = stats.flush()
    assert out["n_marker_tokens"] == 1
    assert out["weight_marker_mean"] == out["weight_other_mean"] == 1.0
    assert "pir_marker_mean" not in out and "pir_other_mean" not in out
    stats.add(-one, one, mask, (0.0, 5.0), -2 * one, tokens=3,
              marker_mask=torch.zeros(1, 3, dtype=torch.bool))  # no marker tokens
    out = stats.flush()
    assert out["n_marker_tokens"] == 0 and out["pir_other_mean"] == pytest.approx(1.0)
    assert "pir_marker_mean" not in out and "weight_marker_mean" not in out


# --------------------------------------------------------------------------- training

def marker_records(n: int = 4) -> list[Record]:
    users = [("Biscuit", "Leeds", "Honestly,"), ("Pepper", "Oslo", "Frankly,")]
    out = []
    for i in range(n):
        pet, town, opener = users[i % 2]
        reference = f"{opener} item {i} is great; {pet} loves it here in {town}." + " Yes." * i
        out.append(Record(
            id=f"r{i}", task="product_review", user_id=pet, query=f"Review item number {i}.",
            reference=reference,
            profile=[f"{opener} my dog {pet} and I live in {town}.",
                     f"{opener} {pet} chewed the last one, {town} weather again."],
            meta={"markers": find_markers(reference, [pet, town, opener]),
                  "user_markers": [pet, town, opener]}))
    return out


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return prepare_model("tiny", TINY, tmp_path_factory.mktemp("m") / "tiny", seed=0)


class KeepLogs(TrainerCallback):
    def __init__(self):
        self.logs = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.append(dict(logs or {}))


def one_step(tiny_dir, tmp_path, pairs, method: str, track_pir: bool):
    """One SGD step (lr 1) on all pairs: the parameter change (= grad) and the step's log."""
    model, tok = load_prepared(tiny_dir, device="cpu")
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    args = PerCEConfig(
        output_dir=str(tmp_path), per_device_train_batch_size=len(pairs), learning_rate=1.0,
        optim="sgd", max_steps=1, lr_scheduler_type="constant", max_grad_norm=0.0,
        weight_decay=0.0, use_cpu=True, report_to="none", save_strategy="no", seed=0,
        logging_steps=1, disable_tqdm=True, weighting=method, track_pir=track_pir)
    logs = KeepLogs()
    trainer = PerCETrainer(model=model, args=args, train_dataset=pairs,
                           data_collator=PairCollator(tok.pad_token_id), callbacks=[logs])
    trainer.train()
    step_log = next(r for r in logs.logs if "loss" in r)
    return {k: before[k] - v.detach() for k, v in model.named_parameters()}, step_log


@pytest.mark.parametrize("method", ["ce", "lossce", "entce"])
def test_track_pir_logs_pir_and_leaves_the_step_bit_identical(tiny_dir, tmp_path, method):
    model, tok = load_prepared(tiny_dir, device="cpu")
    pairs = [encode_record(tok, r) for r in marker_records(4)]
    n_marker = sum(sum(p.marker_mask) for p in pairs)
    # "Honestly," + " Biscuit" + " Leeds" = 4 + 3 + 1 tokens, "Frankly," + " Pepper" + " Oslo" = 5
    assert n_marker == 8 + 5 + 8 + 5

    off_grad, off_log = one_step(tiny_dir, tmp_path / "off", pairs, method, track_pir=False)
    on_grad, on_log = one_step(tiny_dir, tmp_path / "on", pairs, method, track_pir=True)
    assert on_log["loss"] == off_log["loss"]
    for name in off_grad:
        assert torch.equal(on_grad[name], off_grad[name]), name
    assert any(g.abs().sum() > 0 for g in off_grad.values())

    assert on_log["n_marker_tokens"] == off_log["n_marker_tokens"] == n_marker
    assert "pir_mean" not in off_log and "pir_marker_mean" not in off_log
    for key in ("weight_marker_mean", "weight_other_mean"):
        assert on_log[key] == off_log[key]
    # PIR of the initial weights, scored independently by the benchmark's path
    pir = torch.cat(pir_batch(model, pairs, tok.pad_token_id))
    marks = torch.tensor([m for p in pairs for m in p.marker_mask])
    assert on_log["pir_marker_mean"] == pytest.approx(float(pir[marks].mean()), abs=1e-4)
    assert on_log["pir_other_mean"] == pytest.approx(float(pir[~marks].mean()), abs=1e-4)
    assert on_log["pir_mean"] == pytest.approx(float(pir.mean()), abs=1e-4)


def test_ce_weights_are_one_on_marker_and_other_tokens(tiny_dir, tmp_path):
    _, tok = load_prepared(tiny_dir, device="cpu")
    pairs = [encode_record(tok, r) for r in marker_records(2)]
    _, log = one_step(tiny_dir, tmp_path, pairs, "ce", track_pir=False)
    assert log["weight_marker_mean"] == log["weight_other_mean"] == 1.0


@pytest.mark.parametrize("track_pir", [None, False])
def test_run_training_tracks_pir_unless_switched_off(tiny_dir, tmp_path, track_pir):
    training = {"epochs": 1, "max_steps": 2, "per_device_batch_size": 2, "max_length": 256,
                "warmup_ratio": 0.0, "save_steps": 50, "logging_steps": 1, "precision": "fp32"}
    if track_pir is not None:
        training["track_pir"] = track_pir
    out = tmp_path / "run"
    run_training(tiny_dir, marker_records(4), out, method="ce", lr=1e-3, clip=(0.8, 5.0),
                 training=training, batch_size=2, seed=0)
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "loss" in r]
    assert len(rows) == 2 and sum(r["n_marker_tokens"] for r in rows) == 8 + 5 + 8 + 5
    assert all(("pir_marker_mean" in r) == (track_pir is None) for r in rows)


# --------------------------------------------------------------------------- figure

def estep_rows(method: str, steps: int = 5, *, markers: bool = True) -> list[dict]:
    perce = method == "perce"
    rows = []
    for s in range(1, steps + 1):
        row = {"step": s, "loss": 3.0 - 0.2 * s, "weight_mean": 1.0}
        if markers:
            row.update(n_marker_tokens=40, pir_marker_mean=0.5 + 0.4 * s,
                       pir_other_mean=0.1 + 0.02 * s,
                       weight_marker_mean=min(0.8 + 0.5 * s, 5.0) if perce else 1.0,
                       weight_other_mean=0.9 if perce else 1.0)
        rows.append(row)
    return rows + [{"step": steps, "train_loss": 2.1}]



def test_estep_markers_draws_each_facet(tmp_path, no_data_calls):
    logs = {"Tiny": {task: {"ce": estep_rows("ce"), "perce": estep_rows("perce"),
                            "lossce": estep_rows("lossce", markers=False), "entce": None}
                     for task in ("PR", "TW")}}
    path = tmp_path / "estep.png"
    training_figures.estep_markers(logs, path, clip=(0.8, 5.0))
    width, height = assert_png(path)
    assert height > 0.6 * width  # two facet rows of two panels
    assert no_data_calls == []
    training_figures.estep_markers({"perce": estep_rows("perce")}, tmp_path / "flat.png",
                                   title="")
    assert_png(tmp_path / "flat.png")
    assert no_data_calls == []


def test_estep_markers_without_data_says_so(tmp_path, no_data_calls):
    training_figures.estep_markers({}, tmp_path / "empty.png")
    assert_png(tmp_path / "empty.png")
    assert no_data_calls == [figure_style.NO_DATA] * 2
    no_data_calls.clear()
    training_figures.estep_markers(
        {"M": {"PR": {"ce": estep_rows("ce", markers=False), "perce": []}}},
        tmp_path / "nomarkers.png")
    assert_png(tmp_path / "nomarkers.png")
    assert no_data_calls == [figure_style.NO_DATA] * 2
