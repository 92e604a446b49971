#!/usr/bin/env bash
# Distributed training with torchrun:  bash tools/dist_train.sh CONFIG GPUS [train.py options]
# Several nodes: set NNODES, NODE_RANK, MASTER_ADDR and PORT on each node. On a machine without CUDA the
# processes use the gloo backend (CPU), which is how the tests run it.
set -euo pipefail
USAGE="usage: bash tools/dist_train.sh CONFIG GPUS [train.py options]  (GPUS: processes on this node, an integer >= 1)"
source "$(dirname "$0")/dist_launch.sh"
launch train.py 1 "$@"
