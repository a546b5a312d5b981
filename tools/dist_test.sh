#!/usr/bin/env bash
# Distributed testing: bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args]
# (torchrun; NCCL on CUDA, gloo on CPU; see tools/_torchrun.sh for env vars)
set -euo pipefail
source "$(dirname "$0")/_torchrun.sh"
torchrun_launch "$3" "$ROOT/tools/test.py" "$1" "$2" --launcher pytorch "${@:4}"
