"""The refresh trap closed: a refresh stores a mirror topic's live status, and one stored during an outage
(SOURCE_UNAVAILABLE) blocks the provider's failover (terraform-provider-confluent
resource_kafka_mirror_topic.go, update). No workflow, script, README line or command advice refreshes
mirror topics: every `pulumi refresh` excludes them, and nothing says `pulumi up --refresh`."""

from __future__ import annotations

import re
from pathlib import Path

from cdcctl.status import MIRROR_URNS
from tests.helpers import REPO

TEXTS = [
    *sorted((REPO / ".github").rglob("*.yml")),
    *sorted((REPO / ".github").rglob("*.sh")),
    REPO / "README.md",
    *sorted((REPO / "cdcctl").rglob("*.py")),
]


def commands(path: Path) -> list[str]:
    """Pulumi command lines in a file, with shell continuations joined."""
    text = path.read_text().replace("\\\n", " ")
    return [line for line in text.splitlines() if re.search(r"pulumi (up|refresh|preview)\b", line)]


def test_nothing_advises_or_runs_an_update_with_refresh() -> None:
    offenders = [
        f"{path.relative_to(REPO)}: {line.strip()}"
        for path in TEXTS
        for line in commands(path)
        if re.search(r"pulumi (up|preview)\b[^`'\"]*--refresh", line)
    ]
    assert offenders == []


def test_every_refresh_leaves_mirror_topics_alone() -> None:
    refreshes = [
        (path, line)
        for path in TEXTS
        for line in commands(path)
        if re.search(r"pulumi refresh\b", line) and "REFRESH_WITHOUT_MIRRORS" not in line
    ]
    assert any(path.name == "drift-refresh.sh" for path, _ in refreshes)
    for path, line in refreshes:
        excluded = f"--exclude '{MIRROR_URNS}'" in line or "MIRROR_URNS" in line or "without mirror topics" in line
        assert excluded, f"{path}: {line.strip()}"
