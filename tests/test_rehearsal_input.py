"""`cdcctl rehearse` refuses bad inputs in one line before any engine starts, and survives records
whose strings hold Unicode line separators (real Apache Flink for that one)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdcctl.__main__ import main
from tests.helpers import REPO, the_one_error_line

ROUTES = REPO / "flink_sql/routes.yaml"


def raw_record(rid: str, event_type: str = "LoanCreated", **fields: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "event_name": event_type,
        "event_type": event_type,
        "created_date": "2024-01-15T10:30:00Z",
        "saved_date": None,
        "event_data": "{}",
        "__op": "c",
        "__table": "business_events",
        "__ts_ms": 1705312200000,
        "__deleted": "false",
        **fields,
    }


def rehearse_records(records: Path, out: Path) -> int:
    return main(["rehearse", "--routes", str(ROUTES), "--records", str(records), "--out", str(out)])


@pytest.fixture
def records(tmp_path: Path) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps(raw_record("loan-1")) + "\n", encoding="utf-8")
    return path


def test_missing_records_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "absent.jsonl"
    assert rehearse_records(missing, tmp_path / "out") == 2
    assert the_one_error_line(capsys) == f"error: {missing}: --records: cannot read: No such file or directory"


def test_non_utf8_records_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"id": "caf\xe9"}\n')
    assert rehearse_records(path, tmp_path / "out") == 2
    assert the_one_error_line(capsys) == f"error: {path}: --records: is not UTF-8 text (byte 0xe9 at offset 11)"


def test_out_that_is_a_file_is_refused(records: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.txt"
    out.write_text("not a directory")
    assert rehearse_records(records, out) == 2
    assert the_one_error_line(capsys) == f"error: {out}: --out: is not a directory"
    assert out.read_text() == "not a directory"


def test_out_symlink_is_refused_and_not_followed(
    records: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    out = tmp_path / "out"
    out.symlink_to(target)
    assert rehearse_records(records, out) == 2
    assert the_one_error_line(capsys) == f"error: {out}: --out: is a symbolic link: name a real directory"
    assert list(target.iterdir()) == []


def test_out_with_earlier_results_is_refused(records: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "filtered-old-topic.jsonl").write_text("{}\n")
    assert rehearse_records(records, out) == 2
    assert the_one_error_line(capsys) == f"error: {out}: --out: is not empty: name a new or empty directory"


def test_out_that_cannot_be_created_is_refused(
    records: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = blocker / "out"
    assert rehearse_records(records, out) == 2
    assert the_one_error_line(capsys).startswith(f"error: {out}: --out: cannot be created: ")


def test_before_without_changes_is_an_argument_error(records: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["rehearse", "--routes", str(ROUTES), "--records", str(records), "--before", "x.sql", "--out", "o"])
    assert exit_info.value.code == 2


@pytest.mark.engine
def test_unicode_line_separators_inside_strings_survive_flink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Flink writes U+2028, U+2029 and U+0085 unescaped; only "\\n" ends a JSONL line."""
    path = tmp_path / "records.jsonl"
    notes = {f"loan-{i}": f"line one{separator}line two" for i, separator in enumerate("\u2028\u2029\u0085")}
    lines = [
        json.dumps(raw_record(rid, event_data=json.dumps({"note": note}, ensure_ascii=False)), ensure_ascii=False)
        for rid, note in notes.items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert rehearse_records(path, tmp_path / "out") == 0
    assert "filtered-loan-created-events: 3" in capsys.readouterr().out
    rows = (tmp_path / "out/filtered-loan-created-events.jsonl").read_text(encoding="utf-8").split("\n")
    routed = {row["id"]: json.loads(row["event_data"])["note"] for row in map(json.loads, filter(None, rows))}
    assert routed == notes
