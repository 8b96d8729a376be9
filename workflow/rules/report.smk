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
            expand(layout.pattern("table"), table=TABLE_FILES, ext=("csv", "md", "tex")),
            category="Tables",
            caption="../report/tables.rst",
        ),
    log:
        "logs/tables.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        config=REPORT_CONFIG,
        out=lambda wc, output: os.path.dirname(output[0]),
    message:
        "Rendering tables"
    shell:
        "percontrast tables --config {params.config:q} --out {params.out:q} > {log} 2>&1"


rule claims:
    """results/claims.md: each headline claim, the paper's number, ours with its CI, a verdict."""
    input:
        metrics=metrics_inputs(),
        pir=pir_inputs(),
        aloe=aloe_inputs(),
        bench=bench_inputs(),
    output:
        md=report(layout.pattern("claims_md"), category="Claims", caption="../report/claims.rst"),
        json=layout.pattern("claims_json"),
    log:
        "logs/claims.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        config=REPORT_CONFIG,
    message:
        "Computing the claims verdicts"
    shell:
        "percontrast claims --config {params.config:q} --out {output.md} "
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
                layout.pattern("figure").format(figure=figure),
                category="Figures",
                subcategory="Training and transfer",
                caption=f"../report/{artefacts.get(figure).caption}",
            )
            for figure in FIGURES
        ],
    log:
        "logs/figures.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        config=REPORT_CONFIG,
        out=lambda wc, output: os.path.dirname(output[0]),
    message:
        "Drawing figures"
    shell:
        "percontrast figures --config {params.config:q} --out {params.out:q} > {log} 2>&1"


rule index:
    """results/index.md: one line per table and figure, with the command that regenerates it."""
    input:
        claims=rules.claims.output.md,
        tables=expand(layout.pattern("table"), table=TABLE_FILES, ext="md"),
        figures=expand(layout.pattern("figure"), figure=PIR_FIGURES + FIGURES),
    output:
        layout.pattern("index"),
    log:
        "logs/index.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=REPORT_CONFIG,
        configfile=CONFIGFILE or "config.yaml",
    message:
        "Writing results/index.md"
    shell:
        "percontrast index --config {params.config:q} --configfile {params.configfile:q} "
        "--claims {input.claims} --tables {input.tables} --figures {input.figures} --out {output} > {log} 2>&1"
