"""ALOE conversations with one checkpoint: simulated user, evaluated model, judge (rule aloe)."""

import argparse

from percontrast import layout
from percontrast.cli import json_arg, seed_everything, set_threads, setup
from percontrast.io import read_jsonl, write_json, write_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", required=True,
                        help="a training run folder (uses its model/) or a prepared model folder")
    parser.add_argument("--conversations", required=True,
                        help="ALOE profile x personality pairs (JSONL, rule aloe_conversations)")
    parser.add_argument("--aloe", type=json_arg, required=True, help="evaluation.aloe (JSON)")
    parser.add_argument("--llm", type=json_arg, required=True, help="llm entries (JSON)")
    parser.add_argument("--generation", type=json_arg, required=True,
                        help="generation config (JSON): temperature, max_new_tokens, batch_size")
    parser.add_argument("--chat-template-kwargs", type=json_arg, default={})
    parser.add_argument("--run-info", type=json_arg, default={},
                        help="model / train_task / method / run recorded in the scores file")
    parser.add_argument("--config-hash", default="")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--cache-dir", default=str(layout.path("llm_cache")))
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", required=True, help="scores.json")
    parser.add_argument("--transcripts", required=True, help="conversations with scores (JSONL)")
    args = parser.parse_args()
    log = setup("aloe")
    set_threads(args.threads)
    seed_everything(args.seed)

    from percontrast.aloe import check_conversations, run_aloe
    from percontrast.llm import LLMError
    from percontrast.models import load_prepared

    conversations = read_jsonl(args.conversations)
    check_conversations(conversations, args.conversations)
    model, tokenizer = load_prepared(layout.trained_model(args.checkpoint), device=args.device)
    try:
        transcripts, result = run_aloe(
            conversations, model, tokenizer, args.aloe, args.generation, args.llm,
            seed=args.seed, cache_dir=args.cache_dir, device=args.device,
            chat_template_kwargs=args.chat_template_kwargs,
            on_round=lambda k: log.info("round %d done", k))
    except LLMError as err:  # an unusable simulator or judge: fail the job, write nothing
        raise SystemExit(f"error: {err}") from None
    write_jsonl(args.transcripts, transcripts)
    write_json(args.out, {**args.run_info, "config_hash": args.config_hash, "seed": args.seed,
                          **result})
    log.info("ALOE %s: %s (%d missing judge scores: %d unparsed, %d refused) -> %s",
             args.run_info.get("run", ""), result["summary"], result["missing_scores"],
             result["unparsed_scores"], result["refused_scores"], args.out)
