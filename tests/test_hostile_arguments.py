"""Arguments and the price table as a careless or hostile user writes them: control characters never
echoed raw, stack names that are not stack names, numbers without bounds. Each: exit 2, one stderr line
naming the argument (or file and key), no traceback, nothing on stdout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdcctl.__main__ import main
from core.naming import PRICE_TABLE_FILE
from tests.helpers import REPO, the_one_error_line

ROUTES = str(REPO / "flink_sql/routes.yaml")


def exit_code(command: list[str]) -> int:
    try:
        return main(command)
    except SystemExit as exit_info:  # argparse's errors exit directly
        return int(str(exit_info.code))


@pytest.mark.parametrize(
    "command, error",
    [
        (["cost", "--stack", "dev\x1b]0;owned\x07"], "error: argument --stack: 'dev\\x1b]0;owned\\x07' is not a stack"),
        (["status", "--stack", "dev\u202egnp.exe"], "error: argument --stack: 'dev\\u202egnp.exe' is not a stack"),
        (["plan", "--stack", "../../etc/passwd"], "error: argument --stack: '../../etc/passwd' is not a stack name"),
        (["sql", "--stack", ""], "error: argument --stack: '' is not a stack name"),
        (["consumer", "c", "--stack", ".."], "error: argument --stack: '..' is not a stack name"),
        (["monitoring", "--stack", "dev\n", "--out", "o"], "error: argument --stack: 'dev\\n' is not a stack name"),
        (["routes", "diff", "--base", "HEAD\x1b[2J\nX"], "error: HEAD\\x1b[2J\\nX: --base: names no commit"),
        (["routes", "diff", "--base", "-x\x1b[31m"], "error: argument --base: expected one argument"),
        (["rehearse", "--routes", ROUTES, "--records", "r", "--before", "b.sql", "--out", "o"], "error: argument"),
        (["slots", "drop"], "error: the following arguments are required: --stack"),
        (["nope\x1b[31m"], "error: argument command: invalid choice: 'nope\\x1b[31m'"),
    ],
    ids=[
        "stack-escape-sequence",
        "stack-bidi-override",
        "stack-path",
        "stack-empty",
        "stack-dot-dot",
        "stack-newline",
        "base-escape-sequence",
        "base-option-like",
        "before-with-records",
        "missing-argument",
        "unknown-command",
    ],
)
def test_arguments_are_refused_in_one_line_without_raw_control_characters(
    capsys: pytest.CaptureFixture[str], command: list[str], error: str
) -> None:
    assert exit_code(command) == 2
    line = the_one_error_line(capsys)
    assert line.startswith(error), line
    assert not any(c in line for c in "\x1b\x07\n\r\u202e")


def price_table(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], Path]:
    def write(directory: Path) -> Path:
        table = yaml.safe_load((REPO / PRICE_TABLE_FILE).read_text())
        change(table)
        path = directory / "prices.yaml"
        path.write_text(yaml.safe_dump(table))
        return path

    return write


def price_text(edit: Callable[[str], str]) -> Callable[[Path], Path]:
    def write(directory: Path) -> Path:
        path = directory / "prices.yaml"
        path.write_text(edit((REPO / PRICE_TABLE_FILE).read_text()))
        return path

    return write


@pytest.mark.parametrize(
    "make, error",
    [
        (
            price_text(lambda t: t.replace("hoursPerMonth: 730", "hoursPerMonth: 1.0e+50")),
            "hoursPerMonth: must be an integer",
        ),
        (price_table(lambda t: t.update(hoursPerMonth=10**50)), "hoursPerMonth: must be at most 744"),
        (price_table(lambda t: t.update(hoursPerMonth=745)), "hoursPerMonth: must be at most 744"),
        (
            price_table(lambda t: t["prices"]["flinkCfuHour"].update(usd=1e300)),
            "prices.flinkCfuHour.usd: must be at most 1e+06",
        ),
        (
            price_table(lambda t: t["assumptions"]["standardEckus"].update(value=1e308)),
            "assumptions.standardEckus.value: must be at most 1e+09",
        ),
        (
            price_table(lambda t: t["assumptions"]["standardEckus"].update(perStack={"dev": 10**400})),
            "assumptions.standardEckus.perStack.dev: must be a finite number",
        ),
    ],
    ids=["float-hours", "huge-hours", "hours-beyond-a-month", "huge-price", "huge-assumption", "overflowing-int"],
)
def test_cost_bounds_the_price_tables_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], Path], error: str
) -> None:
    path = make(tmp_path)
    assert main(["cost", "--stack", "dev", "--prices", str(path)]) == 2
    assert the_one_error_line(capsys).startswith(f"error: {path}: {error}")
