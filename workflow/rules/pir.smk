# PIR token-classification benchmark (paper appendix A, figures 4 and 5).
from percontrast.precision import planned as planned_precision


rule pir_benchmark:
    """PerContrast vs word matching vs LLM-as-judge on persona-QA personal-token identification."""
    input:
        model=lambda wc: model_dir(wc.model),
        data=rules.persona_qa.output[0],
        judge=llm_models(config["pir"].get("judge")),
    output:
        scores=layout.pattern("pir_scores"),
        classification=layout.pattern("pir_classification"),
    log:
        "logs/pir_benchmark/{model}.log",
    benchmark:
        "benchmarks/pir_benchmark/{model}.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: model_threads()
    resources:
        mem_mb=16000,
        runtime=240,
        gpu=uses_gpu(),
    params:
        out=lambda wc, output: os.path.dirname(output.scores),
        threshold=config["pir"]["threshold"],
        counterfactual=config["pir"]["counterfactual"],
        variants=" ".join(config["pir"]["variants"]),
        dev_fraction=config["pir"]["dev_fraction"],
        precision=lambda wc: planned_precision(config["pir"].get("precision"), config.get("device")),
        boot=" ".join(
            f"--{k.replace('_', '-')} {v}"
            for k, v in config.get("report", {}).get("bootstrap", {}).items()
            if k in ("n_resamples", "confidence")
        ),
        seed=config["seed"],
        judge=lambda wc: as_json(config.get("llm", {}).get(config["pir"].get("judge"), {})),
    message:
        "PIR benchmark with {wildcards.model} (threshold {params.threshold}, counterfactuals {params.variants})"
    shell:
        "percontrast pir_benchmark --model {input.model} --data {input.data} "
        "--threshold {params.threshold} --counterfactual {params.counterfactual} "
        "--variants {params.variants} --dev-fraction {params.dev_fraction} --seed {params.seed} {params.boot} "
        "--precision {params.precision} "
        "--judge {params.judge:q} --threads {threads} "
        "--out {params.out:q} > {log} 2>&1"


rule pir_figures:
    """Figure 4 (P/R/F1 per method), figure 5 (PIR histogram) and the figure-2 token heat-map."""
    input:
        expand(rules.pir_benchmark.output, model=config["pir"]["models"]),
    output:
        report(
            expand(layout.pattern("figure"), figure=PIR_FIGURES),
            category="PIR benchmark",
            caption="../report/pir_figures.rst",
        ),
    log:
        "logs/pir_figures.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        pir=expand(layout.pattern("pir_dir"), model=config["pir"]["models"]),
        out=lambda wc, output: os.path.dirname(output[0]),
    message:
        "Drawing the PIR benchmark figures"
    shell:
        "percontrast pir_figures --pir {params.pir:q} --out {params.out:q} > {log} 2>&1"
