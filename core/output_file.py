"""Every file a command writes, written one way: a new file created exclusively next to its target (O_EXCL,
never through a link) and renamed over it, so a reader sees the old file or the new one, never half."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from core.config_node import ConfigError


def replace_file(path: Path, text: str, mode: int) -> None:
    """Write `text` to a new file with permissions `mode` and rename it over `path`."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def writable_target(path: str, argument: str) -> Path:
    """`path`, refused (one ConfigError naming `argument`) unless it is absent or a regular file (not a link)
    in an existing directory: checked before a command does its work, so a refusal writes nothing."""
    if path == "":
        raise ConfigError("''", argument, "is empty: name a file")
    target = Path(path)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise ConfigError(path, argument, f"cannot write: {error.strerror}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise ConfigError(path, argument, "exists and is not a regular file: name a new file or a regular one")
    if not target.parent.is_dir():
        raise ConfigError(path, argument, f"{target.parent} is not a directory")
    return target
