# Tables (CSV, Markdown, LaTeX), figures, results/index.md; all wrapped in report() for --report.


rule tables:
    """Every paper table the config covers, rendered from results/ only (never typed in)."""
    input:
        metrics=metrics_inputs(),
        pir=pir_inputs(),
        aloe=aloe_inputs(),
        judge=judge_inputs(),
        data=[processed(t, "test") for t in config["tasks"]],
        models=[model_dir(m) for m in config["models"]],
    output:
        report(
            expand("results/tables/{table}.{ext}", table=TABLE_FILES, ext=("csv", "md", "tex")),
            category="Tables",
            caption="../report/tables.rst",
        ),
    params:
        script=script("make_tables"),
        config=as_json(config),
    log:
        "logs/tables.log",
    message:
        "Rendering tables"
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "python {params.script} --config {params.config:q} --out results/tables > {log} 2>&1"


rule claims:
    """results/claims.md: each headline claim, the paper's number, ours with its CI, a verdict."""
    input:
        metrics=metrics_inputs(),
        pir=pir_inputs(),
        aloe=aloe_inputs(),
    output:
        md=report("results/claims.md", category="Claims", caption="../report/claims.rst"),
        json="results/claims.json",
    params:
        script=script("make_claims"),
        config=as_json(config),
    log:
        "logs/claims.log",
    message:
        "Computing the claims verdicts"
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "python {params.script} --config {params.config:q} --out {output.md} "
        "--json {output.json} > {log} 2>&1"


rule figures:
    """Training curves, LR robustness (table 2 as a plot), cross-task heat-maps, ALOE by round."""
    input:
        metrics=metrics_inputs(),
        train=train_logs(),
        aloe=aloe_inputs(),
    output:
        [
            report(
                f"results/figures/{figure}.png",
                category="Figures",
                subcategory="Training and transfer",
                caption=f"../report/{figure}.rst",
            )
            for figure in FIGURES
        ],
    params:
        script=script("make_figures"),
        config=as_json(config),
    log:
        "logs/figures.log",
    message:
        "Drawing figures"
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "python {params.script} --config {params.config:q} --out results/figures > {log} 2>&1"


rule index:
    """results/index.md: one line per table and figure, with the command that regenerates it."""
    input:
        claims=rules.claims.output.md,
        tables=expand("results/tables/{table}.md", table=TABLE_FILES),
        figures=expand("results/figures/{figure}.png", figure=PIR_FIGURES + FIGURES),
    output:
        "results/index.md",
    params:
        script=script("make_index"),
        config=as_json(config),
        configfile=CONFIGFILE or "config.yaml",
    log:
        "logs/index.log",
    message:
        "Writing results/index.md"
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "python {params.script} --config {params.config:q} --configfile {params.configfile:q} "
        "--claims {input.claims} --tables {input.tables} --figures {input.figures} --out {output} > {log} 2>&1"
