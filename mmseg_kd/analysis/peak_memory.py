"""Peak memory of a block of code, in MB above the memory in use when it starts.

CUDA: ``torch.cuda.max_memory_allocated``. CPU: the process's peak resident set size (Linux ``VmHWM``), reset to
the current size when the block starts (``/proc/self/clear_refs``), after returning cached free memory to the
system (``malloc_trim``) so that the block cannot hide its allocations in memory freed before it. Unlike
``ru_maxrss``, which never goes down, this measures the block itself and not an earlier peak.
"""
import ctypes
import gc

import torch


def _proc_status_mb(key: str) -> float:
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f'{key} not in /proc/self/status')


class PeakMemory:
    """Peak memory of the code run inside the context, in MB above the memory in use when it starts."""

    def __init__(self, device):
        self.cuda = str(device).startswith('cuda')
        self.megabytes = None

    def __enter__(self):
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
            self.start = torch.cuda.memory_allocated() / 2**20
        else:
            gc.collect()
            ctypes.CDLL('libc.so.6').malloc_trim(0)  # return cached free memory, so the step cannot reuse it
            with open('/proc/self/clear_refs', 'w') as clear_refs:
                clear_refs.write('5')  # reset the peak resident set size to the current one
            self.start = _proc_status_mb('VmRSS')
        return self

    def __exit__(self, *exc):
        peak = torch.cuda.max_memory_allocated() / 2**20 if self.cuda else _proc_status_mb('VmHWM')
        self.megabytes = peak - self.start
