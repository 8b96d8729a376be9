"""Which precision a job computes in: bf16 where the chip runs it natively, fp32 elsewhere.

One rule for every stage that runs a model (training, the counterfactual forward inside it,
generation, the PIR benchmark and the step benchmark), so a config's ``precision: auto`` means
the same thing everywhere:

* ``auto`` — bf16 on a CUDA device that supports it, and on a CPU whose instruction set has
  native bf16 arithmetic (AVX-512 BF16 or AMX, as torch's own CPU feature check reports them);
  fp32 everywhere else. A CPU without native bf16 emulates it, which is far *slower* than fp32
  (measured on an AVX2-only CPU: a one-thread matmul at 1.2 GFLOP/s in bf16 against 63 in
  fp32), so ``auto`` never picks it there.
* ``fp32`` / ``bf16`` — forced, whatever the chip.

Training uses bf16 as *mixed* precision (autocast): master weights, optimizer state and saved
checkpoints stay fp32, as the Trainer does on GPUs. Generation loads bf16 weights (decoding is
memory-bound; nothing is learned from it). Scoring (PIR) runs under autocast, with log-softmax
in fp32.

Detection is torch's, never the CPU's name: ``torch.cpu._is_avx512_bf16_supported`` and
``torch.cpu._is_amx_tile_supported`` read the CPU's feature flags through torch's cpuinfo.
Tests mock :func:`cpu_native_bf16` to check both outcomes on any machine.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

PRECISIONS = ("auto", "fp32", "bf16")


@functools.lru_cache(maxsize=1)
def _cpu_native_bf16() -> bool:
    import torch

    checks = [getattr(torch.cpu, name, None)
              for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    found = False
    for check in checks:
        if check is None:  # an older torch without the check: not known, so not native
            continue
        try:
            found = found or bool(check())
        except (RuntimeError, AttributeError):  # pragma: no cover (exotic builds)
            continue
    return found


def cpu_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX), by torch's check."""
    return _cpu_native_bf16()


def native_bf16(device: str | None) -> bool:
    """Whether ``device`` (``cpu``, ``cuda``, ``cuda:N``; None = CUDA when present) computes
    bf16 natively."""
    import torch

    kind = _device_type(device)
    if kind == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return cpu_native_bf16()


def _device_type(device: str | None) -> str:
    import torch

    if device is None or device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device).split(":", 1)[0]


def resolve(precision: str | None, device: str | None) -> str:
    """``fp32`` or ``bf16``: what ``precision`` (``auto``, ``fp32``, ``bf16``; None = auto)
    means on ``device``."""
    precision = precision or "auto"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "fp32"


#: CPU feature flags (Linux ``/proc/cpuinfo`` names) of native bf16 arithmetic: the features
#: torch's checks above read through CPUID.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.lru_cache(maxsize=1)
def _cpu_flags_native_bf16() -> bool | None:
    try:
        text = open("/proc/cpuinfo", encoding="utf-8", errors="replace").read()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return any(flag in line.split() for flag in BF16_CPU_FLAGS)
    return None


def planned(precision: str | None, device: str | None) -> str:
    """What ``precision`` means for a config whose ``device`` is ``device``, decided while
    planning, so that it can be part of a run's spec: on ``device: cpu``, ``auto`` becomes
    ``fp32`` or ``bf16`` for this CPU, and a result made in one is never reused as the other.
    The planner must not import torch (seconds per invocation), so it reads the same CPU
    features torch's check reads from the kernel's ``/proc/cpuinfo`` (tests check that both
    agree), and falls back to torch's check where that file does not exist. Any other device
    keeps ``auto``: a GPU is seen only by the job, which records what it used."""
    precision = precision or "auto"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto" or device != "cpu":
        return precision
    native = _cpu_flags_native_bf16()
    if native is None:
        native = cpu_native_bf16()
    return "bf16" if native else "fp32"


def describe() -> dict[str, object]:
    """What a benchmark or a run records about the chip's precision support."""
    import torch

    return {"cpu_native_bf16": cpu_native_bf16(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "cuda_bf16": bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())}


@contextlib.contextmanager
def autocast(precision: str, device_type: str) -> Iterator[None]:
    """bf16 autocast on ``device_type`` when ``precision`` is ``bf16``; nothing otherwise."""
    if precision != "bf16":
        yield
        return
    import torch

    with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
        yield
