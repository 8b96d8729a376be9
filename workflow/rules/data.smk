# Data stage: models pinned once, tasks loaded + sampled, profiles retrieved, ALOE conversations.


rule prepare_model:
    """Materialise a registry model once: GGUF -> safetensors, tiny -> random init, hub -> pinned commit."""
    input:
        lambda wc: local_model_folder(wc.model),
    output:
        directory(layout.pattern("model")),
    log:
        "logs/prepare_model/{model}.log",
    benchmark:
        "benchmarks/prepare_model/{model}.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        spec=lambda wc: model_job_spec(wc.model),
        seed=config["seed"],
    message:
        "Preparing model {wildcards.model}"
    shell:
        "percontrast prepare_model --name {wildcards.model} --spec {params.spec:q} "
        "--seed {params.seed} --out {output} > {log} 2>&1"


rule load_task:
    """Load a task from its source (its loader: percontrast.data.registry) and sample n records."""
    input:
        task_files,
    output:
        layout.pattern("interim"),
    log:
        "logs/load_task/{task}_{split}.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        spec=task_job_spec,
        n=lambda wc: plan.task_data(config, wc.task)["n_train" if wc.split == "train" else "n_test"],
        seed=config["seed"],
    message:
        "Loading and sampling {wildcards.task} ({wildcards.split})"
    shell:
        "percontrast load_task --task {wildcards.task} --spec {params.spec:q} "
        "--split {wildcards.split} --n {params.n} --seed {params.seed} --out {output} > {log} 2>&1"


rule retrieve:
    """Keep each record's top-k profile entries for its query (BM25 or a dense retriever)."""
    input:
        rules.load_task.output[0],
    output:
        layout.pattern("processed"),
    log:
        "logs/retrieve/{task}_{split}.log",
    conda:
        "../../envs/cpu.yaml"
    threads: model_threads()
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        k=lambda wc: plan.task_data(config, wc.task)["top_k"],
        retriever=config["data"]["retriever"],
    message:
        "Retrieving top-{params.k} profile entries for {wildcards.task} ({wildcards.split}) with {params.retriever}"
    shell:
        "percontrast retrieve --input {input} --k {params.k} "
        "--retriever {params.retriever:q} --out {output} > {log} 2>&1"


rule aloe_conversations:
    """The ALOE benchmark's profile x personality pairs (or their demo stand-ins)."""
    input:
        aloe_files(),
    output:
        layout.pattern("aloe_conversations"),
    log:
        "logs/aloe_conversations.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        spec=aloe_job_spec(),
        seed=config["seed"],
    message:
        "Preparing ALOE conversations"
    shell:
        "percontrast aloe_conversations --spec {params.spec:q} --seed {params.seed} "
        "--out {output} > {log} 2>&1"
