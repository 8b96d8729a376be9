# Synthetic persona-QA set (paper appendix A): demo set offline, LLM-generated from SPC personas.


rule persona_qa:
    """Persona-QA pairs with gold personal keywords, input of the PIR benchmark."""
    input:
        llm_models(config.get("persona_qa", {}).get("generator")),
    output:
        layout.pattern("persona_qa"),
    log:
        "logs/persona_qa.log",
    conda:
        "../../envs/cpu.yaml"
    threads: model_threads()
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        spec=as_json(config.get("persona_qa", {})),
        llm=llm_entries(config.get("persona_qa", {}).get("generator")),
        seed=config["seed"],
    message:
        "Building the persona-QA set ({params.spec})"
    shell:
        "percontrast persona_qa --spec {params.spec:q} --llm {params.llm:q} "
        "--seed {params.seed} --out {output} > {log} 2>&1"
