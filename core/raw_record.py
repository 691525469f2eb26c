"""The raw CDC record: the one definition the connector, Flink DDL, schemas and rehearsal derive from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of the raw record as Flink and JSON Schema see it."""

    name: str
    flink_type: str  # Flink SQL type
    json_type: str  # JSON Schema type
    numeric: bool = False


# Flat business_events columns, then the metadata ExtractNewRecordState adds (add.fields=op,table,ts_ms
# and delete.handling.mode=rewrite for __deleted).
RAW_COLUMNS: tuple[Column, ...] = (
    Column("id", "STRING", "string"),
    Column("event_name", "STRING", "string"),
    Column("event_type", "STRING", "string"),
    Column("created_date", "STRING", "string"),
    Column("saved_date", "STRING", "string"),
    Column("event_data", "STRING", "string"),
    Column("__op", "STRING", "string"),
    Column("__table", "STRING", "string"),
    Column("__ts_ms", "BIGINT", "integer", numeric=True),
    Column("__deleted", "STRING", "string"),
)
RAW_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in RAW_COLUMNS)
COLUMNS_BY_NAME: dict[str, Column] = {c.name: c for c in RAW_COLUMNS}

# The JSON column whose nested paths routes may test with `event_data.<path>`.
JSON_COLUMN = "event_data"
RAW_TOPIC = "raw-business-events"
SOURCE_TABLE = "business_events"


def value_json_schema(title: str) -> dict[str, object]:
    """JSON Schema of a topic holding raw records (registered for every routed topic's value), so
    Flink infers exactly the raw columns for the tables it writes."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": title,
        "type": "object",
        "properties": {c.name: {"oneOf": [{"type": "null"}, {"type": c.json_type}]} for c in RAW_COLUMNS},
        "additionalProperties": False,
    }


OPERATION_CODES = ("c", "u", "d", "r")


def record_problems(record: object) -> list[str]:
    """Why a record is not a raw CDC record (empty if it is): a changed column set, a missing or
    unknown `__op`, or a wrongly typed column must fail loudly, never route silently."""
    if not isinstance(record, dict):
        return ["is not a JSON object"]
    problems = []
    missing = [name for name in RAW_COLUMN_NAMES if name not in record]
    unexpected = sorted(set(record) - set(RAW_COLUMN_NAMES))
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected column(s) {', '.join(unexpected)}")
    if "__op" in record and record["__op"] not in OPERATION_CODES:
        problems.append(f"__op is {record['__op']!r}, not one of {', '.join(OPERATION_CODES)}")
    for column in RAW_COLUMNS:
        value = record.get(column.name)
        expected = int if column.numeric else str
        if value is not None and (isinstance(value, bool) or not isinstance(value, expected)):
            problems.append(f"{column.name} must be {column.json_type} or null, got {value!r}")
    return problems
