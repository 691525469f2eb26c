"""The rooms' arrows: the settings and the routing rules sit below the components, and the commands that
only read files never load the Pulumi SDK or a component."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

# The pure rooms, below the components (the settings' Pulumi bridge apart), and what sits above them.
PURE = ("core", "settings", "flink_sql")
BRIDGE = REPO / "settings/pulumi_config.py"
ABOVE = {"infra", "stacks", "cdcctl", "rehearsal", "policy", "pulumi", "pulumi_confluentcloud", "pulumi_aws"}


def imported_packages(*paths: Path) -> set[str]:
    """Top-level packages these modules import, type-checking-only imports included."""
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
    return found


@pytest.mark.parametrize("package", PURE)
def test_a_pure_room_imports_nothing_above_it(package: str) -> None:
    assert imported_packages(*(p for p in (REPO / package).glob("*.py") if p != BRIDGE)) & ABOVE == set()


def test_the_composition_room_holds_no_function_over_50_lines() -> None:
    """Logic that grows belongs to a component (infra/) or a pure room; stacks/ only composes."""
    long = [
        f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in sorted((REPO / "stacks").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.end_lineno and node.end_lineno - node.lineno + 1 > 50
    ]
    assert long == []


@pytest.mark.parametrize(
    "argv",
    [["routes", "check", "--stack", "prod-east"], ["routes", "check", "--stack", "dev"], ["sql", "--stack", "dev"]],
)
def test_commands_that_read_files_only_never_load_pulumi_or_a_component(argv: list[str]) -> None:
    """`routes check --stack` checks the routes against the stack's settings and access policy (its
    principals' names, raw topic, partition limit) from the files alone: no SDK, no component."""
    probe = (
        "import sys\n"
        "from cdcctl.__main__ import main\n"
        f"code = main({argv!r})\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'infra', 'pulumi_confluentcloud'))\n"
        "print('LOADED', code, loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.stderr == ""
    assert result.stdout.splitlines()[-1] == "LOADED 0 []"
