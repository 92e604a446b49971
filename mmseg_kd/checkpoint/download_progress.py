"""Progress of a download in bytes, for a size that is known (``Content-Length``) or not.

On a terminal one line is redrawn in place (``\\r``) at most every ``TERMINAL_INTERVAL_S``; elsewhere (a log
file, a Slurm output file) a new line is written every ``LOG_INTERVAL_S``, so that logs stay short. A final
line gives the total and the time taken.
"""
import sys
import time
from typing import Optional, TextIO

MIB = float(1 << 20)
TERMINAL_INTERVAL_S = 0.2
LOG_INTERVAL_S = 10.0


class DownloadProgress:
    """Report how many bytes of a download have arrived.

    Args:
        total_bytes: the announced size, or ``None`` when the server does not say.
        stream: where to write; the current ``sys.stderr`` by default.
    """

    def __init__(self, total_bytes: Optional[int], stream: Optional[TextIO] = None):
        self.total_bytes = total_bytes
        self.stream = stream or sys.stderr
        self.on_terminal = bool(getattr(self.stream, 'isatty', lambda: False)())
        self.interval_s = TERMINAL_INTERVAL_S if self.on_terminal else LOG_INTERVAL_S
        self.start = self.last_report = time.monotonic()

    def describe(self, received_bytes: int) -> str:
        """``'12.0 / 48.0 MiB (25%)'`` for a known size, ``'12.0 MiB'`` otherwise."""
        if self.total_bytes:
            share = 100.0 * received_bytes / self.total_bytes
            return f'{received_bytes / MIB:.1f} / {self.total_bytes / MIB:.1f} MiB ({share:.0f}%)'
        return f'{received_bytes / MIB:.1f} MiB'

    def update(self, received_bytes: int) -> None:
        """Report ``received_bytes`` if the last report is older than the interval."""
        now = time.monotonic()
        if now - self.last_report < self.interval_s:
            return
        self.last_report = now
        rate = received_bytes / MIB / max(now - self.start, 1e-9)
        self._write(f'  {self.describe(received_bytes)}, {rate:.1f} MiB/s')

    def finish(self, received_bytes: int) -> None:
        """The final line: the bytes received and the time taken."""
        self._write(f'  {self.describe(received_bytes)} in {time.monotonic() - self.start:.1f} s')
        if self.on_terminal:
            self.stream.write('\n')
        self.stream.flush()

    def _write(self, line: str) -> None:
        if self.on_terminal:
            self.stream.write('\r' + line.ljust(60))
        else:
            self.stream.write(line + '\n')
        self.stream.flush()
