#!/usr/bin/env bash
# Recipe 9 (README.md, "Recipe 9: layer-uniform draws"): recipe 3 at the published rate with
# recipe.random_layer_uniform=true (each random subnet one feed-forward width and one number
# of heads in every layer), one seed per lane, trained to 3,000 steps on one thread, then
# decoded the way the 0.1 comparison reads every run (the mean of the last five checkpoints
# up to 3,000, and step 3,000), all ten subnets, recorded in reruns-scale0.1-uniform.json.
#
#   bash benchmarks/supernet_vs_individual/uniform_draws_run.sh 2   # from recipe 3 seed 2's step 1,200
#   bash benchmarks/supernet_vs_individual/uniform_draws_run.sh 1   # from the first step
#
# Seed 2 continues from recipe 3 seed 2's step-1,200 checkpoint (exp/svi-cpu-scale0.1-long-strat-seed2,
# which retraced the recorded run exactly); up to there only the largest subnet trains, which
# no draw rule touches. Seed 1 has no such checkpoint here and trains from the first step, so
# its first 1,200 steps are recipe 3 seed 1's again. Run again after a kill, it resumes:
# training from its last checkpoint, decoding from the evaluations kept beside the checkpoints.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
seed=${1:?usage: uniform_draws_run.sh SEED}
D=benchmarks/supernet_vs_individual
PY=.venv/bin/python
FROM=exp/svi-cpu-scale0.1-long-strat-seed2/supernet
OUT=exp/svi-cpu-scale0.1-uniform-seed$seed
SUBNETS="L2-D64-F192x2-H2x2 L3-D64-F288x3-H2x3 L3-D96-F288x3-H4x3 L4-D96-F384x4-H4x4 L4-D64-F384x4-H4x4
    L3-D96-F384x3-H2x3 L4-D96-F192x4-H2x4 L4-D96-F288x4-H2x4 L2-D96-F384x2-H4x2 L4-D64-F192x4-H2x4"
if [ "$seed" = 2 ] && [ ! -d $OUT/supernet ]; then
  mkdir -p $OUT.tmp/supernet/checkpoints
  cp -a $FROM/tokenizer $FROM/feature_stats.json $FROM/metrics.csv $OUT.tmp/supernet/
  cp $FROM/checkpoints/step-1200.pt $OUT.tmp/supernet/checkpoints/last.pt
  mv $OUT.tmp $OUT
fi
$PY $D/run.py --corpus corpora/open-2h --config configs/svi-cpu.yaml --out $OUT --part supernet --quiet \
    --set max_steps=3000 --set num_threads=1 --set optim.scale_lr_scale=0.1 --set seed="$seed" \
    --set recipe.shrink_after_steps=1200 --set recipe.num_random=2 --set recipe.random_per_width=true \
    --set recipe.random_layer_uniform=true
flock exp/reruns.lock $PY $D/reruns.py --eval-corpus corpora/open-2h-eval --last 5 --step 3000 \
    --subnets $SUBNETS --supernet "recipe 9 (recipe 3, layer-uniform draws)=$seed:$OUT/supernet" \
    --record --record-file reruns-scale0.1-uniform.json
echo "$(date -u +%FT%TZ) done: recipe 9 seed $seed"
