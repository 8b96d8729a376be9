"""CITATION.cff is valid Citation File Format 1.2.0: checked against the format's JSON schema
(tests/data/cff/schema-1.2.0.json, the schema of citation-file-format 1.2.0 as shipped by
cffconvert 2.0.0; CC-BY 4.0, The Citation File Format authors)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[1]


def test_citation_cff_is_valid_cff_1_2_0():
    schema = json.loads((REPO / "tests" / "data" / "cff" / "schema-1.2.0.json").read_text())
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
                    .iter_errors(cff), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    assert cff["cff-version"] == "1.2.0"


def test_it_names_the_paper_and_the_projects_version():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    paper = cff["references"][0]
    assert paper["title"] == ("Rethinking Personalization in Large Language Models at the "
                              "Token Level")
    assert [a["family-names"] for a in paper["authors"]][:2] == ["Zhang", "Lu"]
    assert len(paper["authors"]) == 10
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")  # tomllib: 3.11+ only
    assert f'\nversion = "{cff["version"]}"\n' in pyproject
    assert f'license = {{ text = "{cff["license"]}" }}' in pyproject
