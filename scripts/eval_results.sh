#!/usr/bin/env bash
# Evaluate the models of scripts/train_default.sh on a test set drawn with an unseen seed and print
# the table of docs/RESULTS.md.
#
#   RUNS=/work/runs/default TEST=/work/runs/data/test scripts/eval_results.sh
#
# The test set (seed 1000: 255 isolated clips, 15 per class, and 30 continuous streams of 8
# gestures) is generated when missing. Training used data seed 1. Models a run did not make (the
# online step of a seed-comparison run, say) are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
RUNS=${RUNS:-runs/default}
TEST=${TEST:-data/synth-test}
OUT=${OUT:-$RUNS/eval}
mkdir -p "$OUT"
if [ ! -f "$TEST/index.json" ]; then
  $PYTHON main.py generate --clips 255 --streams 30 --seed 1000 --out "$TEST" --workers 2
fi
ev_() {  # NAME MODEL [extra eval args]
  local name=$1 model=$2; shift 2
  if [ -s "$OUT/$name.json" ] || [ ! -f "$model" ]; then return 0; fi
  if ! $PYTHON main.py eval --data "$TEST" --model "$model" --threads 1 --json "$@" 2> "$OUT/$name.log" \
      | tail -n 1 > "$OUT/$name.json.partial"; then
    echo "evaluation of $name failed (see $OUT/$name.log)" >&2
    return 1
  fi
  mv "$OUT/$name.json.partial" "$OUT/$name.json"
  echo "evaluated $name" >&2
}
ONLY=${ONLY:-}   # e.g. ONLY="rgb depth": evaluate just these now
want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
ev() { if want "$1"; then ev_ "$@"; fi; }
ev rgb "$RUNS/rgb.pt"
ev depth "$RUNS/depth.pt"
ev skeleton "$RUNS/skeleton.pt"
ev late_avg "$RUNS/late_avg.pt"
ev late "$RUNS/late.pt"
ev mmtm "$RUNS/mmtm.pt" --confusion "$OUT/mmtm_confusion.png"
VAL=${VAL:-data/synth-train-val64}   # as in train_default.sh
if want mmtm_tuned && [ -f "$RUNS/mmtm.pt" ] && [ ! -f "$RUNS/mmtm_tuned.pt" ]; then  # step 3 with recogniser settings of its own
  cp "$RUNS/mmtm.pt" "$RUNS/mmtm_tuned.pt"
  $PYTHON scripts/tune_online.py "$RUNS/mmtm_tuned.pt" --val "$VAL" --write
fi
ev mmtm_tuned "$RUNS/mmtm_tuned.pt"
ev skeleton_online "$RUNS/skeleton_online.pt"
ev mmtm_online "$RUNS/mmtm_online.pt" --confusion "$OUT/mmtm_online_confusion.png"
ev mmtm_online_no_depth "$RUNS/mmtm_online.pt" --modalities rgb,skeleton
ev mmtm_online_skeleton_only "$RUNS/mmtm_online.pt" --modalities skeleton
$PYTHON scripts/results_table.py "$OUT"
