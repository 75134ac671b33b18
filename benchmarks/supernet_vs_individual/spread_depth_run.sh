#!/usr/bin/env bash
# Recipe 8, seed 2 (README.md, "Recipe 8: spread depth"): recipe 3 at the published rate with
# model.elastic_depth=spread, continued from recipe 3 seed 2's step-1,200 checkpoint (up to
# there only the largest subnet trained, which runs every layer under either rule), trained
# to 3,000 steps on one thread, then decoded the way the 0.1 comparison reads every run (the
# mean of the last five checkpoints up to 3,000, and step 3,000), all ten subnets, recorded
# in reruns-scale0.1-spread.json.
#
#   bash benchmarks/supernet_vs_individual/spread_depth_run.sh
#
# Run again after a kill, it resumes: training from its last checkpoint, decoding from the
# evaluations kept beside the checkpoints.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
D=benchmarks/supernet_vs_individual
PY=.venv/bin/python
FROM=exp/svi-cpu-scale0.1-long-strat-seed2/supernet   # recipe 3 seed 2, retraced to 3,000 steps
OUT=exp/svi-cpu-scale0.1-spread-seed2
SUBNETS="L2-D64-F192x2-H2x2 L3-D64-F288x3-H2x3 L3-D96-F288x3-H4x3 L4-D96-F384x4-H4x4 L4-D64-F384x4-H4x4
    L3-D96-F384x3-H2x3 L4-D96-F192x4-H2x4 L4-D96-F288x4-H2x4 L2-D96-F384x2-H4x2 L4-D64-F192x4-H2x4"
if [ ! -d $OUT/supernet ]; then
  mkdir -p $OUT.tmp/supernet/checkpoints
  cp -a $FROM/tokenizer $FROM/feature_stats.json $FROM/metrics.csv $OUT.tmp/supernet/
  cp $FROM/checkpoints/step-1200.pt $OUT.tmp/supernet/checkpoints/last.pt
  mv $OUT.tmp $OUT
fi
$PY $D/run.py --corpus corpora/open-2h --config configs/svi-cpu.yaml --out $OUT --part supernet --quiet \
    --set max_steps=3000 --set num_threads=1 --set optim.scale_lr_scale=0.1 --set seed=2 \
    --set recipe.shrink_after_steps=1200 --set recipe.num_random=2 --set recipe.random_per_width=true \
    --set model.elastic_depth=spread
flock exp/reruns.lock $PY $D/reruns.py --eval-corpus corpora/open-2h-eval --last 5 --step 3000 \
    --subnets $SUBNETS --supernet "recipe 8 (recipe 3, spread depth)=2:$OUT/supernet" \
    --record --record-file reruns-scale0.1-spread.json
echo "$(date -u +%FT%TZ) done: recipe 8 seed 2"
