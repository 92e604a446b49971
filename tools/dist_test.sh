#!/usr/bin/env bash
# Distributed evaluation with torchrun:  bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
# Several nodes: set NNODES, NODE_RANK, MASTER_ADDR and PORT on each node.
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
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
    echo "dist_test.sh: port $PORT is already in use on this machine (another distributed job?). Give this job another" \
         "port, e.g. PORT=$((PORT + 1)) bash tools/dist_test.sh ..." >&2
    exit 1
fi

PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$TOOLS/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
