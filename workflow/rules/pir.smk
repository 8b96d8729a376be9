# PIR token-classification benchmark (paper appendix A, figures 4 and 5).


rule pir_benchmark:
    """PerContrast vs word matching vs LLM-as-judge on persona-QA personal-token identification."""
    input:
        model=lambda wc: model_dir(wc.model),
        data="data/synthetic/persona_qa.jsonl",
        judge=llm_models(config["pir"].get("judge")),
    output:
        scores="results/pir/{model}/scores.jsonl",
        classification="results/pir/{model}/classification.json",
    params:
        script=script("pir_benchmark"),
        threshold=config["pir"]["threshold"],
        judge=lambda wc: as_json(config.get("llm", {}).get(config["pir"].get("judge"), {})),
    log:
        "logs/pir_benchmark/{model}.log",
    message:
        "PIR benchmark with {wildcards.model} (threshold {params.threshold})"
    conda:
        "../../envs/gpu.yaml"
    threads: 2
    resources:
        mem_mb=16000,
        runtime=240,
        gpu=uses_gpu(),
    shell:
        "python {params.script} --model {input.model} --data {input.data} "
        "--threshold {params.threshold} --judge {params.judge:q} "
        "--out results/pir/{wildcards.model} > {log} 2>&1"
