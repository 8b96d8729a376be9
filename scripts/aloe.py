"""ALOE conversations with one checkpoint: simulated user, evaluated model, judge (rule aloe)."""

import argparse
from pathlib import Path

from percontrast.cli import json_arg, run, seed_everything, set_threads, setup
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
    parser.add_argument("--cache-dir", default="results/llm_cache")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", required=True, help="scores.json")
    parser.add_argument("--transcripts", required=True, help="conversations with scores (JSONL)")
    args = parser.parse_args()
    log = setup("aloe")
    set_threads(args.threads)
    seed_everything(args.seed)

    from percontrast.aloe import run_conversations, summarize
    from percontrast.generation import generate
    from percontrast.llm import LLMError, make_llm
    from percontrast.models import load_prepared

    spec, gen = args.aloe, args.generation
    conversations = read_jsonl(args.conversations)
    for i, conv in enumerate(conversations, start=1):
        for key in ("profile", "personality"):
            if not str(conv.get(key, "")).strip():
                raise SystemExit(f"error: {args.conversations} line {i}: field {key!r} is "
                                 "missing or empty")
    llms = {}
    for role in ("user_simulator", "judge"):
        name = spec[role]
        if name not in llms:
            llms[name] = make_llm(args.llm[name], cache_dir=args.cache_dir, name=name,
                                  device=args.device, batch_size=gen.get("batch_size", 8))
    simulator, judge = llms[spec["user_simulator"]], llms[spec["judge"]]

    folder = Path(args.checkpoint)
    model, tokenizer = load_prepared(folder / "model" if (folder / "model").is_dir() else folder,
                                     device=args.device)
    max_new = spec.get("max_new_tokens", gen["max_new_tokens"])

    def respond(messages, seeds):
        results = generate(model, tokenizer, messages, temperature=gen["temperature"],
                           top_p=gen.get("top_p", 1.0), max_new_tokens=max_new,
                           batch_size=gen.get("batch_size", 8), seed=list(seeds),
                           chat_template_kwargs=args.chat_template_kwargs)
        return [r.text or "..." for r in results]

    rounds = spec.get("rounds", 10)
    try:
        transcripts = run_conversations(
            conversations, respond, simulator, judge, rounds=rounds, seed=args.seed,
            judge_retries=spec.get("judge_retries", 2),
            user_max_new_tokens=spec.get("user_max_new_tokens"),
            judge_max_new_tokens=spec.get("judge_max_new_tokens"),
            on_round=lambda k: log.info("round %d/%d done", k, rounds))
    except LLMError as err:  # an unusable simulator or judge: fail the job, write nothing
        raise SystemExit(f"error: {err}") from None
    result = summarize(transcripts, rounds)
    write_jsonl(args.transcripts, transcripts)
    write_json(args.out, {**args.run_info, "config_hash": args.config_hash, "seed": args.seed,
                          "user_simulator": spec["user_simulator"], "judge": spec["judge"],
                          "judge_model": judge.spec.get("label", judge.spec["model"]),
                          "simulator_model": simulator.spec.get("label",
                                                                simulator.spec["model"]),
                          **result})
    log.info("ALOE %s: %s (%d missing judge scores: %d unparsed, %d refused) -> %s",
             args.run_info.get("run", ""), result["summary"], result["missing_scores"],
             result["unparsed_scores"], result["refused_scores"], args.out)


if __name__ == "__main__":
    run(main)
