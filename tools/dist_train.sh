#!/usr/bin/env bash
# Distributed training: bash tools/dist_train.sh CONFIG NPROC [train.py args]
# (torchrun; NCCL on CUDA, gloo on CPU; see tools/_torchrun.sh for env vars)
set -euo pipefail
source "$(dirname "$0")/_torchrun.sh"
torchrun_launch "$2" "$ROOT/tools/train.py" "$1" --launcher pytorch "${@:3}"
