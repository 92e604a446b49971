#!/usr/bin/env bash
# The teacher cache written by several processes with torchrun, one per GPU, each computing a share of the images:
#   bash tools/dist_cache_teacher.sh CONFIG GPUS [cache_teacher.py options]
# Several nodes (sharing the cache folder): set NNODES, NODE_RANK, MASTER_ADDR and PORT on each node. On a machine
# without CUDA the processes use the gloo backend (CPU), which is how the tests run it.
set -euo pipefail
USAGE="usage: bash tools/dist_cache_teacher.sh CONFIG GPUS [cache_teacher.py options]  (GPUS: processes on this \
node, an integer >= 1)"
source "$(dirname "$0")/dist_launch.sh"
launch cache_teacher.py 1 "$@"
