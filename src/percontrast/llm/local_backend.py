"""The ``transformers`` backend: a prepared registry model, in-process, so a run needs no server.

``model`` is a model-registry name, loaded from ``{models_dir}/{name}`` (made by the
``prepare_model`` rule) and sampled with :func:`percontrast.generation.generate`. The default
pipeline uses this backend, so it runs offline.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from percontrast.io import DataError, read_json
from percontrast.llm.cache import request_key
from percontrast.llm.sampling import OnDone, OnError, Sampling, request_seed


class TransformersBackend:
    """A prepared registry model, loaded once on first use, sampled in batches."""

    kind = "transformers"

    def __init__(self, name: str, spec: dict[str, Any], models_dir: str | os.PathLike,
                 device: str | None, batch_size: int):
        self.name = name
        self.model = spec["model"]
        self.base_url = None
        self.model_dir = Path(models_dir) / self.model
        self.device = device
        self.batch_size = batch_size
        self._loaded = None
        self._lock = threading.Lock()

    def _manifest(self) -> dict[str, Any] | None:
        from percontrast.models import MANIFEST

        try:
            return read_json(self.model_dir / MANIFEST)
        except (FileNotFoundError, DataError):
            return None

    def key_fields(self) -> dict[str, Any]:
        # The manifest pins what the folder holds (registry spec, seed, hub commit): re-preparing
        # the model differently must not replay answers of the old one.
        manifest = self._manifest()
        revision = request_key(manifest) if manifest is not None else None
        return {"backend": self.kind, "model": self.model, "base_url": None,
                "model_revision": revision}

    def unavailable_reason(self) -> str | None:
        if self._manifest() is None:
            return (f"model folder {self.model_dir} is not prepared: run the prepare_model rule "
                    f"(snakemake {self.model_dir}) or check models_dir and the registry name")
        return None

    def complete_many(self, items: list[list[dict[str, str]]], sampling: Sampling,
                      on_done: OnDone, on_error: OnError | None = None) -> None:
        """Generate every item (an in-process model refuses nothing: ``on_error`` is unused)."""
        from percontrast.generation import generate
        from percontrast.models import load_prepared

        with self._lock:  # one model, one generate at a time, whatever the calling threads
            if self._loaded is None:
                model, tokenizer = load_prepared(self.model_dir, device=self.device)
                spec = (self._manifest() or {}).get("spec", {})
                self._loaded = (model.eval(), tokenizer, spec.get("chat_template_kwargs"))
            model, tokenizer, template_kwargs = self._loaded
            generate(model, tokenizer, items, temperature=sampling.temperature,
                     top_p=sampling.top_p, max_new_tokens=sampling.max_new_tokens,
                     batch_size=self.batch_size,
                     seed=[request_seed(sampling.seed, m) for m in items],
                     chat_template_kwargs=template_kwargs,
                     on_result=lambda i, r: on_done(i, r.text, {"n_tokens": r.n_tokens,
                                                                "finished": r.finished}))
