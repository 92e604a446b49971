#!/usr/bin/env bash
# Distributed training with torchrun:  bash tools/dist_train.sh CONFIG GPUS [train.py options]
# Several nodes: set NNODES, NODE_RANK, MASTER_ADDR and PORT on each node. On a machine without CUDA the
# processes use the gloo backend (CPU), which is how the tests run it.
set -euo pipefail
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
TOOLS=$(cd "$(dirname "$0")" && pwd)

# The first node hosts torchrun's rendezvous on PORT: a port in use (another distributed job on this machine) would
# end in torch's EADDRINUSE traceback.
if [ "$NODE_RANK" = 0 ] && ! "$PYTHON" -c 'import socket, sys; socket.create_server(("", int(sys.argv[1]))).close()' \
        "$PORT" 2>/dev/null; then
    echo "dist_train.sh: port $PORT is already in use on this machine (another distributed job?). Give this job another" \
         "port, e.g. PORT=$((PORT + 1)) bash tools/dist_train.sh ..." >&2
    exit 1
fi

PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$TOOLS/train.py" "$CONFIG" --launcher pytorch "${@:3}"
