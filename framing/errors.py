"""Errors the CLI turns into one-line messages with documented exit codes."""

from __future__ import annotations

# Exit codes, documented in the README and in `framing --help`.
EXIT_OK = 0
EXIT_INPUT = 2  # bad input: missing path, unreadable file, wrong columns, failed corpus check
EXIT_PARTIAL = 3  # some articles were scored, others failed (listed in the errors file)
EXIT_MODEL = 4  # model folder refused: wrong codebook, newer format, checksum mismatch
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM; finished work is kept, --resume continues


class FramingError(Exception):
    """Base class: an error with a message meant for the user, and an exit code."""

    exit_code = EXIT_INPUT


class InputError(FramingError):
    exit_code = EXIT_INPUT


class ModelError(FramingError):
    exit_code = EXIT_MODEL


class Interrupted(FramingError):
    """Ctrl-C or SIGTERM during a run that keeps its finished work; the message says what was kept."""

    exit_code = EXIT_INTERRUPTED


class InputWarning(UserWarning):
    """Input that works but is probably not what was meant (metadata rows that match no article, say).
    Raised with :func:`warnings.warn`, so notebooks show it too; the CLI prints it as ``warning: ...``."""
