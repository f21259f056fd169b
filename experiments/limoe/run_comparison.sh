#!/usr/bin/env bash
# The small-scale LIMoE reproduction on Fashion-MNIST: every variant at equal compute per token (dense MLP
# width = expert width, top-1 routing), trained for the same number of steps, evaluated zero-shot on the
# 10,000 test images with held-out prompts, then its routing analysed.
#   bash experiments/limoe/run_comparison.sh STEPS "SEEDS" "VARIANTS"
# e.g. bash experiments/limoe/run_comparison.sh 470 "0 1" "limoe dense limoe-no-entropy two-tower"
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-470}
seeds=${2:-0}
variants=${3:-limoe dense limoe-no-entropy two-tower}
for seed in $seeds; do
  for v in $variants; do
    out="experiments/limoe/runs/cmp-${steps}-${v}-s${seed}"
    if [ -f "$out/summary.json" ]; then echo "skip $out (done)"; continue; fi
    node experiments/limoe/train.mjs --variant "$v" --steps "$steps" --batch 128 --seed "$seed" --out "$out" --resume > "$out.log" 2>&1 || { echo "FAILED $out"; continue; }
    if [ "$v" != dense ] && [ "$v" != two-tower ]; then node experiments/limoe/analyze.mjs "$out" >> "$out.log" 2>&1; fi
    echo "done $out"
  done
done
