#!/usr/bin/env bash
# Set up everything metagan-mm needs on a fresh machine (Python 3.11, CPU or CUDA).
#
#   bash tools/setup_env.sh            # creates ./.venv and installs into it
#   VENV=/path/to/venv bash tools/setup_env.sh
#
# What it installs and why (see docs/get_started.md, "Versions"):
#   torch 2.14.1 / torchvision 0.29.1, mmengine 0.10.7, mmcv 2.1.0 built from
#   source WITH ops (mmagic.models imports mmcv.ops; no binary wheel exists for
#   this torch), mmagic 1.2.0 without its heavy optional deps, and the pins
#   mmagic 1.2.0 needs to import (numpy<2, diffusers 0.24, huggingface_hub<0.26,
#   transformers 4.39.3), gradio 5.14 for demo/ and playwright for its
#   browser test (which drives the system chromium: .ci/run installs it with
#   apt; no browser is downloaded).  The mmcv wheel is cached in $METAGAN_CACHE
#   (default ~/.cache/metagan-mm) so a second set-up takes about a minute.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
CACHE="${METAGAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/metagan-mm}"
TORCH_VERSION="${TORCH_VERSION:-2.14.1}"
TORCHVISION_VERSION="${TORCHVISION_VERSION:-0.29.1}"
MMCV_VERSION=2.1.0

say() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

say "python: $($PYTHON --version 2>&1); venv: $VENV; wheel cache: $CACHE"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtual environment"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=(pip_quiet install --disable-pip-version-check --progress-bar off)
# pip run with this machine's find-links/extra-index settings warns about
# every missing local index folder; keep its real messages only.
pip_quiet() { "$PY" -m pip "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2); }

say "build tools (setuptools 77-80: torch needs >=77, mmcv's setup.py needs pkg_resources, gone in 81)"
"${PIP[@]}" -q --upgrade "pip<26" "setuptools>=77.0.3,<81" wheel ninja

say "torch $TORCH_VERSION, torchvision $TORCHVISION_VERSION"
"${PIP[@]}" -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"

say "runtime pins for mmengine/mmcv/mmagic, and the web demo's gradio"
# one resolve, so that gradio's Pillow<12 / pandas<3 / pydantic<2.11 are
# chosen once instead of installed, then replaced
"${PIP[@]}" -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/demo.txt"

TORCH_TAG="$("$PY" -c 'import torch; print(torch.__version__.replace("+", "_"))')"
CUDA_TAG="$("$PY" -c 'import os, torch; print("cuda" if (torch.cuda.is_available() or os.getenv("FORCE_CUDA") == "1") else "cpu")')"
WHEEL_DIR="$CACHE/mmcv-$MMCV_VERSION-torch$TORCH_TAG-$CUDA_TAG"
mkdir -p "$WHEEL_DIR"
if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
  say "no cached mmcv wheel in $WHEEL_DIR: building mmcv $MMCV_VERSION with ops ($CUDA_TAG)"
  say "this compiles ~100 C++ files; about 15-20 min on 2 cores; progress every minute."
  SRC="$(mktemp -d)"
  pip_quiet download -q --no-deps --no-binary :all: --no-build-isolation \
    -d "$SRC" "mmcv==$MMCV_VERSION"
  tar -xzf "$SRC"/mmcv-$MMCV_VERSION.tar.gz -C "$SRC"
  # torch >= 2.6 headers need C++20; mmcv 2.1.0's setup.py hard-codes C++17.
  sed -i 's/-std=c++14/-std=c++20/g; s/-std=c++17/-std=c++20/g' "$SRC/mmcv-$MMCV_VERSION/setup.py"
  export MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}"
  BUILD_LOG="$SRC/build.log"
  (cd "$SRC/mmcv-$MMCV_VERSION" && "$PY" -m pip wheel --no-deps --no-build-isolation -v \
      -w "$WHEEL_DIR.tmp" . >"$BUILD_LOG" 2>&1) &
  BUILD_PID=$!
  while kill -0 "$BUILD_PID" 2>/dev/null; do
    sleep 60
    say "  compiling mmcv ops: $(find "$SRC/mmcv-$MMCV_VERSION/build" -name '*.o' 2>/dev/null | wc -l) of ~77 objects done"
  done
  wait "$BUILD_PID" || { tail -40 "$BUILD_LOG"; }
  if ! ls "$WHEEL_DIR.tmp"/mmcv-*.whl >/dev/null 2>&1; then
    say "ERROR: the mmcv build failed; the end of its log is above, all of it in $BUILD_LOG"
    exit 1
  fi
  mv "$WHEEL_DIR.tmp"/mmcv-*.whl "$WHEEL_DIR/" && rm -rf "$WHEEL_DIR.tmp" "$SRC"
else
  say "using cached mmcv wheel: $(ls "$WHEEL_DIR"/mmcv-*.whl)"
fi
"${PIP[@]}" -q --no-deps --force-reinstall "$WHEEL_DIR"/mmcv-*.whl

say "mmengine 0.10.7 and mmagic 1.2.0 (without their optional heavy deps)"
"${PIP[@]}" -q --no-deps "mmengine==0.10.7" "mmagic==1.2.0"

say "metagan-mm (editable), test tools, linters and the documentation tools"
"${PIP[@]}" -q --no-deps --no-build-isolation -e "$ROOT"
"${PIP[@]}" -q -r "$ROOT/requirements/tests.txt" -r "$ROOT/requirements/lint.txt" \
  -r "$ROOT/requirements/docs.txt"

say "checking the stack imports"
"$PY" -c "import metagan_mm, mmagic.models, mmcv.ops, gradio; import torch, mmcv, mmengine, mmagic; print('torch', torch.__version__, '| mmcv', mmcv.__version__, '| mmengine', mmengine.__version__, '| mmagic', mmagic.__version__)"
say "done. Activate with: source $VENV/bin/activate"
