# Shared by dist_train.sh and dist_test.sh: launch "$@" with torchrun.
# Uses NCCL on CUDA machines and gloo on CPU (see metagan_mm/compat.py).
# Environment: NNODES, NODE_RANK, PORT, MASTER_ADDR,
# PYTHON (default: ./.venv/bin/python if present, else python).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

torchrun_launch() {  # NPROC SCRIPT ARGS...
  local nproc=$1; shift
  PYTHONPATH="$ROOT:${PYTHONPATH:-}" "$PYTHON" -m torch.distributed.run \
      --nnodes="${NNODES:-1}" \
      --node_rank="${NODE_RANK:-0}" \
      --master_addr="${MASTER_ADDR:-127.0.0.1}" \
      --nproc_per_node="$nproc" \
      --master_port="${PORT:-29500}" \
      "$@"
}
