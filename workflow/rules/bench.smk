# The cost claim as a DAG job: PerCE's extra grad-free forward per training step, measured.
from percontrast.precision import planned as planned_precision


rule bench_step:
    """CE vs PerCE training-step time on identical batches, one process per method (bench_step.py).
    The cost claim reads step times only, so the benchmark's memory pass is off here."""
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
        # one value per setting: a dict param would compare by its key order, so a config
        # rewritten with sorted keys would look changed
        model=lambda wc: config["bench"]["model"],
        steps=lambda wc: config["bench"]["steps"],
        warmup=lambda wc: config["bench"]["warmup"],
        repeats=lambda wc: config["bench"]["repeats"],
        profile_entries=lambda wc: config["bench"]["profile_entries"],
        max_length=lambda wc: config["bench"]["max_length"],
        cpu="--cpu" if config.get("device") == "cpu" else "",
        # the precision the training runs use (training.precision, resolved as they resolve it)
        precision=lambda wc: planned_precision(
            config["training"].get("precision"), config.get("device")
        ),
        seed=config["seed"],
    message:
        "Benchmarking the training step of CE and PerCE on {params.model}"
    shell:
        "percontrast bench_step --model {params.model} "
        "--model-dir {input.model:q} --methods ce perce --steps {params.steps} "
        "--warmup {params.warmup} --repeats {params.repeats} "
        "--profile-entries {params.profile_entries} --max-length {params.max_length} "
        "--threads {threads} {params.cpu} --seed {params.seed} --memory-pass-threshold 0 "
        "--precisions {params.precision} "
        "--out {output} > {log} 2>&1"
