# The cost claim as a DAG job: PerCE's extra grad-free forward per training step, measured.


rule bench_step:
    """CE vs PerCE training-step time on identical batches, one process per method (bench_step.py)."""
    input:
        model=lambda wc: model_dir(config["bench"]["model"]),
    output:
        layout.pattern("bench_step"),
    log:
        "logs/bench_step.log",
    benchmark:
        "benchmarks/bench_step.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: bench_threads()
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=uses_gpu(),
    params:
        bench=lambda wc: config["bench"],
        cpu="--cpu" if config.get("device") == "cpu" else "",
        seed=config["seed"],
    message:
        "Benchmarking the training step of CE and PerCE on {params.bench[model]}"
    shell:
        'python "$PERCONTRAST_SCRIPTS/bench_step.py" --model {params.bench[model]} '
        "--model-dir {input.model:q} --methods ce perce --steps {params.bench[steps]} "
        "--warmup {params.bench[warmup]} --repeats {params.bench[repeats]} "
        "--profile-entries {params.bench[profile_entries]} --max-length {params.bench[max_length]} "
        "--threads {threads} {params.cpu} --seed {params.seed} --out {output} > {log} 2>&1"
