# Evaluation: generation from each checkpoint, LongLaMP/LaMP metrics, QA EM/F1, ALOE, LLM judge.


rule generate:
    """Sample responses from a trained checkpoint on an evaluation task's test split."""
    input:
        unpack(eval_inputs),
    output:
        "results/generations/{model}/{task}/{method}/{run}/{eval_task}.jsonl",
    params:
        script=script("generate"),
        generation=as_json(config["generation"]),
        chat=lambda wc: as_json(model_spec(wc.model).get("chat_template_kwargs", {})),
        seed=config["seed"],
    log:
        "logs/generate/{model}/{task}/{method}/{run}/{eval_task}.log",
    message:
        "Generating {wildcards.eval_task} with {wildcards.model}/{wildcards.task}/{wildcards.method}/{wildcards.run}"
    conda:
        "../../envs/gpu.yaml"
    threads: 2
    resources:
        mem_mb=16000,
        runtime=240,
        gpu=uses_gpu(),
    shell:
        "python {params.script} --checkpoint results/train/{wildcards.model}/{wildcards.task}/"
        "{wildcards.method}/{wildcards.run} --data {input.data} --generation {params.generation:q} "
        "--chat-template-kwargs {params.chat:q} --seed {params.seed} --threads {threads} "
        "--out {output} > {log} 2>&1"


rule score:
    """ROUGE-L + METEOR (LongLaMP, LaMP, dialogue) or EM/F1 (HotpotQA, DROP) of one generation file."""
    input:
        generations="results/generations/{model}/{task}/{method}/{run}/{eval_task}.jsonl",
        data=lambda wc: processed(wc.eval_task, "test"),
    output:
        "results/metrics/{model}/{task}/{method}/{run}/{eval_task}.json",
    params:
        script=script("score"),
        info=lambda wc: as_json({"model": wc.model, "train_task": wc.task, "method": wc.method,
                                 "run": wc.run, "eval_task": wc.eval_task}),
        config_hash=CONFIG_HASH,
        seed=config["seed"],
    log:
        "logs/score/{model}/{task}/{method}/{run}/{eval_task}.log",
    message:
        "Scoring {wildcards.eval_task} generations of {wildcards.model}/{wildcards.task}/{wildcards.method}/{wildcards.run}"
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "python {params.script} --generations {input.generations} --data {input.data} "
        "--run-info {params.info:q} --config-hash {params.config_hash} --seed {params.seed} "
        "--out {output} > {log} 2>&1"


rule aloe:
    """ALOE: a simulated user talks with the checkpoint for k rounds; a judge scores each turn 1-5."""
    input:
        done="results/train/{model}/{task}/{method}/{run}/done.json",
        conversations="data/processed/aloe/conversations.jsonl",
        llms=llm_models(
            config["evaluation"].get("aloe", {}).get("user_simulator"),
            config["evaluation"].get("aloe", {}).get("judge"),
        ),
    output:
        "results/aloe/{model}/{task}/{method}/{run}/scores.json",
    params:
        script=script("aloe"),
        aloe=as_json(config["evaluation"].get("aloe", {})),
        llm=as_json(config.get("llm", {})),
        config_hash=CONFIG_HASH,
        seed=config["seed"],
    log:
        "logs/aloe/{model}/{task}/{method}/{run}.log",
    message:
        "ALOE conversations with {wildcards.model}/{wildcards.task}/{wildcards.method}/{wildcards.run}"
    conda:
        "../../envs/gpu.yaml"
    threads: 2
    resources:
        mem_mb=16000,
        runtime=480,
        gpu=uses_gpu(),
    shell:
        "python {params.script} --checkpoint results/train/{wildcards.model}/{wildcards.task}/"
        "{wildcards.method}/{wildcards.run} --conversations {input.conversations} "
        "--aloe {params.aloe:q} --llm {params.llm:q} --config-hash {params.config_hash} "
        "--seed {params.seed} --out {output} > {log} 2>&1"


rule llm_judge:
    """Personalization and quality scores (G-Eval, appendix D.1) of a checkpoint's own-task generations."""
    input:
        generations="results/generations/{model}/{task}/{method}/{run}/{task}.jsonl",
        llms=llm_models(config["evaluation"].get("llm_judge", {}).get("judge")),
    output:
        "results/judge/{model}/{task}/{method}/{run}.json",
    params:
        script=script("llm_judge"),
        judge=as_json(config["evaluation"].get("llm_judge", {})),
        llm=as_json(config.get("llm", {})),
        config_hash=CONFIG_HASH,
        seed=config["seed"],
    log:
        "logs/llm_judge/{model}/{task}/{method}/{run}.log",
    message:
        "LLM-as-judge on {wildcards.model}/{wildcards.task}/{wildcards.method}/{wildcards.run}"
    conda:
        "../../envs/gpu.yaml"
    threads: 2
    resources:
        mem_mb=16000,
        runtime=240,
        gpu=uses_gpu(),
    shell:
        "python {params.script} --generations {input.generations} --judge {params.judge:q} "
        "--llm {params.llm:q} --config-hash {params.config_hash} --seed {params.seed} "
        "--out {output} > {log} 2>&1"
