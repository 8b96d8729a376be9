"""`percontrast summarize`: docs/results.md rendered from a finished run's files (a hand-made
claims.json, index.md and Snakemake benchmark files here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from percontrast.io import DataError
from percontrast.report import summary


def _estimate(value, low, high, n, p):
    return {"value": value, "low": low, "high": high, "p_value": p, "n": n,
            "n_resamples": 10000, "confidence": 0.95}


CLAIMS = {
    "run_name": "default",
    "bootstrap": {"n_resamples": 10000, "confidence": 0.95, "seed": 42},
    "claims": [
        {"id": "spc_persona_words", "stage": "spc", "claim": "PerCE uses the speaker's persona "
         "more than CE (persona words per reply)", "source": "this project", "paper": "—",
         "unit": "words", "ours": "+1.3250 [+1.0330, +1.6500]", "p_value": 0.0,
         "estimate": _estimate(1.325, 1.033, 1.65, 240, 0.0), "verdict": "holds",
         "pipeline_scale": False, "covers": "240 test turns resampled (paired, both methods); "
         "1 training seed; the training data fixed", "holm_p": 0.0, "holm_verdict": "holds",
         "missing": [], "note": ""},
        {"id": "spc_rouge_l", "stage": "spc", "claim": "PerCE > CE on ROUGE-L | SPC",
         "source": "Table 1", "paper": "+15.1%", "unit": "%", "ours": "-15.00% [-20.90%, -8.70%]",
         "p_value": 1.0, "estimate": _estimate(-0.15, -0.209, -0.087, 240, 1.0),
         "verdict": "contradicted", "pipeline_scale": True, "covers": "240 test turns",
         "holm_p": 0.0012, "holm_verdict": "contradicted", "missing": [], "note": ""},
        {"id": "table4_aloe_smollm2-135m", "stage": "table4", "claim": "PerCE > CE on ALOE",
         "source": "Table 4", "paper": "+0.3", "unit": "score", "ours": "—", "p_value": None,
         "estimate": None, "verdict": "not run", "pipeline_scale": False, "covers": "",
         "holm_p": None, "holm_verdict": None,
         "missing": ["results/aloe/a/scores.json", "results/aloe/b/scores.json"],
         "note": "ALOE is off"},
    ],
}

INDEX = """# percontrast results

Config `default`: SmolLM2-135M on CPU &amp; real dialogue.

Everything below: `snakemake --cores all`.
"""

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


@pytest.fixture
def run(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "claims.json").write_text(json.dumps(CLAIMS), encoding="utf-8")
    (results / "index.md").write_text(INDEX, encoding="utf-8")
    bench = tmp_path / "benchmarks"
    for rel, seconds, rss in [("train/m/spc/ce/run.tsv", 168.2, 3390.0),
                              ("train/m/spc/perce/run.tsv", 161.9, 3300.5),
                              ("bench_step.tsv", 168.0, 4470.0),
                              ("score/m/spc/ce/run/spc.tsv", 5.0, "NA")]:
        path = bench / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HEADER + f"{seconds}\t0:02:48\t{rss}\t1\t1\t1\t0\t0\t50\t160\n",
                        encoding="utf-8")
    return results


def test_the_verdict_rows_carry_each_claims_numbers(run):
    rows = summary.verdict_rows(summary.read_claims(run))
    assert rows[0] == ["1", "PerCE uses the speaker's persona more than CE (persona words per "
                       "reply)", "+1.3250 [+1.0330, +1.6500] (words)", "240",
                       "240 test turns resampled (paired, both methods); 1 training seed; the "
                       "training data fixed", "**holds**", "holds (p < 0.0001)"]
    # escaped as claims.md escapes it: a `|` cannot break the row, `>` becomes an entity
    assert rows[1][1] == "PerCE &gt; CE on ROUGE-L \\| SPC"
    assert rows[1][2] == "-15.00% [-20.90%, -8.70%] (relative)"
    assert rows[1][5] == "**contradicted** (pipeline scale)"
    assert rows[1][6] == "contradicted (p 0.0012)"
    assert rows[2][2:] == ["—", "—", "—", "**not run**", "—"]


def test_the_page_holds_config_commit_date_wall_time_and_job_times(run):
    text = summary.render(run, commit="a" * 40, date="2026-12-06 21:00 UTC",
                          wall_time="22 min 1 s", command="snakemake --cores all")
    lines = text.splitlines()
    assert lines[0] == "# Results: `default`"
    assert "| configuration | `default`: SmolLM2-135M on CPU &amp; real dialogue. |" in lines
    assert f"| commit | `{'a' * 40}` |" in lines
    assert "| date | 2026-12-06 21:00 UTC |" in lines
    assert "| wall time | 22 min 1 s |" in lines
    assert "| command | `snakemake --cores all` |" in lines
    assert "| bootstrap | 10000 paired resamples, 95% intervals, seed 42 |" in lines
    assert ("Summary: 1 holds, 1 contradicted, 1 not run; after Holm's adjustment: 1 holds, "
            "1 contradicted") in lines
    assert "| # | Claim | This run [CI] | n | Interval covers | Verdict | Holm |" in lines
    table = [ln for ln in lines if ln.startswith("| 1 |") or ln.startswith("| 2 |")
             or ln.startswith("| 3 |")]
    assert len(table) == 3 and "+1.3250 [+1.0330, +1.6500]" in table[0]
    assert "- 3: ALOE is off; 2 result file(s) missing" in lines
    # job times: per rule, longest first; RSS in GB, an NA RSS shown as —
    assert "From Snakemake's `benchmark:` files: 4 jobs, 8 min 23 s of job time" in text
    assert "| `train` | 2 | 5 min 30 s | 3.31 GB |" in lines
    assert "| `bench_step` | 1 | 2 min 48 s | 4.37 GB |" in lines
    assert "| `score` | 1 | 5 s | — |" in lines


def test_unknowns_say_so(run, tmp_path):
    (run / "index.md").unlink()
    text = summary.render(run, benchmarks=tmp_path / "absent", commit=None,
                          date=None, wall_time=None)
    assert "| wall time | not recorded |" in text
    assert "## Job times" not in text
    assert "# Results: `default`" in text  # the run's name from claims.json
    commit = summary.git_commit(tmp_path)  # not a git checkout
    assert commit == "unknown"
    assert summary.run_date(run).endswith(" UTC")


def test_a_missing_or_malformed_claims_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="claims.json"):
        summary.read_claims(tmp_path)
    (tmp_path / "claims.json").write_text(json.dumps({"claims": [{"claim": "x"}]}))
    with pytest.raises(DataError, match="'ours'"):
        summary.read_claims(tmp_path)


def test_the_command_writes_the_page(run, tmp_path):
    out = tmp_path / "docs" / "results.md"
    done = subprocess.run([sys.executable, "-m", "percontrast", "summarize", str(run), "--out",
                           str(out), "--wall-time", "1 h 47 min 54 s", "--commit", "b" * 40],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PERCONTRAST_LOG_LEVEL": "WARNING"})
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text(encoding="utf-8")
    assert "| wall time | 1 h 47 min 54 s |" in text and f"`{'b' * 40}`" in text
    failed = subprocess.run([sys.executable, "-m", "percontrast", "summarize",
                             str(tmp_path / "nothing"), "--out", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1 and "claims.json" in failed.stderr.splitlines()[-1]


def test_it_reads_what_write_claims_writes(tmp_path):
    """The hand-made file above follows Claim.to_dict; this one is made by it."""
    from percontrast.report.claims import Claim
    from percontrast.stats import Estimate

    claim = Claim("x", "spc", "PerCE > CE on persona words", "this project", "—", "words",
                  estimate=Estimate(value=0.5, low=0.25, high=0.75, p_value=0.001, n=48,
                                    n_resamples=2000, confidence=0.95),
                  covers="48 test turns")
    (tmp_path / "claims.json").write_text(json.dumps(
        {"run_name": "r", "bootstrap": {"n_resamples": 2000, "confidence": 0.95, "seed": 1},
         "claims": [claim.to_dict()]}), encoding="utf-8")
    [row] = summary.verdict_rows(summary.read_claims(tmp_path))
    assert row[2:6] == [f"{claim.ours()} (words)", "48", "48 test turns", "**holds**"]
