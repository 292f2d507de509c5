#!/usr/bin/env bash
# The scaling runs of bench/README.md: the local Temporal cluster with 16 and
# with 4 history shards, the worker under test as 1 and as 2 processes, each
# shape measured ROUNDS times (throughput at 4 and 16 clients, the reply's
# latency, 1,000 deadlines at once), then drawn by `starter bench chart`.
#
#   make build && bench/scaling.sh [folder]     (default .dev/bench-scaling)
#
# Each cluster is warmed by one throughput run before it is measured; a
# shape's rounds alternate with the other worker count's, so drift shows in
# both. It stops the local stack it starts and leaves the reports in folder.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.dev/bench-scaling}"
rounds="${ROUNDS:-2}"
mkdir -p "$out"

bench() { bin/starter bench -out "$out/$1" "${@:2}"; }

for shards in ${SHARDS:-16 4}; do
  bin/localstack down >/dev/null 2>&1 || true
  TEMPORAL_MODE=cluster TEMPORAL_SHARDS="$shards" bin/localstack up
  bench "warmup-s$shards" -parts throughput -concurrency 16 >/dev/null
  for round in $(seq "$rounds"); do
    for workers in 1 2; do
      tag="s$shards-w$workers-r$round"
      echo "scaling: $tag" >&2
      bench "$tag" -parts latency,throughput -concurrency 4 -workers "$workers"
      bench "$tag" -parts throughput -concurrency 16 -workers "$workers"
      bench "$tag" -parts lateness -lateness 1000 -concurrency 16 -workers "$workers"
    done
  done
  bin/localstack down
done
bin/starter bench chart -out bench/scaling.svg "$out"/s*/*.json
