"""The persona-QA set with gold personal keywords (rule persona_qa, paper appendix A): one home.

The config's ``persona_qa`` spec names a ``source``; this module is the one place that turns a
spec into rows, so the script, tests and any later caller cannot disagree about what a source
means:

* ``demo`` — the bundled deterministic set (:func:`percontrast.data.demo.generate_persona_qa`),
  offline, with verbatim and paraphrase answers in a known share;
* ``synthetic`` — an LLM (the spec's ``generator``, an ``llm`` entry) writes question / answer /
  keywords for sampled Synthetic-Persona-Chat personas (``spc_csv``), appendix D.2 prompt
  (:func:`percontrast.synthetic.build_persona_qa`).

Every row is ``{"id", "persona", "question", "answer", "keywords", ...}`` as the PIR benchmark
reads it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from percontrast import layout
from percontrast.config import ConfigError, section_defaults

log = logging.getLogger(__name__)


def build_persona_qa_set(spec: Mapping[str, Any], *, seed: int,
                         llms: Mapping[str, dict] | None = None,
                         cache_dir: str | os.PathLike | None = None,
                         llm: Any = None) -> list[dict]:
    """The rows the ``persona_qa`` spec asks for (``n`` of them at most).

    ``llms``: the config's ``llm`` entries (the generator is looked up there); ``llm`` replaces
    that client outright (anything with ``chat_many``). A synthetic set where no LLM reply was
    usable is an error (:class:`percontrast.llm.LLMError`) naming the generator and the reasons,
    never an empty file.
    """
    spec = section_defaults("persona_qa", spec)
    source, n = spec["source"], spec["n"]
    if source == "demo":
        from percontrast.data.demo import generate_persona_qa

        return generate_persona_qa(n, seed)
    # source is "synthetic": the schema (section_defaults) refuses any other
    from percontrast.data.spc import load_spc_personas
    from percontrast.llm import LLMError, make_llm
    from percontrast.synthetic import build_persona_qa

    for key in ("generator", "spc_csv"):
        if key not in spec:
            raise ConfigError(f"persona_qa.{key}: required when source is synthetic")
    name = spec["generator"]
    if llm is None:
        if name not in (llms or {}):
            raise ConfigError(f"persona_qa.generator: no llm entry named {name!r}")
        llm = make_llm(llms[name], name=name,
                       cache_dir=layout.path("llm_cache") if cache_dir is None else cache_dir)
    personas = load_spc_personas(spec["spc_csv"])
    rows, outcomes = build_persona_qa(personas, llm, n=n, seed=seed)
    log.info("LLM replies: %s", outcomes)
    if not rows:
        raise LLMError(f"none of the {sum(outcomes.values())} replies of llm {name!r} was "
                       f"usable: {outcomes}")
    return rows
