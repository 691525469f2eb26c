"""The one way a command reads a git revision (`routes diff --base`, `preview --base`): an option-like
ref never reaches git, a ref that names no commit is bad input naming it."""

from __future__ import annotations

import subprocess

from core.config_node import ConfigError


def commit_of(ref: str, where: str) -> str:
    """The commit `ref` names in the repository holding `where`."""
    if ref.startswith("-"):
        raise ConfigError(ref, "--base", "is not a git revision (it starts with '-')")
    commit = git_text(where, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit is None:
        raise ConfigError(ref, "--base", f"names no commit of a git repository at {where}")
    return commit.strip()


def git_text(directory: str, *args: str) -> str | None:
    out = git_bytes(directory, *args)
    return out.decode() if out is not None else None


def git_bytes(directory: str, *args: str) -> bytes | None:
    """git's stdout, or None when it fails."""
    try:
        result = subprocess.run(["git", "-C", directory, *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise ConfigError("git", "--base", "is not installed: a base revision needs git") from None
    return result.stdout if result.returncode == 0 else None
