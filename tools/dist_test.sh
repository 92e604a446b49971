#!/usr/bin/env bash
# Distributed evaluation with torchrun:  bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
# Several nodes: set NNODES, NODE_RANK, MASTER_ADDR and PORT on each node.
set -euo pipefail
USAGE="usage: bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]  (GPUS: processes on this node, an \
integer >= 1)"
source "$(dirname "$0")/dist_launch.sh"
launch test.py 2 "$@"
