#!/usr/bin/env bash
# The GPU check: one command, at most ~6 minutes on one 80 GB GPU; writes results/bench/gpu.json
# and prints a summary (what it measures: scripts/gpu_check.py).
#
#   bash scripts/gpu_check.sh --prepare   # once, where the project's environment is installed:
#                                         # saves build/gpu_check/tokenizer (needs gguf)
#   bash scripts/gpu_check.sh             # on the GPU machine (carry build/gpu_check/tokenizer)
#   bash scripts/gpu_check.sh --dry-run   # the same stages on CPU with toy shapes, in seconds
#
# Runs from a plain checkout: src/ goes on PYTHONPATH, so the package need not be installed,
# and only torch, transformers, peft and accelerate are imported.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PY="${PYTHON:-python3}"
if [[ -x .venv/bin/python && -z "${PYTHON:-}" ]]; then PY=.venv/bin/python; fi
# the whole check stays under its budget even if a stage hangs (GPU_CHECK_TIMEOUT seconds)
exec timeout --kill-after=10 "${GPU_CHECK_TIMEOUT:-360}" "$PY" scripts/gpu_check.py "$@"
