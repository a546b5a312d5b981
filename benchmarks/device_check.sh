#!/usr/bin/env bash
# The one prepared GPU check for a lent device machine (bare: PyTorch only,
# no mmcv/mmagic, no network). Fills the CUDA columns of docs/benchmarks.md's
# tables: batched vs sequential and the second-order memory sweep
# (bench_inner_loop), eager vs compiled inner steps (bench_compile), and
# one meta-iteration of the core against the FIGR-style reference step, on
# the LN-DCGAN and on FIGR's own networks (bench_meta_iteration --no-runner
# [--figr-nets]; the runner rows of bench_vs_figr need mmagic, which the
# bare machine lacks).
#   run(command="bash benchmarks/device_check.sh", timeout_s=560)
# Writes $OUT/{bench_inner_loop,bench_compile,bench_meta_iteration}_cuda.txt
# (or ./*_cuda.txt).
# The mixed-precision rows (inner_loop.amp: the inner loop of the bare core
# under bf16 and fp16 autocast vs fp32, LN-DCGAN and FIGR's nets) are a
# separate call, to fit one command's limit:
#   run(command="bash benchmarks/device_check.sh amp", timeout_s=300)
# Writes $OUT/bench_meta_iteration_amp_cuda.txt.
# The fusion row (one training iteration of LoFGAN's own code against the
# core's FusionGAN step on LoFGAN's nets, bench_vs_lofgan --no-runner) is a
# third call; LoFGAN's code travels as an ignored copy:
#   cp -r ../shared/peers/LoFGAN-pytorch work_dirs/peers/  (once, here)
#   run(command="bash benchmarks/device_check.sh fusion",
#       carry=["work_dirs/peers"], timeout_s=300)
# Writes $OUT/bench_vs_lofgan_cuda.txt.
set -uo pipefail  # a step that fails or times out does not stop the next
cd "$(dirname "$0")/.."
out="${OUT:-.}"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "bf16", torch.cuda.is_available() and torch.cuda.is_bf16_supported())'
if [ "${1:-}" = amp ]; then
    timeout 120 python benchmarks/bench_meta_iteration.py --device cuda \
        --iters 5 --no-runner --amp bfloat16 float16 2>&1 \
        | tee "$out/bench_meta_iteration_amp_cuda.txt"
    timeout 150 python benchmarks/bench_meta_iteration.py --device cuda \
        --iters 3 --no-runner --figr-nets --amp bfloat16 float16 2>&1 \
        | tee -a "$out/bench_meta_iteration_amp_cuda.txt"
    exit 0
fi
if [ "${1:-}" = fusion ]; then
    METAGAN_LOFGAN_CODE="${METAGAN_LOFGAN_CODE:-work_dirs/peers/LoFGAN-pytorch}" \
        timeout 240 python benchmarks/bench_vs_lofgan.py --device cuda \
        --no-runner --tasks 8 --shots 3 --rounds 5 --profile 2>&1 \
        | tee "$out/bench_vs_lofgan_cuda.txt"
    exit 0
fi
timeout 150 python benchmarks/bench_inner_loop.py --device cuda --iters 5 \
    --meta-batch 4 8 16 --steps 5 2>&1 | tee "$out/bench_inner_loop_cuda.txt"
timeout 180 python benchmarks/bench_compile.py --device cuda --iters 5 \
    --tasks 8 2>&1 | tee "$out/bench_compile_cuda.txt"
timeout 80 python benchmarks/bench_meta_iteration.py --device cuda \
    --iters 5 --no-runner 2>&1 | tee "$out/bench_meta_iteration_cuda.txt"
timeout 80 python benchmarks/bench_meta_iteration.py --device cuda \
    --iters 3 --no-runner --figr-nets 2>&1 | tee -a "$out/bench_meta_iteration_cuda.txt"
