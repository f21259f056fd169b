#!/usr/bin/env bash
# The small-scale LIMoE reproduction on Fashion-MNIST (docs/experiments/limoe.md): every variant at equal
# compute per token (dense MLP width = expert width, top-1 routing), trained on the official training set
# for the same number of steps, then evaluated zero-shot on the official test set with held-out prompts
# (evaluate.mjs, the library's evaluation path, dropless routing), its routing analysed, and the report
# written with paired intervals over seeds.
#   bash experiments/limoe/run_comparison.sh STEPS "SEEDS" "VARIANTS"
# e.g. bash experiments/limoe/run_comparison.sh 470 "0 1 2" "limoe dense limoe-no-entropy two-tower"
# Re-running skips finished runs and resumes interrupted ones.
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-470}
seeds=${2:-0 1 2}
variants=${3:-limoe dense limoe-no-entropy two-tower}
for seed in $seeds; do
  for v in $variants; do
    out="experiments/limoe/runs/cmp-${steps}-${v}-s${seed}"
    if [ -f "$out/train.json" ]; then echo "skip $out (trained)"; continue; fi
    mkdir -p "$out"
    node experiments/limoe/train.mjs --variant "$v" --steps "$steps" --batch 128 --seed "$seed" --out "$out" --resume > "$out/train.log" 2>&1 || { echo "FAILED $out"; continue; }
    echo "trained $out"
  done
done
