#!/usr/bin/env bash
# On the lent GPU machine, in the repo root, with .devkit carried (benchmarks/device/README.md):
# the CUDA tests, generation speed at 256 and 512 and a 60-second avatar prepared, most important
# first, each capped so that the whole stays inside one 10-minute call. Logs go to $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/announcer-device}
KIT=${KIT:-$PWD/.devkit}
mkdir -p "$OUT"
began=$SECONDS

SITE=${SITE:-/tmp/announcer-site}
# The kit's packages and ffmpeg (make_kit.sh); Python's own tarfile, since the image may lack xz.
python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="tar")' "$KIT/site.tar.xz" "$SITE" || exit 1
export PYTHONPATH=$SITE:$PWD PATH=$SITE/bin:$PATH PYTHONUNBUFFERED=1 ANNOUNCER_MODELS=$KIT/shared/models
[ -e ../shared ] || ln -s "$KIT/shared" ../shared

{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    python3 -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda)'
    ffmpeg -hide_banner -version | head -1
} 2>&1 | tee "$OUT/device.txt"

step() {  # step NAME SECONDS COMMAND...: run with a cap, log to $OUT/NAME.log
    local name=$1 cap=$2
    shift 2
    echo "== $name (cap ${cap}s, at $((SECONDS - began))s)"
    timeout "$cap" "$@" 2>&1 | tee "$OUT/$name.log"
    echo "== $name: exit ${PIPESTATUS[0]}"
}

if python3 -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
    generate=(--sizes 256 512) prepare=(--seconds 60) tests=(-m cuda)
else  # benchmarks/device/simulate.sh: no GPU, so the same steps, tiny, on the CPU, and the tests' fixtures exercised
    generate=(--sizes 64 --batch 2 --repeats 1 --train-steps 1) prepare=(--seconds 4 --quick) tests=(-k "on_cuda or cut_then_paste")
fi
step generate 120 python3 benchmarks/generate.py "${generate[@]}"
step cuda_tests 90 python3 -m pytest -q -p no:cacheprovider "${tests[@]}" tests/test_generate.py tests/test_avatar.py
step prepare 330 python3 benchmarks/prepare.py "${prepare[@]}"
echo "== done in $((SECONDS - began))s"
