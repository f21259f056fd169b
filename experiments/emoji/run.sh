#!/usr/bin/env bash
# The cross-style emoji benchmark (docs/experiments/emoji.md): trains each model config on the Noto
# image–caption pairs with the CLI's `zero-shot train` (open_clip-style), one run at a time, validating on the
# Twemoji pairs at the end (the library's open_clip retrieval metrics, a cross-check of evaluate.mjs), then
# evaluate.mjs scores every run on Twemoji and report.mjs writes the report.
#   bash experiments/emoji/setup.sh                       # data packages + experiments/emoji/data/
#   bash experiments/emoji/run.sh EPOCHS "SEEDS" "VARIANTS"
# e.g. bash experiments/emoji/run.sh 20 "0 1 2" "limoe dense"
# The variant "untrained-<config>" is the sanity row: one step at lr 1e-12 (the CLI refuses lr 0), i.e. the
# random initialisation with the tokenizer learned from the training captions, evaluated the same way.
# Re-running skips finished runs and resumes interrupted ones.
set -euo pipefail
cd "$(dirname "$0")"
epochs=${1:-20}
seeds=${2:-0 1 2}
variants=${3:-limoe dense}
cli=../../apps/zero-shot-cli/dist/bin.js
for seed in $seeds; do
  for v in $variants; do
    if [[ $v == untrained-* ]]; then
      config=${v#untrained-}; len=(--steps 1 --lr 1e-12); out="runs/untrained-${config}-s${seed}"
    else
      config=$v; len=(--epochs "$epochs" --lr 1e-3); out="runs/e${epochs}-${v}-s${seed}"
    fi
    if [ -f "$out/model.safetensors" ]; then echo "skip $out (trained)"; continue; fi
    resume=(); [ -d "$out/checkpoints" ] && resume=(--resume)
    mkdir -p "$out"
    node "$cli" train --train-data data/noto-pairs.jsonl --val-data data/twemoji-pairs.jsonl \
      --model "$config.json" "${len[@]}" --batch-size 64 --seed "$seed" --out "$out" "${resume[@]}" \
      > "$out.log" 2>&1 || { echo "FAILED $out (see $out.log)"; continue; }
    echo "trained $out $(date -u +%H:%M:%S)"
  done
done
