# Evaluation: generation from each checkpoint, LongLaMP/LaMP metrics, QA EM/F1, ALOE, LLM judge.

# what one ALOE / judge job computes with: its section without the keys that pick the runs
# (plan.EVALUATION_SELECTION_KEYS) and the llm entries it names (see llm_entries)
ALOE_SPEC = job_spec(config["evaluation"].get("aloe", {}), *plan.EVALUATION_SELECTION_KEYS)
JUDGE_SPEC = job_spec(config["evaluation"].get("llm_judge", {}), *plan.EVALUATION_SELECTION_KEYS)


rule generate:
    """Sample responses from a trained checkpoint on an evaluation task's test split."""
    input:
        done=rules.train.output.done,
        data=lambda wc: processed(wc.eval_task, "test"),
    output:
        layout.pattern("generations"),
    log:
        "logs/generate/{model}/{task}/{method}/{run}/{eval_task}.log",
    benchmark:
        "benchmarks/generate/{model}/{task}/{method}/{run}/{eval_task}.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: model_threads()
    resources:
        mem_mb=16000,
        runtime=240,
        gpu=uses_gpu(),
    params:
        checkpoint=lambda wc, input: os.path.dirname(input.done),
        generation=lambda wc: as_json(plan.evaluation_generation(config, run_of(wc), wc.eval_task)),
        max_prompt=config["generation"].get("max_prompt_tokens", config["training"]["max_length"]),
        limit=eval_limit,
        chat=chat_kwargs,
        seed=config["seed"],
        device=config["device"],
    message:
        "Generating {wildcards.eval_task} with {wildcards.model}/{wildcards.task}/{wildcards.method}/{wildcards.run}"
    shell:
        "percontrast generate --checkpoint {params.checkpoint:q} --data {input.data:q} "
        "--generation {params.generation:q} "
        "--max-prompt-tokens {params.max_prompt} --limit {params.limit} "
        "--chat-template-kwargs {params.chat:q} --seed {params.seed} --threads {threads} "
        "--device {params.device} --out {output} > {log} 2>&1"


rule score:
    """ROUGE-L + METEOR (LongLaMP, LaMP, dialogue) or EM/F1 (HotpotQA, DROP) of one generation file."""
    input:
        generations=rules.generate.output[0],
        data=lambda wc: processed(wc.eval_task, "test"),
    output:
        layout.pattern("metrics"),
    log:
        "logs/score/{model}/{task}/{method}/{run}/{eval_task}.log",
    benchmark:
        "benchmarks/score/{model}/{task}/{method}/{run}/{eval_task}.tsv"
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        info=lambda wc: run_info(wc, eval_task=wc.eval_task),
        limit=eval_limit,
        config_hash=lambda wc: spec_hash(plan.evaluation_spec(config, run_of(wc), wc.eval_task)),
        seed=lambda wc: plan.run_seed(config, run_of(wc)),
    message:
        "Scoring {wildcards.eval_task} generations of {wildcards.model}/{wildcards.task}/{wildcards.method}/{wildcards.run}"
    shell:
        "percontrast score --generations {input.generations} --data {input.data} "
        "--run-info {params.info:q} --config-hash {params.config_hash} --seed {params.seed} "
        "--limit {params.limit} --out {output} > {log} 2>&1"


rule aloe:
    """ALOE: a simulated user talks with the checkpoint for k rounds; a judge scores each turn 1-5."""
    input:
        done=rules.train.output.done,
        conversations=rules.aloe_conversations.output[0],
        llms=llm_models(
            config["evaluation"].get("aloe", {}).get("user_simulator"),
            config["evaluation"].get("aloe", {}).get("judge"),
        ),
    output:
        scores=layout.pattern("aloe_scores"),
        transcripts=layout.pattern("aloe_transcripts"),
    log:
        "logs/aloe/{model}/{task}/{method}/{run}.log",
    benchmark:
        "benchmarks/aloe/{model}/{task}/{method}/{run}.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: model_threads()
    resources:
        mem_mb=16000,
        runtime=480,
        gpu=uses_gpu(),
    params:
        checkpoint=lambda wc, input: os.path.dirname(input.done),
        aloe=ALOE_SPEC,
        llm=llm_entries(
            config["evaluation"].get("aloe", {}).get("user_simulator"),
            config["evaluation"].get("aloe", {}).get("judge"),
        ),
        generation=as_json(config["generation"]),
        chat=chat_kwargs,
        info=lambda wc: run_info(wc),
        config_hash=lambda wc: spec_hash(
            plan.evaluation_spec(config, run_of(wc), wc.task), ALOE_SPEC
        ),
        seed=config["seed"],
    message:
        "ALOE conversations with {wildcards.model}/{wildcards.task}/{wildcards.method}/{wildcards.run}"
    shell:
        "percontrast aloe --checkpoint {params.checkpoint:q} "
        "--conversations {input.conversations:q} "
        "--aloe {params.aloe:q} --llm {params.llm:q} --generation {params.generation:q} "
        "--chat-template-kwargs {params.chat:q} --run-info {params.info:q} "
        "--config-hash {params.config_hash} --seed {params.seed} --threads {threads} "
        "--out {output.scores} --transcripts {output.transcripts} > {log} 2>&1"


rule llm_judge:
    """Personalization and quality scores (G-Eval, appendix D.1) of a checkpoint's own-task generations."""
    input:
        generations=lambda wc: str(layout.path("generations", run_of(wc), eval_task=wc.task)),
        data=lambda wc: processed(wc.task, "test"),
        llms=llm_models(config["evaluation"].get("llm_judge", {}).get("judge")),
    output:
        summary=layout.pattern("judge"),
        per_item=layout.pattern("judge_items"),
    log:
        "logs/llm_judge/{model}/{task}/{method}/{run}.log",
    benchmark:
        "benchmarks/llm_judge/{model}/{task}/{method}/{run}.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: model_threads()
    resources:
        mem_mb=16000,
        runtime=240,
        gpu=uses_gpu(),
    params:
        judge=JUDGE_SPEC,
        llm=llm_entries(config["evaluation"].get("llm_judge", {}).get("judge")),
        info=lambda wc: run_info(wc),
        config_hash=lambda wc: spec_hash(
            plan.evaluation_spec(config, run_of(wc), wc.task), JUDGE_SPEC
        ),
        seed=config["seed"],
    message:
        "LLM-as-judge on {wildcards.model}/{wildcards.task}/{wildcards.method}/{wildcards.run}"
    shell:
        "percontrast llm_judge --generations {input.generations} --data {input.data} "
        "--judge {params.judge:q} --llm {params.llm:q} --run-info {params.info:q} "
        "--config-hash {params.config_hash} --seed {params.seed} --threads {threads} "
        "--out {output.summary} --items {output.per_item} > {log} 2>&1"
