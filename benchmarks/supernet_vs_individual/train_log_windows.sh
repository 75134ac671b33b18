#!/bin/bash
# Mean of each logged loss column over windows of steps, recipe 3 and recipe 4 side by side
# (the same steps and batches in both). These runs' metrics.csv predate the widened
# header: after loss_largest the columns are kd_smallest, loss_smallest, kd_random1,
# loss_random1, kd_random2, loss_random2 (random1 width 64, random2 width 96).
#   bash benchmarks/supernet_vs_individual/train_log_windows.sh > benchmarks/supernet_vs_individual/train-log-sorted-vs-per-width.txt
echo "window run loss_largest kd_smallest loss_smallest kd_random1 loss_random1 kd_random2 loss_random2"
for w in "1225 1225" "1250 1400" "1425 1600" "1625 2000" "2025 3000"; do
  set -- $w
  for run in svi-cpu-strat svi-cpu-sort; do
    awk -F, -v a="$1" -v b="$2" -v r="$run" '$1 ~ /^[0-9]+$/ && $1 >= a && $1 <= b {
        for (i = 6; i <= NF; i++) s[i] += $i; n++; nf = NF }
      END { printf "%s-%s %s", a, b, r; for (i = 6; i <= nf; i++) printf " %.2f", s[i] / n; print "" }' \
      exp/$run/supernet/metrics.csv
  done
done
