#!/usr/bin/env bash
# The committed recipe that makes the shipped models: assets/model_default.pt (rgb+depth+skeleton,
# MMTM, streaming) and assets/model_skeleton.pt (skeleton alone, for webcams and videos without depth).
#
#   scripts/train_default.sh                     # data in data/synth-train, runs in runs/default
#   DATA=/work/runs/data/train RUNS=/work/runs/default scripts/train_default.sh
#   SEED=1 INSTALL=0 ONLINE=0 RUNS=runs/seed1 scripts/train_default.sh   # another seed, steps 1-3 only
#   SHAPE=windowed INSTALL=0 ONLINE=0 RUNS=runs/windowed scripts/train_default.sh   # the windowed models
#   FINE_LR=2e-4 INSTALL=0 ONLINE=0 RUNS=runs/lr2e-4 scripts/train_default.sh  # steps 2-3 at another lr
#   FINE_DROPOUT=0 INSTALL=0 ONLINE=0 RUNS=runs/nodrop scripts/train_default.sh  # or without modality dropout
#   FINE_AUX=0 INSTALL=0 ONLINE=0 RUNS=runs/noaux scripts/train_default.sh  # or without the per-stream losses
#   FINE_EPOCHS=8 INSTALL=0 ONLINE=0 RUNS=runs/long scripts/train_default.sh  # or longer (3 epochs by default)
#   FUSE=rgb,depth INSTALL=0 ONLINE=0 RUNS=runs/rgbd scripts/train_default.sh  # fuse other modalities (steps 1-3)
#   SIZE=96x72 FUSE=rgb,depth INSTALL=0 ONLINE=0 RUNS=runs/96 scripts/train_default.sh  # another input size
#   RGB_INPUT=frames INSTALL=0 ONLINE=0 RUNS=runs/frames scripts/train_default.sh  # the rgb stream on plain frames
#   MMTM_STAGES= MMTM_POOLED=1 INSTALL=0 ONLINE=0 RUNS=runs/pooled scripts/train_default.sh  # MMTM elsewhere
#   MMTM_STAGES= MMTM_TEMPORAL=0,1 INSTALL=0 ONLINE=0 RUNS=runs/temporal scripts/train_default.sh  # between the temporal layers
#
# The paper's recipe (Joze et al. 2020): each stream alone (the rgb stream on frame differences:
# from plain 64x48 frames it does not learn; docs/RESULTS.md), then MMTM built from the three unimodal
# checkpoints (identity at init) and fine-tuned; late fusion (the average of the three streams'
# logits) built from the same checkpoints and fine-tuned the same way, so the two differ only by the
# MMTM modules; "late_avg" is that average without fine-tuning.
# The skeleton stream learns from the skeleton world instead (hand skeletons only, fast to make:
# 6,800 clips of 40 frames and 120 continuous streams seen by cameras at 15-60 fps, some of them
# showing slower footage with repeated frames, held poses calibrated on real hands, hand shapes
# outside the vocabulary and hands waiting where a swipe would start as no_gesture; trained alone,
# the skeleton is moved anywhere in the frame and scaled up to 3x either way) and from the real
# keypoint-table rows of $REAL when that folder is there (the rows eval --real does not score) and
# from MediaPipe's readings of rendered held hands ($READINGS, scripts/make_readings.py: what a
# webcam's skeleton is, beside the world's true joints); it is the webcam model.
# Then an online step: MMTM fine-tuned on the clips plus windows cut from 120 continuous streams,
# so that it learns transitions between gestures and when to answer, and on the same real table rows
# and readings as the skeleton stream (skeleton only: their rgb and depth are marked absent), so that
# its skeleton stream keeps what it learnt of real hands; the recogniser settings of
# each model are then chosen on 64 validation streams (seed 500) of its own world, the webcam
# model's also on MediaPipe's readings of other rendered held hands ($HELD, seed 200), each held still
# as eval --real holds a photo.
# Steps 1-3 run two training processes side by side (one thread each) for a 2-core CPU; step 4
# runs its two one after the other on both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
DATA=${DATA:-data/synth-train}
DATA_STREAMS=${DATA_STREAMS:-$DATA-streams}      # continuous streams for the online step (seed 2)
DATA_STREAMS2=${DATA_STREAMS2:-$DATA-streams2}   # and more of them (seed 3)
DATA_STREAMS3=${DATA_STREAMS3:-$DATA-streams3}   # and more (seed 4)
SKEL_DATA=${SKEL_DATA:-$DATA-skeleton}           # the skeleton world (seed 11) for the skeleton stream
REAL=${REAL:-../shared/data/real}                # real keypoint tables (training rows); skipped when absent
READINGS=${READINGS:-$SKEL_DATA-readings.npz}    # MediaPipe's readings of rendered held hands (seed 91), for training
HELD=${HELD:-$SKEL_DATA-held.npz}                # and of others (seed 200), for the webcam model's recogniser settings
RUNS=${RUNS:-runs/default}
CLIPS=${CLIPS:-1360}              # 80 clips per class, 17 classes
SEED=${SEED:-0}                   # training seed (data seed is 1; evaluation uses unseen seeds)
SHAPE=${SHAPE:-streaming}         # streaming (per-frame 2D + causal temporal; the app's) or windowed (3D)
ONLINE=${ONLINE:-1}               # 0: stop after step 3 (the seed comparison needs only steps 1-3)
FINE_LR=${FINE_LR:-1e-3}          # learning rate of steps 2-3 (fine-tuning the assembled networks)
FINE_DROPOUT=${FINE_DROPOUT:-0.25}  # modality dropout of steps 2-3
FINE_AUX=${FINE_AUX:-0.5}         # weight of each stream's own loss in steps 2-3
FINE_EPOCHS=${FINE_EPOCHS:-3}     # epochs of steps 2-3
MMTM_STAGES=${MMTM_STAGES-2,3}    # step 3: MMTM after these stages of the streams ('' for none)
MMTM_POOLED=${MMTM_POOLED:-0}     # step 3: 1 for one more MMTM on the streams' window-level features
MMTM_TEMPORAL=${MMTM_TEMPORAL-}   # step 3: MMTM after these causal temporal layers (0 the first; '' for none)
# what the rgb stream sees: motion (frame differences; streaming shape only) | frames | frames+motion
if [ "$SHAPE" = windowed ]; then RGB_INPUT=${RGB_INPUT:-frames}; else RGB_INPUT=${RGB_INPUT:-motion}; fi
SIZE=${SIZE:-64x48}               # model input size WxH
FUSE=${FUSE:-rgb,depth,skeleton}  # the modalities of steps 1-3 (rgb,depth: the paper's EgoGesture setting)
if [ "$FUSE" != rgb,depth,skeleton ] && [ "$ONLINE" != 0 ]; then
  echo "FUSE=$FUSE: the online step needs all three modalities; set ONLINE=0 INSTALL=0" >&2
  exit 2
fi
COMMON="--data $DATA --shape $SHAPE --size $SIZE --window 20 --batch 16 --threads 1 --seed $SEED"
mkdir -p "$RUNS" assets
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" >&2; }

if [ ! -f "$DATA/index.json" ]; then
  stamp "generate $CLIPS clips"
  $PYTHON main.py generate --clips "$CLIPS" --seed 1 --out "$DATA" --workers 2
fi
if [ ! -f "$SKEL_DATA/index.json" ]; then
  stamp "generate the skeleton world: 6800 clips of 40 frames, 120 streams, cameras at 15-60 fps"
  $PYTHON main.py generate --skeleton-only --camera-fps 15,20,25,30,60 --frames 40 --clips 6800 --streams 120 --seed 11 \
    --out "$SKEL_DATA" --workers 2
fi
if [ ! -f "$READINGS" ] && [[ ",$FUSE," == *",skeleton,"* ]]; then
  stamp "MediaPipe's readings of rendered held hands (840 clips, seed 91) for the skeleton stream"
  $PYTHON scripts/make_readings.py --out "$READINGS" --held 120 --seed 91
fi
REAL_ARGS=()
if [ -f "$REAL/manifest.json" ]; then
  REAL_ARGS=(--real "$REAL")
else
  stamp "no real footage at $REAL: the skeleton stream learns from the skeleton world and the readings"
fi
t_train=$(date +%s)
stamp "prepare (preprocess once, cached beside the data)"
$PYTHON -c "import sys; from fusion.data.model_inputs import prepare_dataset; from fusion.preprocess import InputSpec; \
prepare_dataset(sys.argv[1], InputSpec(width=int(sys.argv[2]), height=int(sys.argv[3]), window=20))" \
  "$DATA" "${SIZE%x*}" "${SIZE#*x}"

# run NAME ARGS…: train into $RUNS/NAME.pt; a finished run (NAME.done) is skipped and an interrupted
# one (NAME.pt.state.pt left behind) is resumed, so the script can simply be started again.
run() {
  local name=$1; shift
  if [ -f "$RUNS/$name.done" ]; then stamp "$name: done before, skipped"; return 0; fi
  local resume=()
  if [ -f "$RUNS/$name.pt.state.pt" ]; then resume=(--resume "$RUNS/$name.pt"); fi
  $PYTHON main.py train $COMMON "$@" "${resume[@]}" --out "$RUNS/$name.pt" > "$RUNS/$name.log" 2>&1
  touch "$RUNS/$name.done"
  stamp "$name: finished"
}

# stream MODALITY ARGS…: the unimodal run of MODALITY, if $FUSE has it
uses() { [[ ",$FUSE," == *",$1,"* ]]; }
stream() { if uses "$1"; then run "$@"; fi; }

stamp "1. each stream alone ($FUSE): rgb | skeleton then depth (two processes)"
stream rgb --fusion none --modalities rgb --epochs 15 --lr 1e-3 --rgb-input "$RGB_INPUT" &
rgb=$!
( stream skeleton --data "$SKEL_DATA" "${REAL_ARGS[@]}" --readings "$READINGS" --fusion none --modalities skeleton --epochs 12 \
    --batch 32 --lr 3e-3 &&
  stream depth --fusion none --modalities depth --epochs 12 --lr 1e-3 ) &
others=$!
wait $rgb
wait $others
INIT=""
for m in ${FUSE//,/ }; do INIT="${INIT:+$INIT,}$m=$RUNS/$m.pt"; done

stamp "2. late fusion, 3. MMTM (paper variant, identity at init): from the streams ($FUSE), fine-tuned alike"
run late_avg --fusion late --modalities "$FUSE" --epochs 0 --init "$INIT"
FINE="--modalities $FUSE --epochs $FINE_EPOCHS --lr $FINE_LR --modality-dropout $FINE_DROPOUT --aux-loss $FINE_AUX --init $INIT"
run late --fusion late $FINE &
late=$!
MMTM_AT=(--mmtm-stages "$MMTM_STAGES" --mmtm-temporal "$MMTM_TEMPORAL")
if [ "$MMTM_POOLED" = 1 ]; then MMTM_AT+=(--mmtm-pooled); fi
run mmtm --fusion mmtm $FINE "${MMTM_AT[@]}" &
mmtm=$!
wait $late
wait $mmtm
t_end=$(date +%s)
if [ "$ONLINE" = 0 ]; then
  stamp "done: steps 1-3 took $(( t_end - t_train )) s"
  exit 0
fi

# continuous streams for the online step: DIR:STREAMS:SEED
STREAM_SETS="$DATA_STREAMS:24:2 $DATA_STREAMS2:32:3 $DATA_STREAMS3:64:4"
ALL=$DATA
for set in $STREAM_SETS; do
  IFS=: read -r dir count seed <<< "$set"
  if [ ! -f "$dir/index.json" ]; then
    stamp "generate $count continuous streams (seed $seed) for the online step"
    $PYTHON main.py generate --clips 0 --streams "$count" --seed "$seed" --out "$dir" --workers 2
  fi
  $PYTHON -c "import sys; from fusion.data.model_inputs import prepare_dataset; from fusion.preprocess import InputSpec; \
prepare_dataset(sys.argv[1], InputSpec(width=int(sys.argv[2]), height=int(sys.argv[3]), window=20))" \
    "$dir" "${SIZE%x*}" "${SIZE#*x}"
  ALL="$ALL,$dir"
done
stamp "4. online step: MMTM fine-tuned on the clips, windows of continuous streams, the real rows and readings"
run mmtm_online --data "$ALL" "${REAL_ARGS[@]}" --readings "$READINGS" --finetune "$RUNS/mmtm.pt" --epochs 4 --lr 1e-3 \
  --modality-dropout 0.25 --threads 2
cp "$RUNS/skeleton.pt" "$RUNS/skeleton_online.pt"  # the skeleton world's streams taught it already
t_end=$(date +%s)

VAL=${VAL:-$DATA-val64}   # 64 streams, seed 500: for the recogniser settings only
VAL_SKEL=${VAL_SKEL:-$SKEL_DATA-val64}
stamp "recogniser settings for mmtm_online (validation streams, seed 500)"
$PYTHON scripts/tune_online.py "$RUNS/mmtm_online.pt" --val "$VAL" --write
if [ ! -f "$HELD" ]; then
  stamp "MediaPipe's readings of other rendered held hands (420 clips, seed 200) for the webcam model's settings"
  $PYTHON scripts/make_readings.py --out "$HELD" --held 60 --seed 200
fi
stamp "recogniser settings for skeleton_online (skeleton-world validation streams, seed 500, 15-60 fps; held readings)"
$PYTHON scripts/tune_online.py "$RUNS/skeleton_online.pt" --val "$VAL_SKEL" --skeleton-only 15,20,25,30,60 \
  --held "$HELD" --write

stamp "done: training took $(( t_end - t_train )) s (data generation excluded; recogniser settings after)"
if [ "${INSTALL:-1}" = 1 ]; then  # INSTALL=0: a run for the seed comparison, assets untouched
  cp "$RUNS/mmtm_online.pt" assets/model_default.pt
  cp "$RUNS/skeleton_online.pt" assets/model_skeleton.pt
  stamp "wrote assets/model_default.pt, assets/model_skeleton.pt"
fi
