"""Every file a command reads, read one bounded way: a regular file (or `-`, stdin), at most MAX_BYTES,
UTF-8, JSON nested at most MAX_DEPTH deep; each failure one ConfigError naming the file and the argument.

A FIFO without a writer, /dev/zero, a directory or a gigabyte would otherwise hang the command, eat its
memory or end in a traceback. Opening with O_NONBLOCK never waits for a FIFO's writer, and the file's
type is checked on the opened descriptor (fstat), so nothing swapped in between is read instead.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from typing import Any

from core.config_node import ConfigError

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
STDIN = "-"
_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
}


def read_bytes(path: str, argument: str, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of `path` (`-`: stdin), refused unless a regular file of at most `max_bytes`."""
    if path == "":
        raise ConfigError("''", argument, "is empty: name a file")
    if path == STDIN:
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError as error:
            raise ConfigError(path, argument, f"cannot read: {error.strerror}") from None
        try:
            mode = os.fstat(descriptor).st_mode
            if not stat.S_ISREG(mode):
                kind = _KINDS.get(stat.S_IFMT(mode), "of another kind")
                raise ConfigError(path, argument, f"is not a regular file ({kind})")
            with os.fdopen(descriptor, "rb", closefd=False) as file:
                data = file.read(max_bytes + 1)
        except OSError as error:
            raise ConfigError(path, argument, f"cannot read: {error.strerror}") from None
        finally:
            os.close(descriptor)
    if len(data) > max_bytes:
        raise ConfigError(_name(path), argument, f"is larger than {max_bytes // (1024 * 1024)} MiB")
    return data


def read_text(path: str, argument: str) -> str:
    """The UTF-8 text of `path` (`-`: stdin)."""
    return decode(read_bytes(path, argument), _name(path), argument)


def decode(data: bytes, file: str, argument: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            file, argument, f"is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None


def read_json(path: str, argument: str) -> Any:
    """The JSON document in `path` (`-`: stdin)."""
    return parse_json(read_text(path, argument), _name(path), argument)


def parse_json(text: str, file: str, where: str) -> Any:
    """One JSON value; nesting deeper than MAX_DEPTH is refused (the parser itself recurses)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ConfigError(file, where, f"nesting deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:
        raise ConfigError(file, where, f"invalid JSON: {error}") from None
    if _depth_exceeds(value, MAX_DEPTH):
        raise ConfigError(file, where, f"nesting deeper than {MAX_DEPTH} levels")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return False


def _name(path: str) -> str:
    return "stdin" if path == STDIN else path
