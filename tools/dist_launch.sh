# Sourced by tools/dist_train.sh, dist_test.sh and dist_cache_teacher.sh: the checks and the torchrun call they share.
# The sourcing script sets USAGE, then calls `launch TOOL N "$@"`. Several nodes: set NNODES, NODE_RANK, MASTER_ADDR and PORT on each
# node. On a machine without CUDA the processes use the gloo backend (CPU), which is how the tests run them.
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT=$(basename "$0")

# GPUS (processes on this node) must be an integer >= 1; otherwise the usage line and exit status 2.
check_gpus() {
    if ! [[ "$GPUS" =~ ^[0-9]+$ ]] || [ "$((10#$GPUS))" -lt 1 ]; then
        echo "$SCRIPT: GPUS must be an integer >= 1, got '$GPUS'" >&2
        echo "$USAGE" >&2
        exit 2
    fi
}

# torchrun_tool TOOL ARGS...: run tools/TOOL with ARGS in GPUS processes on this node, then exit with its status.
torchrun_tool() {
    # The first node hosts torchrun's rendezvous on PORT: a port in use (another distributed job on this machine)
    # would end in torch's EADDRINUSE traceback.
    if [ "$NODE_RANK" = 0 ] && ! "$PYTHON" -c 'import socket, sys; socket.create_server(("", int(sys.argv[1]))).close()' \
            "$PORT" 2>/dev/null; then
        echo "$SCRIPT: port $PORT is already in use on this machine (another distributed job?). Give this job another" \
             "port, e.g. PORT=$((PORT + 1)) bash tools/$SCRIPT ..." >&2
        exit 1
    fi

    # A rank that stops on a mistake of the user's writes its error block into MMSEG_KD_ERROR_DIR
    # (mmseg_kd/engine/tool_errors.py); it is printed after torchrun's own report, so that it comes last.
    MMSEG_KD_ERROR_DIR=$(mktemp -d)
    export MMSEG_KD_ERROR_DIR
    trap 'rm -rf "$MMSEG_KD_ERROR_DIR"' EXIT
    local status=0
    PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
    "$PYTHON" -m torch.distributed.run \
        --nnodes="$NNODES" \
        --node_rank="$NODE_RANK" \
        --master_addr="$MASTER_ADDR" \
        --nproc_per_node="$GPUS" \
        --master_port="$PORT" \
        "$TOOLS/$1" "${@:2}" || status=$?
    if [ "$status" != 0 ]; then
        local first
        first=$(ls "$MMSEG_KD_ERROR_DIR" | sort -n | head -n 1)  # the lowest rank's block (rank 0's if it stopped)
        if [ -n "$first" ]; then
            cat "$MMSEG_KD_ERROR_DIR/$first" >&2
        fi
    fi
    exit "$status"
}

# launch TOOL N ARGS...: ARGS are the script's arguments: N positional ones (CONFIG, or CONFIG CHECKPOINT), GPUS, then
# the tool's options. Too few arguments: the usage line and exit status 2; then GPUS is checked and TOOL runs as
# `TOOL POSITIONAL... --launcher pytorch OPTIONS...` in GPUS processes (torchrun_tool).
launch() {
    local tool=$1 positional=$2
    shift 2
    if [ $# -le "$positional" ]; then
        echo "$USAGE" >&2
        exit 2
    fi
    GPUS=${*:$((positional + 1)):1}
    check_gpus
    torchrun_tool "$tool" "${@:1:$positional}" --launcher pytorch "${@:$((positional + 2))}"
}
