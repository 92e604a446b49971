"""mmseg's start-up warnings go to the log file, once, instead of the console.

Every run of every tool makes mmseg and mmengine warn about their own code, not the user's: ``build_loss`` (and
``build_head`` ...) "would be deprecated soon" (mmseg's heads call it), "Default ``avg_non_ignore`` is False" (each
``CrossEntropyLoss`` built without it), '"FileClient" will be deprecated' (mmcv's loading transforms). They repeat
at every start and hide the lines that matter. :func:`route_known_mmseg_warnings_to_log_file` installs a
``warnings.showwarning`` (the hook the ``warnings`` module provides for this) that:

* writes a warning matching :data:`KNOWN_MMSEG_WARNINGS` to the file handlers of the current ``MMLogger`` (the
  run's ``<work_dir>/<timestamp>/<timestamp>.log``) as a WARNING record, once per message and process, and to no
  console;
* hands every other warning to the ``showwarning`` it replaced, unchanged;
* shows a known warning raised before the log file exists (a tool that writes none) nowhere, and writes it to the
  log file when it comes again once the file exists.

``import mmseg_kd`` installs it, so every tool shares it. mmengine logs the ``FileClient`` message (and its
"``HardDiskBackend`` is the alias of ``LocalBackend``") through the runner's logger rather than ``warnings``:
:func:`keep_known_mmseg_messages_off_console`, called by the tools on their runner's logger, gives its console
handlers a filter that leaves those records to the log file.
"""
import logging
import re
import warnings
from typing import Callable, List, Set

from mmengine.logging import MMLogger

KNOWN_MMSEG_WARNINGS = (
    re.compile(r'``build_\w+`` would be deprecated soon'),
    re.compile(r'Default ``avg_non_ignore`` is False'),
    re.compile(r'"FileClient" will be deprecated in future'),
    re.compile(r'"HardDiskBackend" is the alias of "LocalBackend"'),
)


def is_known_mmseg_warning(text: str) -> bool:
    """Whether ``text`` is one of mmseg's start-up warnings (:data:`KNOWN_MMSEG_WARNINGS`)."""
    return any(pattern.search(text) for pattern in KNOWN_MMSEG_WARNINGS)


def log_file_handlers() -> List[logging.FileHandler]:
    """The file handlers of the current ``MMLogger`` (none before a runner or tool has created one with a file;
    mmengine then makes its default logger current, as ``print_log`` would)."""
    return [handler for handler in MMLogger.get_current_instance().handlers
            if isinstance(handler, logging.FileHandler)]


class KnownWarningsToLogFile:
    """A ``warnings.showwarning``: known mmseg warnings to the log file once, every other one to ``show_other``."""

    def __init__(self, show_other: Callable) -> None:
        self.show_other = show_other
        self.logged: Set[str] = set()

    def __call__(self, message, category, filename, lineno, file=None, line=None) -> None:
        text = str(message)
        if not is_known_mmseg_warning(text):
            self.show_other(message, category, filename, lineno, file, line)
            return
        handlers = log_file_handlers()
        if text in self.logged or not handlers:
            return
        self.logged.add(text)
        record = logging.LogRecord(MMLogger.get_current_instance().name, logging.WARNING, filename, lineno,
                                   f'{category.__name__}: {text} ({filename}:{lineno}; mmseg warns at every start, '
                                   'written here once and not on the console)', None, None)
        for handler in handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


def route_known_mmseg_warnings_to_log_file() -> None:
    """Install :class:`KnownWarningsToLogFile` as ``warnings.showwarning`` (once; idempotent), with an ``always``
    filter for the known warnings: Python's default shows a warning once per code location, so one raised before
    the log file exists would never reach it; the hook itself writes each message once."""
    if isinstance(warnings.showwarning, KnownWarningsToLogFile):
        return
    for pattern in KNOWN_MMSEG_WARNINGS:
        warnings.filterwarnings('always', message='.*' + pattern.pattern)
    warnings.showwarning = KnownWarningsToLogFile(warnings.showwarning)


class KnownMmsegMessagesOffConsole(logging.Filter):
    """A handler filter that drops log records of :data:`KNOWN_MMSEG_WARNINGS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not is_known_mmseg_warning(record.getMessage())


def keep_known_mmseg_messages_off_console(logger: logging.Logger) -> None:
    """Give the console handlers of ``logger`` (those that are not file handlers) a
    :class:`KnownMmsegMessagesOffConsole` filter; its file handlers still write every record."""
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler) and \
                not any(isinstance(f, KnownMmsegMessagesOffConsole) for f in handler.filters):
            handler.addFilter(KnownMmsegMessagesOffConsole())
