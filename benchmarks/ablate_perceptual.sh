#!/usr/bin/env bash
# The perceptual/style ablation behind restorer/training/README.md ("The perceptual and style losses
# without VGG"): PConv width 24 trained from scratch for 1000 steps per arm (128-px crops, batch 8, one
# thread each, two arms at a time), then every arm scored on the same 100 pairs per bucket at 256 px
# beside Telea and Navier-Stokes. About 100 minutes on two CPU cores.
#
#   bash benchmarks/ablate_perceptual.sh [OUT]      (default OUT: runs/ablate-perceptual)
#   STEPS=2 PAIRS=1 bash benchmarks/ablate_perceptual.sh /tmp/smoke     (a quick check that it runs)
set -euo pipefail
out=${1:-runs/ablate-perceptual}
steps=${STEPS:-1000}
pairs=${PAIRS:-100}
mkdir -p "$out"

arm() {  # arm NAME SEED ARGS...
    local name=$1 seed=$2
    shift 2
    nice -n 5 restorer-cli train --model partialconv --run-dir "$out/$name" --seed "$seed" "$@" \
        --width 24 --crop 128 --batch 8 --steps "$steps" --threads 1 --workers 1 --val-every 500 \
        --ckpt-every 250 --quiet
}

arm none 0 --perceptual none &
arm perc2 0 --perceptual random --weight perceptual=2 --weight style=0 &
wait
arm perc05 0 --perceptual random --weight perceptual=0.5 --weight style=0 &
arm style500 0 --perceptual random --weight perceptual=0 --weight style=500 &
wait
arm perc2-style50 0 --perceptual random --weight perceptual=2 --weight style=50 &
arm perc2-style50-s1 1 --perceptual random --weight perceptual=2 --weight style=50 &
wait
for seed in 1 2; do
    arm none-s$seed $seed --perceptual none &
    arm perc2-s$seed $seed --perceptual random --weight perceptual=2 --weight style=0 &
    wait
done

OMP_NUM_THREADS=2 restorer-cli evaluate "$out"/{none,perc05,perc2,style500,perc2-style50,none-s1,perc2-s1,perc2-style50-s1,none-s2,perc2-s2}/latest.pt \
    --pairs "$pairs" --size 256 --out "$out/evaluation"
