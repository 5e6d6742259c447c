"""The error types every layer raises for problems a user can fix (shown as one line, never a traceback),
and the exit statuses a command ends with."""

from __future__ import annotations

# Every command (restorer-cli and its training commands alike) ends with these: a RestorerError is
# EXIT_ERROR, a bad command line EXIT_USAGE (argparse's own), Ctrl+C 130 and SIGTERM 143 (128 + signal).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


class RestorerError(Exception):
    """A problem with the user's input or environment; str(err) is the one-line message."""


class ImageError(RestorerError):
    """A photo or mask file cannot be read or written (names the file and the problem)."""


class MaskError(RestorerError):
    """A mask does not fit its photo (size, content)."""


class PhotoBusy(RestorerError):
    """The photo's pixels cannot change now: a background job (a save) is reading them."""


class ModelUnavailable(RestorerError):
    """A model cannot run: unknown name, or missing/corrupt weights (the reason is the message)."""


class Cancelled(RestorerError):
    """A job was cancelled by the user."""


class OutOfMemory(RestorerError, RuntimeError):
    """A model ran out of device memory (raised in place of the framework's own error; the engine
    retries with smaller crops, then on the CPU)."""
