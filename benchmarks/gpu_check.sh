#!/usr/bin/env bash
# The trainer on one NVIDIA GPU, in one go (issue 17, docs/benchmarks.md "GPU check"):
# reward-model pairs/s and MFU in bf16, a PPO step split into generation / scoring / update,
# peak memory, for a ~300M-parameter model built from a config (no download).
#
#   benchmarks/gpu_check.sh [gpu_check.py options]     # e.g. --size 125m, --json out.json
#   PYTHON=.venv/bin/python benchmarks/gpu_check.sh --device cpu --size small   # a dry run on a CPU
#
# It installs the trainer's libraries from pyproject.toml's `trainer` extra into the Python
# that runs it (PYTHON, default python3), keeping a CUDA build of torch that is already there.
# Offline, point WHEELS at a folder of wheels for whatever is missing (pip --no-index
# --find-links), or at wheels to unpack without resolving (WHEELS_NO_DEPS=1: pip --no-deps
# --target, for an image whose own packages should stay as they are).
# It builds the tiny tokenizer once (var/models, about 30 s on a CPU) unless it is there.
# On one H200 it finishes in about three minutes (docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [[ " $* " != *" --device cpu "* ]] && ! "$PY" -c 'import torch, torch.cuda; raise SystemExit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    if "$PY" -c 'import torch' 2>/dev/null; then
        echo "gpu_check: $PY's torch $("$PY" -c 'import torch; print(torch.__version__)') sees no CUDA GPU" >&2
    else
        echo "gpu_check: $PY has no torch; install a CUDA build of torch first (https://pytorch.org)" >&2
    fi
    echo "gpu_check: to try the script without a GPU: PYTHON=.venv/bin/python $0 --device cpu --size small" >&2
    exit 1
fi

# The trainer extra's requirements, read from the project's own pyproject.toml.
mapfile -t REQS < <("$PY" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["trainer"]))')
if "$PY" - "${REQS[@]}" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import PackageNotFoundError, version
from packaging.requirements import Requirement
missing = []
for spec in sys.argv[1:]:
    req = Requirement(spec)
    try:
        if not req.specifier.contains(version(req.name), prereleases=True):
            missing.append(spec)
    except PackageNotFoundError:
        missing.append(spec)
sys.exit(1 if missing else 0)
EOF
then
    echo "gpu_check: the trainer's libraries are installed"
elif [ -n "${WHEELS:-}" ] && [ -n "${WHEELS_NO_DEPS:-}" ]; then
    echo "gpu_check: unpacking the wheels in $WHEELS (no dependency resolution)"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --target "${TMPDIR:-/tmp}/gpu_check_site" "$WHEELS"/*.whl
    export PYTHONPATH="${TMPDIR:-/tmp}/gpu_check_site${PYTHONPATH:+:$PYTHONPATH}"
elif [ -n "${WHEELS:-}" ]; then
    echo "gpu_check: installing the trainer's libraries from $WHEELS"
    "$PY" -m pip install -q --no-index --find-links "$WHEELS" "${REQS[@]}"
else
    echo "gpu_check: installing the trainer's libraries: ${REQS[*]}"
    "$PY" -m pip install -q "${REQS[@]}"
fi

export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
exec "$PY" benchmarks/gpu_check.py "$@"
