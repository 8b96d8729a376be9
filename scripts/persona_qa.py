"""The persona-QA set with gold personal keywords (rule persona_qa, paper appendix A).

``source: demo`` writes the bundled deterministic set; ``source: synthetic`` asks an LLM to write
question / answer / keywords for Synthetic-Persona-Chat personas (appendix D.2 prompt).
"""

import argparse

from percontrast.cli import json_arg, run, setup
from percontrast.io import write_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", type=json_arg, required=True, help="persona_qa config (JSON)")
    parser.add_argument("--llm", type=json_arg, default={}, help="llm entries (JSON)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default="results/llm_cache")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("persona_qa")
    spec = args.spec
    if spec.get("source", "demo") == "demo":
        from percontrast.data.demo import generate_persona_qa

        rows = generate_persona_qa(spec.get("n", 100), args.seed)
    else:
        from percontrast.data.spc import load_spc_personas
        from percontrast.llm import make_llm
        from percontrast.synthetic import build_persona_qa

        name = spec["generator"]
        llm = make_llm(args.llm[name], cache_dir=args.cache_dir, name=name)
        personas = load_spc_personas(spec["spc_csv"])
        rows, outcomes = build_persona_qa(personas, llm, n=spec.get("n", 100), seed=args.seed)
        log.info("LLM replies: %s", outcomes)
        if not rows:
            raise SystemExit(f"error: none of the {sum(outcomes.values())} replies of llm "
                             f"{name!r} was usable: {outcomes}")
    write_jsonl(args.out, rows)
    log.info("%d persona-QA pairs (%s) -> %s", len(rows), spec.get("source", "demo"), args.out)


if __name__ == "__main__":
    run(main)
