#!/usr/bin/env bash
# The one prepared GPU check for a lent device machine (bare: PyTorch only,
# no mmcv/mmagic, no network). Fills the CUDA column of the README's
# batched-vs-sequential table and the second-order memory sweep.
#   run(command="bash benchmarks/device_check.sh", timeout_s=420)
# Writes $OUT/bench_inner_loop_cuda.txt (or ./bench_inner_loop_cuda.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.}/bench_inner_loop_cuda.txt"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
timeout 380 python benchmarks/bench_inner_loop.py --device cuda --iters 5 \
    --meta-batch 4 8 16 --steps 5 2>&1 | tee "$out"
