#!/usr/bin/env bash
# Evaluate the models of scripts/train_default.sh on a test set drawn with an unseen seed and print
# the table of docs/RESULTS.md.
#
#   RUNS=/work/runs/default TEST=/work/runs/data/test scripts/eval_results.sh
#
# The test set (seed 1000: 255 isolated clips, 15 per class, and 10 continuous streams of 8
# gestures) is generated when missing. Training used data seed 1.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
RUNS=${RUNS:-runs/default}
TEST=${TEST:-data/synth-test}
OUT=${OUT:-$RUNS/eval}
mkdir -p "$OUT"
if [ ! -f "$TEST/index.json" ]; then
  $PYTHON main.py generate --clips 255 --streams 10 --seed 1000 --out "$TEST" --workers 2
fi
ev() {  # NAME MODEL [extra eval args]
  local name=$1 model=$2; shift 2
  [ -f "$OUT/$name.json" ] || $PYTHON main.py eval --data "$TEST" --model "$model" --threads 1 --json "$@" \
    2> "$OUT/$name.log" | tail -n 1 > "$OUT/$name.json"
  echo "evaluated $name" >&2
}
ev rgb "$RUNS/rgb.pt"
ev depth "$RUNS/depth.pt"
ev skeleton "$RUNS/skeleton.pt"
ev late "$RUNS/late.pt"
ev mmtm "$RUNS/mmtm.pt" --confusion "$OUT/mmtm_confusion.png"
ev mmtm_no_depth "$RUNS/mmtm.pt" --modalities rgb,skeleton
ev mmtm_skeleton_only "$RUNS/mmtm.pt" --modalities skeleton
$PYTHON scripts/results_table.py "$OUT"
