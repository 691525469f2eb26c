"""What `pulumi up` of the working tree would do to a stack last deployed from git revision REF,
predicted without credentials: the offline plans of both revisions compared resource by resource, each
difference classified with the providers' replacement rules (cdcctl/replacement_rules.yaml).

REF is planned by its own code: the revision is exported to a temporary directory and planned there in
a child process, so a change in infra/ or stacks/ shows as well as one in a stack file or routes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdcctl.git_revision import commit_of, git_bytes, git_text
from cdcctl.plan import Plan
from core.config_node import ConfigError
from core.progress import Progress
from core.yaml_file import load_yaml

RULES_FILE = Path(__file__).with_name("replacement_rules.yaml")
CHANGES = ("create", "update", "replace", "delete", "unchanged")

# The offline plan of the exported revision, run by that revision's own cdcctl.plan (its public
# `plan(stack, root, previous)`). Without a previous deployment the plan runs twice, the second reading
# the first's exports: the steady state a deployed REF is in (e.g. one routing statement generation).
_PLAN_REVISION = """
import json, sys
from pathlib import Path
from cdcctl.plan import plan
from core.config_node import ConfigError
stack, previous = sys.argv[1], json.loads(sys.stdin.read())
try:
    result = plan(stack, Path.cwd(), previous=previous) if previous else None
    result = result or plan(stack, Path.cwd(), previous=plan(stack, Path.cwd()).raw_outputs)
except ConfigError as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)
print(json.dumps({
    "resources": [{**r.as_json(), "urn": r.urn, "id": r.id,
                   "replaceOnChanges": list(getattr(r, "replace_on_changes", []))} for r in result.resources],
    "rawOutputs": result.raw_outputs,
}))
"""


@dataclass(frozen=True)
class TypeRule:
    """A resource type's replacement rule (see the header of replacement_rules.yaml)."""

    replace: tuple[str, ...]
    updatable: tuple[str, ...] | None
    stateful: str | None
    special: tuple[str, ...]
    verified: bool


@dataclass(frozen=True)
class Rules:
    providers: dict[str, dict[str, str]]
    types: dict[str, TypeRule]


def load_rules(path: Path = RULES_FILE) -> Rules:
    """The replacement table, checked for shape (it is code: a malformed entry is a bug, named)."""
    document = load_yaml(path, path.name)
    types = {}
    for name, entry in document["types"].items():
        unknown = set(entry) - {"replace", "updatable", "stateful", "special", "verified"}
        if unknown or not isinstance(entry.get("replace"), list):
            raise ConfigError(path.name, f"types.{name}", f"needs a `replace` list, unknown keys {sorted(unknown)}")
        specials = tuple(entry.get("special", ()))
        if set(specials) - set(SPECIAL_RULES):
            raise ConfigError(path.name, f"types.{name}.special", f"no such rule in code: {specials}")
        updatable = entry.get("updatable")
        types[name] = TypeRule(
            replace=tuple(entry["replace"]),
            updatable=tuple(updatable) if updatable is not None else None,
            stateful=entry.get("stateful"),
            special=specials,
            verified=bool(entry.get("verified", True)),
        )
    return Rules(providers=document["providers"], types=types)


@dataclass(frozen=True)
class Resource:
    """One registration of an offline plan, as compared here."""

    type: str
    name: str
    urn: str
    id: str
    inputs: dict[str, Any]
    protect: bool
    replace_on_changes: tuple[str, ...] = ()


def resources_of(plan: Plan) -> list[Resource]:
    return [
        Resource(r.type, r.name, r.urn, r.id, r.inputs, r.protect, tuple(r.replace_on_changes)) for r in plan.resources
    ]


@dataclass(frozen=True)
class ResourceChange:
    """What happens to one resource: the change, the inputs that differ, those that force the
    replacement (with why), those the provider cannot update in place, and what a loss would cost."""

    type: str
    name: str
    change: str
    inputs: tuple[str, ...]
    forced_by: tuple[str, ...]
    refused: tuple[str, ...]
    protect: bool
    stateful: str | None

    @property
    def flagged(self) -> bool:
        """A protected or stateful resource replaced or deleted: what a reviewer must not miss."""
        return self.change in ("replace", "delete") and (self.protect or self.stateful is not None)

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "change": self.change,
            "changedInputs": list(self.inputs),
            "replacementForcedBy": list(self.forced_by),
            "refusedInPlace": list(self.refused),
            "protect": self.protect,
            "stateful": self.stateful,
            "flagged": self.flagged,
        }


def _partitions_decrease(old: Resource, new: Resource) -> list[str]:
    # Confluent TF resource_kafka_topic.go: ForceNewIfChange(partitions_count, new < old).
    before, after = old.inputs.get("partitionsCount"), new.inputs.get("partitionsCount")
    if isinstance(before, int) and isinstance(after, int) and after < before:
        return [f"partitionsCount (decreased {before} -> {after}: Kafka only adds partitions)"]
    return []


def _cluster_type_change(old: Resource, new: Resource) -> list[str]:
    # Confluent TF resourceKafkaCustomizeDiff: only BASIC -> STANDARD changes type in place; the rest is
    # refused at plan time, so the reviewer has to see it as a refusal, not an update.
    kinds = ("basic", "standard", "dedicated", "enterprise", "freight")
    before = {k for k in kinds if k in old.inputs}
    after = {k for k in kinds if k in new.inputs}
    if before == after or (before, after) == ({"basic"}, {"standard"}):
        return []
    return [f"cluster type {'/'.join(sorted(before))} -> {'/'.join(sorted(after))} (only BASIC -> STANDARD)"]


# Named in the table's `special`; forcing rules return the reasons a replacement is forced.
SPECIAL_RULES: dict[str, Callable[[Resource, Resource], list[str]]] = {
    "partitionsDecrease": _partitions_decrease,
    "clusterTypeChange": _cluster_type_change,
}
_REFUSING_RULES = {"clusterTypeChange"}


def _at(inputs: dict[str, Any], path: str) -> Any:
    value: Any = inputs
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def input_of(reason: str) -> str:
    """The top-level input a replacement reason names ("kafkaCluster (X is replaced)" -> kafkaCluster)."""
    return reason.split(" ")[0].split(".")[0]


def compare(base: list[Resource], current: list[Resource], rules: Rules) -> list[ResourceChange]:
    """Every resource of either plan with its change, in URN order. A replacement changes the
    resource's id: a resource whose inputs carry that id is re-decided (a ForceNew input naming a
    replaced cluster replaces its topics too), until nothing more changes."""
    before = {r.urn: r for r in base}
    after = {r.urn: r for r in current}
    urns = sorted(before.keys() | after.keys())
    decided: dict[str, ResourceChange] = {}
    while True:
        replaced = {before[u].id: before[u].name for u, c in decided.items() if c.change == "replace" and before[u].id}
        again = {u: _classify(before.get(u), after.get(u), rules, replaced) for u in urns}
        if again == decided:
            return [decided[u] for u in urns]
        decided = again


def _classify(old: Resource | None, new: Resource | None, rules: Rules, replaced: dict[str, str]) -> ResourceChange:
    some = new or old
    assert some is not None
    rule = rules.types.get(some.type, TypeRule((), None, None, (), False))
    protect = bool((old and old.protect) or (new and new.protect))
    if old is None or new is None:
        change = "create" if old is None else "delete"
        return ResourceChange(some.type, some.name, change, (), (), (), protect, rule.stateful)
    changed = {k for k in old.inputs.keys() | new.inputs.keys() if old.inputs.get(k) != new.inputs.get(k)}
    forced = [p for p in rule.replace if _at(old.inputs, p) != _at(new.inputs, p)]
    forced += [p for p in new.replace_on_changes if p == "*" or _at(old.inputs, p) != _at(new.inputs, p)]
    refused: list[str] = []
    for name in rule.special:
        reasons = SPECIAL_RULES[name](old, new)
        (refused if name in _REFUSING_RULES else forced).extend(reasons)
    # Inputs carrying the id of a replaced resource are unknown until it exists again.
    for key, value in new.inputs.items():
        text = json.dumps(value)
        for resource_id, name in replaced.items():
            if resource_id != new.id and resource_id in text:
                changed.add(key)
                if any(p == key or p.startswith(f"{key}.") for p in rule.replace):
                    forced.append(f"{key} ({name} is replaced)")
    if rule.updatable is not None:
        covered = set(rule.updatable) | {input_of(reason) for reason in forced}
        refused += sorted(k for k in changed if k not in covered)
    change = "replace" if forced else "update" if changed else "unchanged"
    return ResourceChange(
        some.type,
        some.name,
        change,
        tuple(sorted(changed)),
        tuple(dict.fromkeys(forced)),
        tuple(refused),
        protect,
        rule.stateful,
    )


def revision_plan(ref: str, stack: str, previous: dict[str, Any] | None, progress: Progress) -> dict[str, Any]:
    """The offline plan of `stack` at git revision `ref` of the repository holding the current
    directory: {"resources": [...], "rawOutputs": {...}}. A ref that names no commit is bad input."""
    where = str(Path.cwd())
    commit = commit_of(ref, where)
    prefix = (git_text(where, "rev-parse", "--show-prefix") or "").strip()
    archive = git_bytes(where, "archive", "--format=tar", commit)
    if archive is None:
        raise ConfigError(ref, "--base", "git archive of that revision failed")
    with tempfile.TemporaryDirectory(prefix="cdc-preview-") as work:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(work, filter="data")
        project = Path(work, prefix)
        if not (project / f"Pulumi.{stack}.yaml").is_file():
            raise ConfigError(ref, "--base", f"has no Pulumi.{stack}.yaml: stack {stack} is new in the working tree")
        progress.phase(f"exported {ref} ({commit[:12]}); planning {stack} there")
        # The revision's own packages come first: no PYTHONPATH from outside may shadow them.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        done = subprocess.run(
            [sys.executable, "-c", _PLAN_REVISION, stack],
            cwd=project,
            input=json.dumps(previous or {}),
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no error text"])[-1].removeprefix("error: ")
        raise ConfigError(ref, "--base", f"the offline plan of {stack} at this revision failed: {last}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def revision_resources(document: dict[str, Any]) -> list[Resource]:
    return [
        Resource(r["type"], r["name"], r["urn"], r["id"], r["inputs"], bool(r["protect"]), tuple(r["replaceOnChanges"]))
        for r in document["resources"]
    ]


def counts(changes: Iterable[ResourceChange]) -> dict[str, int]:
    listed = list(changes)
    return {kind: sum(1 for c in listed if c.change == kind) for kind in CHANGES}
