"""What a routes change does, for review: the routes added, removed and changed against a git revision,
the routing statement each stack replaces (through flink_sql.statement, as the region layer declares
it), and what the sample raw records do differently on real Flink."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from cdcctl.git_revision import commit_of, git_bytes
from cdcctl.rehearsal_kafka import rehearsal_kafka
from cdcctl.stack_config import environment_name, stack_settings
from core.config_node import ConfigError
from core.progress import Progress
from core.yaml_file import MAX_BYTES, parse_yaml
from flink_sql.routes import OPERATIONS, Condition, Route, consumers, parse_routes
from flink_sql.statement import CARRY_OVER, region_statement, statement_generations
from rehearsal.kafka import TopicLayout
from rehearsal.routing import rehearse
from settings.model import GlobalStackSettings, RegionStackSettings, Settings, link_settings
from stacks.access_policy import access_policy
from stacks.routes_fit import check_routes_fit_settings

# Route fields whose change changes which records land where (description and consumer do not).
ROUTING_FIELDS = ("output_topic", "enabled", "operations", "match", "conditions")
EXAMPLES = 3
_OPERATION_NAMES = {code: name for name, code in OPERATIONS.items()}


def base_routes(ref: str, routes_file: str) -> tuple[Route, ...]:
    """The routes file as it is at git revision `ref` (validated like the working tree's). A ref that
    names no commit, or a file the commit does not hold, is bad input naming it."""
    path = Path(routes_file).absolute()
    where = str(path.parent) if path.parent.is_dir() else str(Path.cwd())
    commit = commit_of(ref, where)
    label = f"{ref}:{routes_file}"
    blob = git_bytes(where, "cat-file", "blob", f"{commit}:./{path.name}")
    if blob is None:
        raise ConfigError(label, "--base", f"no such file at revision {ref}")
    if len(blob) > MAX_BYTES:
        raise ConfigError(label, "file", f"is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return parse_routes(parse_yaml(blob, label), label)


@dataclass(frozen=True)
class RouteChange:
    """One route added, removed or changed (by id); `fields` maps a changed field to (before, after)."""

    id: str
    kind: str  # added | removed | changed
    before: Route | None
    after: Route | None
    fields: dict[str, tuple[Any, Any]]

    @property
    def affects_routing(self) -> bool:
        """False when only the description or the consumer changed: the records land as before."""
        route = self.after or self.before
        if self.kind != "changed":
            return route is not None and route.enabled
        return any(name in ROUTING_FIELDS for name in self.fields)


def route_changes(base: tuple[Route, ...], current: tuple[Route, ...]) -> list[RouteChange]:
    """Routes by id: removed (base only), changed, added (current only), in file order."""
    before = {r.id: r for r in base}
    after = {r.id: r for r in current}
    changes = [RouteChange(r.id, "removed", r, None, {}) for r in base if r.id not in after]
    for route in current:
        old = before.get(route.id)
        if old is None:
            changes.append(RouteChange(route.id, "added", None, route, {}))
            continue
        changed = {
            f.name: (route_json(old)[_key(f.name)], route_json(route)[_key(f.name)])
            for f in fields(Route)
            if f.name != "id" and getattr(old, f.name) != getattr(route, f.name)
        }
        if changed:
            changes.append(RouteChange(route.id, "changed", old, route, changed))
    return changes


def route_json(route: Route) -> dict[str, Any]:
    """A route as routes.yaml spells it (operation names, camelCase keys)."""
    return {
        "id": route.id,
        "outputTopic": route.output_topic,
        "consumer": route.consumer,
        "enabled": route.enabled,
        "operations": [_OPERATION_NAMES[op] for op in route.operations],
        "match": route.match,
        "conditions": [condition_json(c) for c in route.conditions],
        "description": route.description,
    }


def condition_json(condition: Condition) -> dict[str, Any]:
    values = list(condition.values)
    if condition.operator in ("isNull", "isNotNull"):
        return {"field": condition.field, "operator": condition.operator}
    if condition.operator in ("in", "notIn", "between"):
        return {"field": condition.field, "operator": condition.operator, "values": values}
    return {"field": condition.field, "operator": condition.operator, "value": values[0]}


def _key(field_name: str) -> str:
    head, *rest = field_name.split("_")
    return head + "".join(word.title() for word in rest)


@dataclass(frozen=True)
class StatementChange:
    """A stack's routing statement before and after the change, and how it is replaced."""

    stack: str
    region: str
    before: str
    after: str
    carry_over_from: str | None  # the successor starts at this statement's offsets
    stopped: tuple[str, ...]  # kept declared, STOPPED, until the next deployment drops it

    @property
    def replaced(self) -> bool:
        return self.before != self.after


def statement_changes(
    routes_file: str, base: tuple[Route, ...], current: tuple[Route, ...], root: Path | None = None
) -> list[StatementChange]:
    """For every stack of the repo that deploys `routes_file`: its statement for the base routes (as the
    last deployment would have exported it) followed by the one for the current routes, as
    flink_sql.statement replaces it. The stacks' settings are the working tree's."""
    root = root or Path.cwd()
    changes = []
    for stack, settings in _stacks_deploying(routes_file, root):
        assert not isinstance(settings, GlobalStackSettings)
        check_routes_fit_settings(settings, current)  # what the stack's plan refuses, the diff refuses too
        environment = environment_name(settings, root)
        old = region_statement(settings.stack, environment, settings.region, base)
        new = region_statement(settings.stack, environment, settings.region, current)
        generations = statement_generations(old.export(), new)
        changes.append(
            StatementChange(
                stack=stack,
                region=settings.region.region,
                before=old.name,
                after=generations[-1].name,
                carry_over_from=generations[-1].properties.get(CARRY_OVER),
                stopped=tuple(g.name for g in generations if g.stopped),
            )
        )
    return changes


@dataclass(frozen=True)
class ConsumerAddition:
    """What a consumer new in the routes adds to one stack: its service account (where the global layer
    is), its API keys and read bindings (where a region layer is), as (role, resource) pairs."""

    consumer: str
    stack: str
    service_account: bool
    api_keys: tuple[str, ...]
    bindings: tuple[tuple[str, str], ...]


def consumer_additions(
    routes_file: str, base: tuple[Route, ...], current: tuple[Route, ...], root: Path | None = None
) -> list[ConsumerAddition]:
    """Per consumer the current routes name and the base's do not, per stack deploying `routes_file`, from
    the access policy the stacks grant with, as infra/access.py binds it (core.grants.Grants)."""

    new = [c for c in consumers(current) if c not in consumers(base)]
    root = root or Path.cwd()
    additions = []
    for stack, settings in _stacks_deploying(routes_file, root, with_global=True):
        region = None if isinstance(settings, GlobalStackSettings) else settings.region
        peer = link_settings(settings)
        policy = (
            access_policy(current, (region.region,), region.raw_topic, peer.peer_region if peer else None)
            if region
            else {}
        )
        for consumer in new:
            grants = policy.get(consumer)
            bindings = [(b.role, f"{b.kind}={b.resource}") for b in grants.cluster_bindings()] if grants else []
            additions.append(
                ConsumerAddition(
                    consumer=consumer,
                    stack=stack,
                    service_account=not isinstance(settings, RegionStackSettings),
                    api_keys=("Kafka", "Schema Registry") if region else (),
                    bindings=tuple(bindings),
                )
            )
    return additions


def _stacks_deploying(routes_file: str, root: Path, with_global: bool = False) -> list[tuple[str, Settings]]:
    """The repo's stacks whose `routesFile` is this file (global stacks too with `with_global`)."""
    target = (root / routes_file).resolve()
    found = []
    for stack in sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in root.glob("Pulumi.*.yaml")):
        settings = stack_settings(stack, root)
        if (root / settings.routes_file).resolve() != target:
            continue
        if with_global or not isinstance(settings, GlobalStackSettings):
            found.append((stack, settings))
    return found


@dataclass(frozen=True)
class TopicImpact:
    """How many sample records a topic receives before and after, and which ones it gains or loses."""

    topic: str
    before: int | None  # None: no enabled route wrote the topic
    after: int | None
    gained: int
    lost: int
    gained_ids: tuple[str, ...]
    lost_ids: tuple[str, ...]


def rehearse_both(
    base: tuple[Route, ...], current: tuple[Route, ...], records: list[dict[str, Any]], progress: Progress, ref: str
) -> list[TopicImpact]:
    """Route the sample through each side's statement set on real Flink and Kafka (one broker for both
    sides, with either side's grants; one engine run per side) and
    compare topic by topic, record by record (every raw column)."""
    progress.phase("starting the local Kafka broker")
    with (
        tempfile.TemporaryDirectory(prefix="cdc-routes-diff-") as work,
        rehearsal_kafka(base + current, TopicLayout()) as kafka,
    ):
        progress.phase(f"base routes ({ref}) on the sample records")
        before = _routed(rehearse(base, records, Path(work, "base"), kafka, progress), Path(work, "base"))
        progress.phase("working tree's routes on the sample records")
        after = _routed(rehearse(current, records, Path(work, "current"), kafka, progress), Path(work, "current"))
    return topic_impacts(before, after)


def _routed(counts: dict[str, int], out: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        topic: [json.loads(line) for line in (out / f"{topic}.jsonl").read_text(encoding="utf-8").splitlines()]
        for topic in counts
    }


def topic_impacts(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> list[TopicImpact]:
    """Per topic (base topics first, then new ones), the records gained and lost, as multisets."""
    impacts = []
    for topic in dict.fromkeys([*before, *after]):
        old, new = Counter(_canonical(before.get(topic, []))), Counter(_canonical(after.get(topic, [])))
        gained, lost = new - old, old - new
        impacts.append(
            TopicImpact(
                topic=topic,
                before=len(before[topic]) if topic in before else None,
                after=len(after[topic]) if topic in after else None,
                gained=sum(gained.values()),
                lost=sum(lost.values()),
                gained_ids=_ids(gained),
                lost_ids=_ids(lost),
            )
        )
    return impacts


def _canonical(rows: Iterable[dict[str, Any]]) -> list[str]:
    return [json.dumps(row, sort_keys=True) for row in rows]


def _ids(rows: Counter[str]) -> tuple[str, ...]:
    """The first few distinct ids, in the order of the sample."""
    return tuple(dict.fromkeys(str(json.loads(row).get("id")) for row in rows))[:EXAMPLES]
