#!/usr/bin/env bash
# One run of a one-factor recipe screen at the published rate (README.md: "Recipe 8: spread
# depth", "Recipe 9: layer-uniform draws", "Recipe 10: the largest at half weight", "Recipe
# 11: private norms", "Recipe 12: width 96 alone"): recipe 3 with one setting changed, one
# seed, trained to 3,000 steps on one thread, then decoded the way the 0.1 comparison reads
# every run (the mean of the last five checkpoints up to 3,000, and step 3,000), all ten
# subnets (recipe 12: the six of width 96, the only ones in its space), recorded in the
# screen's reruns file; recipe_screen.py SCREEN reads it against recipe 3.
#
#   bash benchmarks/supernet_vs_individual/recipe_screen_run.sh spread 2         # recipe 8
#   bash benchmarks/supernet_vs_individual/recipe_screen_run.sh uniform 2|1      # recipe 9
#   bash benchmarks/supernet_vs_individual/recipe_screen_run.sh largest-half 2|1 # recipe 10
#   bash benchmarks/supernet_vs_individual/recipe_screen_run.sh private-norms 2|1 # recipe 11
#   bash benchmarks/supernet_vs_individual/recipe_screen_run.sh width96 2|1      # recipe 12
#
# Up to step 1,200 only the largest subnet trains, which none of these settings touches, so a
# run starts from recipe 3's step-1,200 checkpoint of its seed where one is here: seed 2's
# from exp/svi-cpu-scale0.1-long-strat-seed2 (which retraced the recorded run exactly), seed
# 1's from recipe 9's seed-1 run (which trained it from the first step). Recipe 9 seed 1 had
# none and trains from the first step, as do recipe 11 (its norms are other tensors, so no
# checkpoint of recipe 3 loads into it; its first 1,200 steps retrace recipe 3's) and recipe 12
# (a checkpoint resumes only into the model config it trained, and recipe 12 changes the
# model's widths). Run again after a kill, it resumes: training from its last checkpoint,
# decoding from the evaluations kept beside the checkpoints.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
screen=${1:?usage: recipe_screen_run.sh spread|uniform|largest-half|private-norms|width96 SEED}
seed=${2:?usage: recipe_screen_run.sh spread|uniform|largest-half|private-norms|width96 SEED}
D=benchmarks/supernet_vs_individual
PY=.venv/bin/python
case "$screen" in
  spread) SET="--set model.elastic_depth=spread"; LABEL="recipe 8 (recipe 3, spread depth)" ;;
  uniform) SET="--set recipe.random_layer_uniform=true"; LABEL="recipe 9 (recipe 3, layer-uniform draws)" ;;
  largest-half) SET="--set recipe.largest_loss_weight=0.5"; LABEL="recipe 10 (recipe 3, the largest at half weight)" ;;
  private-norms) SET="--set model.private_norms=true"; LABEL="recipe 11 (recipe 3, private norms)" ;;
  width96) SET="--set model.d_model_choices=[96]"; LABEL="recipe 12 (recipe 3, width 96 alone)" ;;
  *) echo "unknown screen: $screen (spread, uniform, largest-half, private-norms or width96)" >&2; exit 2 ;;
esac
OUT=exp/svi-cpu-scale0.1-$screen-seed$seed
case "$seed" in
  2) FROM=exp/svi-cpu-scale0.1-long-strat-seed2/supernet ;;
  1) FROM=exp/svi-cpu-scale0.1-uniform-seed1/supernet; [ "$screen" = uniform ] && FROM= ;;
  *) FROM= ;;
esac
[ "$screen" = private-norms ] || [ "$screen" = width96 ] && FROM=
SUBNETS="L2-D64-F192x2-H2x2 L3-D64-F288x3-H2x3 L3-D96-F288x3-H4x3 L4-D96-F384x4-H4x4 L4-D64-F384x4-H4x4
    L3-D96-F384x3-H2x3 L4-D96-F192x4-H2x4 L4-D96-F288x4-H2x4 L2-D96-F384x2-H4x2 L4-D64-F192x4-H2x4"
[ "$screen" = width96 ] && SUBNETS=$(printf '%s\n' $SUBNETS | grep -- -D96-)
if [ -n "$FROM" ] && [ ! -d $OUT/supernet ]; then
  mkdir -p $OUT.tmp/supernet/checkpoints
  cp -a $FROM/tokenizer $FROM/feature_stats.json $FROM/metrics.csv $OUT.tmp/supernet/
  cp $FROM/checkpoints/step-1200.pt $OUT.tmp/supernet/checkpoints/last.pt
  mv $OUT.tmp $OUT
fi
$PY $D/run.py --corpus corpora/open-2h --config configs/svi-cpu.yaml --out $OUT --part supernet --quiet \
    --set max_steps=3000 --set num_threads=1 --set optim.scale_lr_scale=0.1 --set seed="$seed" \
    --set recipe.shrink_after_steps=1200 --set recipe.num_random=2 --set recipe.random_per_width=true $SET
flock exp/reruns.lock $PY $D/reruns.py --eval-corpus corpora/open-2h-eval --last 5 --step 3000 \
    --subnets $SUBNETS --supernet "$LABEL=$seed:$OUT/supernet" \
    --record --record-file "reruns-scale0.1-$screen.json"
echo "$(date -u +%FT%TZ) done: $LABEL, seed $seed"
