"""Sample responses from a trained checkpoint on an evaluation task's test split (rule generate)."""

import argparse

from percontrast.cli import json_arg, seed_everything, set_threads, setup
from percontrast.config import VLLM_REFUSED, ConfigError, section_defaults
from percontrast.data.records import read_records
from percontrast.generation_file import generation_rows
from percontrast.io import write_jsonl
from percontrast.layout import trained_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", required=True,
                        help="a training run folder (uses its model/) or a prepared model folder")
    parser.add_argument("--data", required=True, help="test records (JSONL)")
    parser.add_argument("--generation", type=json_arg, required=True,
                        help="generation config (JSON): temperature, max_new_tokens, batch_size, "
                        "top_p, cache_implementation")
    parser.add_argument("--chat-template-kwargs", type=json_arg, default={})
    parser.add_argument("--max-prompt-tokens", type=int, default=None,
                        help="fit longer prompts by dropping persona first (as training does)")
    parser.add_argument("--limit", type=int, default=0,
                        help="generate for the first N test records only (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default=None,
                        help="cpu or cuda (default: CUDA when present; bf16 weights where the "
                        "device has native bf16, generation.precision; on CUDA: SDPA attention, "
                        "a static KV cache)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("generate")
    set_threads(args.threads)
    seed_everything(args.seed)

    from percontrast.generation import generate, load_for_generation
    from percontrast.prompts import generation_messages

    if args.generation.get("backend") == "vllm":  # the config check refuses it first; direct
        raise ConfigError(VLLM_REFUSED)  # callers get the same reason
    cfg = section_defaults("generation", args.generation)  # any other backend: the schema's enum
    model, tokenizer, settings = load_for_generation(trained_model(args.checkpoint),
                                                     device=args.device,
                                                     precision=cfg["precision"])
    log.info("generating on %s in %s with %s attention", settings["device"], settings["dtype"],
             settings["attention"])
    records = read_records(args.data)
    records = records[:args.limit] if args.limit > 0 else records
    conversations, cut, over = [], 0, 0
    for r in records:
        messages, truncated = generation_messages(tokenizer, r, args.max_prompt_tokens,
                                                  chat_template_kwargs=args.chat_template_kwargs)
        conversations.append(messages)
        over += "over_budget" in truncated
        cut += bool(truncated) and "over_budget" not in truncated
    if cut:
        log.info("%d of %d prompts shortened to %d tokens (persona first)", cut, len(records),
                 args.max_prompt_tokens)
    if over:
        log.warning("%d of %d prompts exceed %d tokens without persona or query to cut "
                    "(e.g. a QA context); generated from the whole prompt", over, len(records),
                    args.max_prompt_tokens)
    results = generate(model, tokenizer, conversations,
                       temperature=cfg["temperature"], top_p=cfg["top_p"],
                       max_new_tokens=cfg["max_new_tokens"], batch_size=cfg["batch_size"],
                       seed=args.seed, chat_template_kwargs=args.chat_template_kwargs,
                       cache_implementation=cfg.get("cache_implementation", "auto"),
                       progress=True)
    write_jsonl(args.out, generation_rows(records, results, conversations))
    log.info("%d generations (%.1f tokens/s) -> %s", len(results), results.tokens_per_second,
             args.out)
