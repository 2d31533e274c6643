"""The IMAP sink: pymap's in-memory server, run as a subprocess, for SentItemsConnectionInfo.

pymap is a command-line server, so it runs as a child process of the suite:

    pymap --host H --port N --no-tls dict --demo-data --demo-user U @ARGS

on a port chosen free a moment before, with a user and password made fresh for this sink.
The password never goes on the command line (any local user can read that with `ps`):
`@ARGS` is a file of arguments, one per line, which pymap reads with `$NAME` taken from its
environment; the file says `--demo-password=${MSGCONFORM_IMAP_PASSWORD}` (one argument with
`=`: a password starting with `-`, as one in 64 of `token_urlsafe` do, is then still a value,
not an option), and only the child's environment (readable by its owner alone) holds the value.
The demo data gives the folders INBOX, Sent and Trash (and a few messages of its own, so a
copy is found by the run's token in its Subject, never by counting). The sink is ready when
its port accepts a connection (bounded wait); `stop()` ends exactly the process it started,
by its handle (terminate, then kill after a bound). Reading goes through `imaplib`, every
call with a timeout.
"""

from __future__ import annotations

import imaplib
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from msgconform.sink._smtp import free_port

START_TIMEOUT = 15.0
IMAP_TIMEOUT = 10.0
FOLDER = "Sent"
_PASSWORD_VARIABLE = "MSGCONFORM_IMAP_PASSWORD"
_ARGS_FILE = Path(__file__).with_name("pymap-password.args")  # no secret in it, only the variable's name


class ImapSink:
    def __init__(self, listen: str = "127.0.0.1", port: int = 0, advertise: str | None = None) -> None:
        self.listen = listen
        self.port = port or free_port(listen)
        self.advertise = advertise or listen
        self.username = "msgconform-imap-" + secrets.token_hex(5)
        self.password = secrets.token_urlsafe(18)
        self.folder = FOLDER
        self._process: subprocess.Popen | None = None

    @property
    def server_name(self) -> str:
        host = f"[{self.advertise}]" if ":" in self.advertise else self.advertise
        return f"{host}:{self.port}"

    def start(self) -> ImapSink:
        command = [
            _pymap(),
            "--host",
            self.listen,
            "--port",
            str(self.port),
            "--no-tls",
            "dict",
            "--demo-data",
            "--demo-user",
            self.username,
            "@" + str(_ARGS_FILE),
        ]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, _PASSWORD_VARIABLE: self.password},
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the IMAP sink (pymap) ended at once with status {self._process.returncode}")
            try:
                with socket.create_connection((self.listen, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the IMAP sink did not listen on {self.listen} port {self.port} within {START_TIMEOUT:g} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def copies(self, token: str, folder: str | None = None) -> int:
        """How many messages of `folder` (default Sent) have `token` in their Subject."""
        with imaplib.IMAP4(self.listen, self.port, timeout=IMAP_TIMEOUT) as imap:
            imap.login(self.username, self.password)
            status, _ = imap.select(folder or self.folder, readonly=True)
            if status != "OK":
                return 0
            status, data = imap.search(None, "SUBJECT", f'"{token}"')
            return len(data[0].split()) if status == "OK" and data and data[0] else 0

    def __enter__(self) -> ImapSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pymap() -> str:
    """The pymap command installed beside this Python (a wheel dependency)."""
    candidate = Path(sys.executable).with_name("pymap")
    return str(candidate) if candidate.exists() else "pymap"
