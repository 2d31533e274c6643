"""The errors msgconform shows to people.

Code that refuses what a user gave it (arguments, a targets file) raises a `UsageError`
with a message of one line; the CLI prints that line and exits with status 2 (see
contracts.md section 1: "the run could not judge"). Everything else is a bug and keeps its
traceback. Messages never contain secrets: they name keys and files, never values.
"""

from __future__ import annotations


class MsgconformError(Exception):
    """Base of every error msgconform reports to the user instead of crashing."""

    exit_status = 2


class UsageError(MsgconformError):
    """Bad arguments or input files: the run cannot start (exit status 2)."""


class TargetsError(UsageError):
    """The targets file (contracts.md section 2) is unreadable, malformed or refused.

    The message names the file and the key path, e.g.
    ``targets.toml: itslearning.users.bcc: missing required role``.
    """
