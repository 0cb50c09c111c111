"""The official ``vastai`` CLI (the ``cli-compat`` extra pins it) run against an emulator.

Each :class:`Cli` is one user: a fresh HOME holding the API key file (as
``vastai set api-key`` writes it), ``VAST_URL`` and ``--url`` at the emulator,
no update check, and a pseudo-terminal, since the CLI reads codes from its
terminal and draws totp-setup's QR code only on one.  Inside the CLI process a
guard refuses any host but 127.0.0.1 (and says so on stderr), so nothing it
does can reach the real service.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from importlib import metadata, util
from pathlib import Path
from typing import Callable, Sequence, Union

#: The CLI version these tests pin (pyproject.toml's ``cli-compat`` extra).
VERSION = "1.9.1"
#: What the guard prints when the CLI tries to reach anything but loopback.
REFUSED = "cli-compat refused a connection to"

# Runs the CLI as its console script does, after the guard.
_MAIN = f"""
import ipaddress, socket, sys

def _local(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"

def _refuse(host):
    print("{REFUSED}", host, file=sys.stderr)
    raise socket.gaierror(socket.EAI_NONAME, "cli-compat: loopback only")

_getaddrinfo, _connect = socket.getaddrinfo, socket.socket.connect

def getaddrinfo(host, *args, **kwargs):
    if isinstance(host, bytes):
        host = host.decode()
    return _getaddrinfo(host, *args, **kwargs) if _local(host) else _refuse(host)

def connect(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
        _refuse(address[0])
    return _connect(sock, address)

socket.getaddrinfo, socket.socket.connect = getaddrinfo, connect
sys.argv[0] = "vastai"
from vastai.cli.main import main
sys.exit(main())
"""

#: A reply to a prompt: text, a function giving it when the prompt shows (the
#: code is known only then), or None for end of input (Ctrl-D).
Reply = Union[str, Callable[[], str], None]


def skip_reason() -> str | None:
    """Why the CLI tests cannot run here, or None."""
    try:
        found = metadata.version("vastai")
    except metadata.PackageNotFoundError:
        return f"vastai is not installed: pip install -e '.[cli-compat]' (vastai=={VERSION})"
    if found != VERSION:
        return f"vastai {found} is installed; these tests pin {VERSION}"
    if util.find_spec("pexpect") is None:
        return "pexpect is not installed: pip install -e '.[cli-compat]'"
    return None


@dataclass
class Done:
    """A finished CLI run: its exit status and everything the terminal showed."""

    status: int
    out: str

    def check(self, *words: str, status: int = 0) -> Done:
        """The run exited with ``status`` and showed every word (returns itself)."""
        assert self.status == status, (self.status, self.out)
        for word in words:
            assert word in self.out, (word, self.out)
        assert REFUSED not in self.out, self.out
        return self


class Cli:
    """One user of the CLI: a home of its own, pointed at ``emu``."""

    def __init__(self, emu, home: Path, api_key: str | None = None) -> None:
        self.emu = emu
        self.home = home
        self.config = home / ".config" / "vastai"
        self.config.mkdir(parents=True, exist_ok=True)
        if api_key is not None:
            self.api_key_file.write_text(api_key)

    @property
    def api_key_file(self) -> Path:
        return self.config / "vast_api_key"

    @property
    def session_file(self) -> Path:
        """Where ``tfa login`` keeps the 2FA session key (sent instead of the API key)."""
        return self.config / "vast_tfa_key"

    @property
    def key(self) -> str:
        """The key the CLI sends: the session key if there is one, else the API key."""
        file = self.session_file if self.session_file.exists() else self.api_key_file
        return file.read_text().strip()

    def env(self) -> dict[str, str]:
        """A clean environment: no proxies, no key but the files, no update check."""
        return {"PATH": os.defpath, "HOME": str(self.home), "LC_ALL": "C.UTF-8",
                "TERM": "dumb", "VAST_URL": self.emu.url, "VASTAI_NO_UPDATE_CHECK": "1"}

    def run(self, *argv: str, replies: Sequence[tuple[str, Reply]] = (),
            timeout: float = 30) -> Done:
        """``vastai ARGV --url EMULATOR`` in a terminal, answering each prompt
        (a regular expression) in turn; returns when it exits."""
        import pexpect

        child = pexpect.spawn(sys.executable, ["-c", _MAIN, *argv, "--url", self.emu.url],
                              env=self.env(), cwd=str(self.home), encoding="utf-8",
                              dimensions=(50, 200), timeout=timeout)
        child.logfile_read = shown = io.StringIO()
        child.delaybeforesend = None  # pexpect's pause before each reply: not needed here
        for prompt, reply in replies:
            child.expect(prompt)
            if reply is None:
                child.sendeof()
            else:
                child.sendline(reply() if callable(reply) else reply)
        child.expect(pexpect.EOF)
        status = child.wait()
        child.ptyproc.delayafterclose = 0  # it has exited: no need to wait for it to
        child.close()
        if status is None:  # killed by a signal
            status = -child.signalstatus
        return Done(status, shown.getvalue().replace("\r\n", "\n"))
