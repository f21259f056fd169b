#!/usr/bin/env bash
# The multi-task MoE reproduction (docs/experiments/mtl.md), one command:
#   bash experiments/mtl/run.sh                 # the full comparison, 3 seeds (~1.5 h on 2 cores)
#   STEPS=20 SEEDS=0 TRAIN_PER_CLASS=200 TEST_PER_CLASS=50 bash experiments/mtl/run.sh   # smoke run
# Every model is trained for the same number of steps on batches of BATCH images per task (single-task models
# see exactly as many examples of their task as the multi-task ones), two at a time (two processes: the
# wasm backend is single-threaded), then the report script writes docs/experiments/mtl.md from the results.
# Re-running skips finished models and resumes interrupted ones from their checkpoints.
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${STEPS:-400}
BATCH=${BATCH:-16}
SEEDS=${SEEDS:-0 1 2}
JOBS=${JOBS:-2}
RUNS=${RUNS:-experiments/mtl/runs/main}
extra=()
[ -n "${TRAIN_PER_CLASS:-}" ] && extra+=(--train-per-class "$TRAIN_PER_CLASS")
[ -n "${TEST_PER_CLASS:-}" ] && extra+=(--test-per-class "$TEST_PER_CLASS")
# AES: upstream checks every 2000 steps with a patience of 5000; scaled to this run's length.
extra+=(--aes-every "${AES_EVERY:-25}" --aes-patience "${AES_PATIENCE:-50}")
mkdir -p "$RUNS"
start=$(date +%s)

# Longest first, so the two lanes finish together: AES may grow k, then the MoE models, then the rest.
jobs=()
for seed in $SEEDS; do
  for v in adamv modsquad modsquad-no-mi adamv-no-aes moe-shared dense; do jobs+=("$v - $seed"); done
done
for seed in $SEEDS; do
  for t in category coarse edges denoise; do jobs+=("single $t $seed"); done
done

run_one() {
  read -r v task seed <<<"$1"
  name=$v; taskArgs=()
  if [ "$v" = single ]; then name="single-$task"; taskArgs=(--task "$task"); fi
  out="$RUNS/$name-s$seed"
  if [ -f "$out/summary.json" ]; then echo "skip $out (done)"; return 0; fi
  mkdir -p "$out"
  resume=(); [ -d "$out/checkpoints" ] && resume=(--resume)
  t0=$(date +%s)
  if node experiments/mtl/train.mjs --variant "$v" "${taskArgs[@]}" --seed "$seed" --steps "$STEPS" --batch "$BATCH" \
      --out "$out" "${resume[@]}" "${EXTRA[@]}" >"$out/train.log" 2>&1; then
    echo "done $out ($(( $(date +%s) - t0 )) s)"
  else
    echo "FAILED $out (see $out/train.log)"; tail -5 "$out/train.log"; return 1
  fi
}
export -f run_one
export STEPS BATCH RUNS
# Bash cannot export arrays; pass the extra flags through a string.
export EXTRA_FLAGS="${extra[*]:-}"
echo "mtl: ${#jobs[@]} models, $STEPS steps × batch $BATCH, $JOBS at a time → $RUNS"
status=0
printf '%s\n' "${jobs[@]}" | xargs -P "$JOBS" -I{} bash -c 'read -ra EXTRA <<<"$EXTRA_FLAGS"; run_one "{}"' || status=$?
# AES only acts when a task's validation loss stops improving, which it never did within 400 steps: AdaMV with
# AES again at a longer budget (same check interval and patience), so its decisions can be observed, with its
# equal-compute baseline without AES.
AES_STEPS=${AES_STEPS:-1200}
AES_RUNS=${AES_RUNS:-$RUNS-aes-long}
if [ "$AES_STEPS" -gt 0 ]; then
  mkdir -p "$AES_RUNS"
  echo "mtl: AdaMV with and without AES at $AES_STEPS steps → $AES_RUNS"
  for seed in $SEEDS; do echo "adamv - $seed"; echo "adamv-no-aes - $seed"; done |
    RUNS=$AES_RUNS STEPS=$AES_STEPS xargs -P "$JOBS" -I{} bash -c 'read -ra EXTRA <<<"$EXTRA_FLAGS"; run_one "{}"' || status=$?
fi
echo "training finished in $(( $(date +%s) - start )) s"
node experiments/mtl/report.mjs "$RUNS" "$AES_RUNS"
npx prettier --log-level warn --write docs/experiments/mtl.md
echo "total $(( $(date +%s) - start )) s"
exit $status
