# Fine-tuning with CE / LossCE / EntCE / PerCE (percontrast.training.PerCETrainer).


rule train:
    """One run: {model}/{task}/{method}/lr{lr}_clip{min}-{max}; resumes from its last checkpoint."""
    input:
        model=lambda wc: model_dir(wc.model),
        data=lambda wc: processed(wc.task, "train"),
    output:
        done=layout.pattern("run_done"),
    log:
        "logs/train/{model}/{task}/{method}/{run}.log",
    benchmark:
        "benchmarks/train/{model}/{task}/{method}/{run}.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: model_threads()
    resources:
        mem_mb=16000,
        runtime=720,
        gpu=uses_gpu(),
    params:
        launcher=lambda wc, resources: launcher(resources.gpu),
        run_dir=lambda wc, output: os.path.dirname(output.done),
        training=lambda wc: as_json(plan.run_training_spec(config, run_of(wc))),
        batch_size=lambda wc: plan.run_batch_size(config, run_of(wc)),
        chat=chat_kwargs,
        seed=lambda wc: plan.run_seed(config, run_of(wc)),
    message:
        "Training {wildcards.model} on {wildcards.task} with {wildcards.method} ({wildcards.run})"
    shell:
        "{params.launcher} train --model {input.model} --data {input.data} "
        "--method {wildcards.method} --run {wildcards.run} --training {params.training:q} "
        "--batch-size {params.batch_size} --chat-template-kwargs {params.chat:q} "
        "--seed {params.seed} --threads {threads} --out {params.run_dir} > {log} 2>&1"
