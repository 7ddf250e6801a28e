"""File helpers every module shares: atomic writes and strict UTF-8 / JSON reading.

An atomic write goes to a hidden ``.<name>.<pid>@<host>.<random>.tmp`` file beside the target,
is synced and renamed over it, so a reader (or a rerun after a kill) sees the old or the complete
new file, never a torn one. Temporaries left by killed processes of this host are removed by
:func:`remove_stale_temps`.
"""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

_TEMP = re.compile(r"^\..+\.(?P<pid>\d+)@(?P<host>[^@/]+)\.[^.]+\.tmp$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temp_path(path: Path) -> Path:
    """A new, empty hidden temporary file beside ``path`` whose name says which process made it."""
    fd, name = tempfile.mkstemp(dir=path.parent, suffix=".tmp",
                                prefix=f".{path.name}.{os.getpid()}@{socket.gethostname()}.")
    os.close(fd)
    os.chmod(name, 0o666 & ~_umask())  # mkstemp makes 0600; results are meant to be shared
    return Path(name)


def atomic_write_with(path: Path, write: Callable[[Path], object]) -> Path:
    """Let ``write(tmp)`` fill a temporary file, sync it and rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path)
    try:
        write(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers only see the old or the complete new file."""
    return atomic_write_with(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str) -> Path:
    """:func:`atomic_write_bytes` of ``text`` encoded as UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def pid_alive(pid: int) -> bool:
    """Whether a process of this host with ``pid`` still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete the temporary files in ``folder`` left by killed processes of this host."""
    host, removed = socket.gethostname(), []
    for path in folder.glob(".*.tmp"):
        match = _TEMP.match(path.name)
        if match and match["host"] == host and not pid_alive(int(match["pid"])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class Utf8Error(ValueError):
    """Bytes that are not UTF-8; ``line`` is the 1-based line of the first bad byte."""

    def __init__(self, line: int, byte: int):
        super().__init__(f"not valid UTF-8 (byte 0x{byte:02x})")
        self.line = line


def decode_utf8(data: bytes) -> str:
    """``data`` as UTF-8 text without a BOM; :class:`Utf8Error` at the first bad byte."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise Utf8Error(data.count(b"\n", 0, exc.start) + 1, data[exc.start]) from None


def read_json(path: Path) -> Any:
    """The JSON document in ``path`` (strict UTF-8). FileNotFoundError when it is missing,
    ValueError for anything that is not valid JSON text (bad bytes, syntax, nesting depth)."""
    text = decode_utf8(Path(path).read_bytes())
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
