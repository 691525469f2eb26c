"""What metrics cannot show: the authoritative phase of a deployed stack's connector, routing
statement and cluster link half with its mirror topics, with Confluent's own error text, and what to do next.

Asked of Confluent's REST APIs (read-only GETs):
- Connect: `GET https://api.confluent.cloud/connect/v1/environments/{env}/clusters/{lkc}/connectors/{name}/status`
  with a Cloud API key (docs.confluent.io/cloud/current/api.html, "Read a Connector Status"); connector
  and task states as listed in docs.confluent.io/cloud/current/connectors/connector-statuses.html.
- Flink: `GET {flink endpoint}/sql/v1/organizations/{org}/environments/{env}/statements/{name}` with a
  Flink API key of the region (api.html, "Read a Statement"); `status.phase` is PENDING, RUNNING,
  COMPLETED, DELETING, FAILING, FAILED, STOPPING, STOPPED or DEGRADED, `status.detail` the reason.
- Kafka REST v3 on the cluster's REST endpoint (private in PRIVATELINK stacks): `GET .../kafka/v3/clusters/
  {lkc}/links/{link}` and `.../links/{link}/mirrors` with a Kafka API key of the cluster (api.html,
  "Describe the cluster link", "List mirror topics"): `link_state` ACTIVE, FAILED,
  UNAVAILABLE, PAUSED or UNKNOWN with `link_error`/`link_error_message`; per mirror `mirror_status`
  (ACTIVE, FAILED, LINK_FAILED, LINK_PAUSED, PAUSED, PENDING_STOPPED, SOURCE_UNAVAILABLE, STOPPED,
  PENDING_*), `mirror_topic_error`, `mirror_lags`.
With `--resume-connector` (the start path after a database stop) also the Connect lifecycle calls
`PUT .../connectors/{name}/pause` and `.../resume` (confluentinc/ccloud-sdk-go-v2 connect/v1
LifecycleV1Api: "Resume a paused connector or do nothing if the connector is not paused").
The HTTP client is injectable (`Api`): tests replay responses recorded in the documented shapes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from cdcctl.confluent_api import Credentials
from flink_sql.statement import CARRY_OVER
from monitoring.targets import ConnectorWatch, LinkWatch, MonitoringTargets

CONNECT_API = "https://api.confluent.cloud"
HEALTHY = "RUNNING"
_DETAIL_CHARS = 300


class Api(Protocol):
    """One authenticated request: (HTTP status, parsed JSON body or None). Status 0: no answer at all.
    The real one is cdcctl.confluent_api.ConfluentApi (allow-listed hosts, a deadline)."""

    def get(self, url: str, credentials: Credentials) -> tuple[int, Any]: ...

    def put(self, url: str, credentials: Credentials) -> tuple[int, Any]: ...


@dataclass(frozen=True)
class LinkCheck:
    """How to ask about the stack's link half: its cluster's REST endpoint, a Kafka API key of that cluster
    and the `cdc-platform:link.mirrorStatus` the stack deployed."""

    rest_endpoint: str
    credentials: Credentials
    mirror_status: str
    peer_stack: str  # `link.peerStack`: named in the steps for the peer's side


@dataclass(frozen=True)
class Health:
    """One row of `cdcctl status`: a resource's phase, Confluent's error text and the next step."""

    kind: str
    name: str
    phase: str
    healthy: bool
    detail: str = ""
    next_step: str = ""


def stack_health(
    targets: MonitoringTargets,
    api: Api,
    cloud: Credentials | None,
    flink: Credentials,
    progress: Callable[[str], None] = lambda what: None,
    link: LinkCheck | None = None,
    resume: ConnectorResume | None = None,
) -> list[Health]:
    """The connector (with `cloud`, a Cloud API key; brought back to RUNNING first with `resume`), every
    routing statement (with `flink`) and the link half with its mirrors (with `link`)."""
    rows = []
    if targets.connector is not None:
        if cloud is None:
            raise ValueError("the connector's status needs a Cloud API key")
        progress(f"asking the Connect API for connector {targets.connector.name}")
        if resume is not None:
            rows.append(resume.run(targets, targets.connector, api, cloud, progress))
        else:
            rows.append(connector_health(targets, targets.connector, api, cloud))
    for name in targets.statements:
        progress(f"asking the Flink statement API for {name}")
        rows.append(statement_health(targets, name, api, flink))
    if targets.link is not None:
        if link is None:
            raise ValueError("the link's status needs the cluster's REST endpoint and a Kafka API key")
        progress(f"asking the Kafka REST API for link {targets.link.name} and its mirrors")
        rows.extend(link_health(targets, targets.link, api, link))
    return rows


def connector_url(targets: MonitoringTargets, connector: ConnectorWatch, what: str) -> str:
    return (
        f"{CONNECT_API}/connect/v1/environments/{quote(targets.environment_id)}/clusters/"
        f"{quote(targets.cluster_id)}/connectors/{quote(connector.name)}/{what}"
    )


def connector_health(targets: MonitoringTargets, connector: ConnectorWatch, api: Api, cloud: Credentials) -> Health:
    status, body = api.get(connector_url(targets, connector, "status"), cloud)
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("connector"), dict):
        return _http_failure("connector", connector.name, status, body, "CONFLUENT_CLOUD_API_KEY", targets.stack)
    state = str(body["connector"].get("state", "UNKNOWN"))
    tasks = [t for t in body.get("tasks") or [] if isinstance(t, dict)]
    failed_tasks = [t for t in tasks if t.get("state") != HEALTHY]
    if state == HEALTHY and not failed_tasks:
        return Health("connector", connector.name, state, True)
    # The tasks' messages first: short and specific; the connector's trace (a stack trace) last.
    errors = [
        f"task {t.get('id')} {t.get('state')}: {t.get('msg') or t.get('trace') or ''}".strip() for t in failed_tasks
    ] + [str(body["connector"].get("trace") or "")]
    step = CONNECTOR_STEPS.get(state, "an unexpected state: look at the connector in the Console")
    if state == HEALTHY:
        step = "the connector runs but a task does not: " + CONNECTOR_STEPS["DEGRADED"]
    return Health(
        "connector",
        connector.name,
        state,
        False,
        _short("; ".join(e for e in errors if e)),
        step.format(id=connector.id, stack=targets.stack),
    )


CONNECTOR_STEPS = {
    "PROVISIONING": "being created: check again in a few minutes",
    # Resume alone does nothing to a connector that is not paused (Connect API, LifecycleV1Api).
    "FAILED": "fix what the error names (database reachable from Confluent, replication slot and publication, "
    "credentials, `cdcDatabaseRootCert`), then pause and resume it: `cdcctl status --stack {stack} "
    "--resume-connector` (or `confluent connect cluster pause {id}`, then `resume`)",
    "DEGRADED": "read the task errors, fix their cause, then pause and resume it: "
    "`confluent connect cluster pause {id}` and `confluent connect cluster resume {id}`",
    "PAUSED": "paused by someone: when that is over, `confluent connect cluster resume {id}`",
}


# The Connect lifecycle calls answer 202 Accepted (the change is asynchronous); 200/204 are taken alike.
_ACCEPTED = (200, 202, 204)


@dataclass(frozen=True)
class ConnectorResume:
    """Bring a FAILED, DEGRADED or PAUSED connector back to RUNNING: the start path after the database
    was stopped (README "Aurora idle stop"). A paused connector is resumed; any other is paused first
    and resumed once the pause has taken (resume does nothing to a connector that is not paused), as
    terraform-provider-confluent's connector update waits for each state change."""

    wait_s: float = 300.0
    poll_s: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def run(
        self,
        targets: MonitoringTargets,
        connector: ConnectorWatch,
        api: Api,
        cloud: Credentials,
        progress: Callable[[str], None] = lambda what: None,
    ) -> Health:
        now = connector_health(targets, connector, api, cloud)
        if now.healthy or now.phase not in ("FAILED", "DEGRADED", "PAUSED"):
            return now
        deadline = self.clock() + self.wait_s
        if now.phase != "PAUSED":
            progress(f"pausing connector {connector.name} ({now.phase})")
            failure = self._lifecycle(targets, connector, api, cloud, "pause")
            now = failure or self._until(targets, connector, api, cloud, "PAUSED", deadline)
            if now.phase != "PAUSED":
                return now
        progress(f"resuming connector {connector.name}")
        failure = self._lifecycle(targets, connector, api, cloud, "resume")
        return failure or self._until(targets, connector, api, cloud, HEALTHY, deadline)

    def _lifecycle(
        self, targets: MonitoringTargets, connector: ConnectorWatch, api: Api, cloud: Credentials, action: str
    ) -> Health | None:
        status, body = api.put(connector_url(targets, connector, action), cloud)
        if status in _ACCEPTED:
            return None
        return _http_failure(
            "connector",
            connector.name,
            status,
            body,
            "CONFLUENT_CLOUD_API_KEY",
            targets.stack,
            f"a role that may {action} connectors (e.g. Operator on the cluster)",
        )

    def _until(
        self,
        targets: MonitoringTargets,
        connector: ConnectorWatch,
        api: Api,
        cloud: Credentials,
        phase: str,
        deadline: float,
    ) -> Health:
        while True:
            now = connector_health(targets, connector, api, cloud)
            if now.phase == phase or self.clock() >= deadline:
                return now
            self.sleep(self.poll_s)


def statement_health(targets: MonitoringTargets, name: str, api: Api, flink: Credentials) -> Health:
    url = (
        f"{targets.flink_rest_endpoint}/sql/v1/organizations/{quote(targets.organization_id)}/environments/"
        f"{quote(targets.environment_id)}/statements/{quote(name)}"
    )
    status, body = api.get(url, flink)
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("status"), dict):
        return _http_failure("statement", name, status, body, "CONFLUENT_FLINK_API_KEY", targets.stack)
    phase = str(body["status"].get("phase", "UNKNOWN"))
    if phase == HEALTHY:
        return Health("statement", name, phase, True)
    properties = (body.get("spec") or {}).get("properties") or {}
    predecessor = properties.get(CARRY_OVER)
    step = STATEMENT_STEPS.get(phase, "an unexpected phase: look at the statement in the Console")
    if phase == "PENDING" and predecessor:
        step = (
            f"a carry-over: it starts at {predecessor}'s offsets once {predecessor} is STOPPED. Check that "
            f"one (`confluent flink statement describe {predecessor}`): stopped by the same `pulumi up`? "
            "If it is, the pool may lack CFUs (FlinkComputePoolNearLimit)"
        )
    return Health(
        "statement", name, phase, False, _short(str(body["status"].get("detail") or "")), step.format(name=name)
    )


STATEMENT_STEPS = {
    "PENDING": "not started: the pool may lack CFUs (raise cdc-platform:flink.maxCfu); Confluent flags a "
    "statement pending over 10 minutes (AWS)",
    "FAILING": "failing: read the detail and `confluent flink statement exception list {name}`",
    "FAILED": "read the detail and `confluent flink statement exception list {name}`; fix the cause "
    "(a topic, schema or grant), then `pulumi up` (a FAILED statement routes nothing and bills no CFUs)",
    "DEGRADED": "keeps restarting or partly failing and still bills CFUs: read "
    "`confluent flink statement exception list {name}` and check the pool's CFUs",
    "STOPPING": "being stopped: expected only during a routes change; otherwise `pulumi up`",
    "STOPPED": "the stack's current statement is stopped: resume it with `pulumi up` "
    "(or `confluent flink statement resume {name}`)",
    "COMPLETED": "a routing statement reads an unbounded topic and should never complete: `pulumi up`",
    "DELETING": "being deleted outside the stack: `pulumi up` declares it again",
}


def link_health(targets: MonitoringTargets, watch: LinkWatch, api: Api, check: LinkCheck) -> list[Health]:
    """The link half, then each mirror the stack declares (not asked when the link cannot be read)."""
    url = f"{check.rest_endpoint}/kafka/v3/clusters/{quote(targets.cluster_id)}/links/{quote(watch.name)}"
    status, body = api.get(url, check.credentials)
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("link_name"), str):
        return [_http_failure("link", watch.name, status, body, KAFKA_KEY, targets.stack, KAFKA_ROLE)]
    rows = [_link_row(watch.name, body, targets.stack, check.peer_stack)]
    status, body = api.get(f"{url}/mirrors", check.credentials)
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return [*rows, _http_failure("mirrors", watch.name, status, body, KAFKA_KEY, targets.stack, KAFKA_ROLE)]
    listed = {m.get("mirror_topic_name"): m for m in body["data"] if isinstance(m, dict)}
    return rows + [
        _mirror_row(name, listed.get(name), watch.name, check.mirror_status, targets.stack)
        for name in watch.mirror_topics
    ]


def _link_row(name: str, body: dict[str, Any], stack: str, peer: str) -> Health:
    state = str(body.get("link_state") or "UNKNOWN")
    if state == LINK_HEALTHY:
        return Health("link", name, state, True)
    error = str(body.get("link_error") or "NO_ERROR")
    step = LINK_ERROR_STEPS.get(error) or LINK_STEPS.get(
        state, "an unexpected state: `confluent kafka link describe {name}`"
    )
    detail = [error] if error != "NO_ERROR" else []
    detail += [str(body["link_error_message"])] if body.get("link_error_message") else []
    step = step.format(name=name, stack=stack, peer=peer)
    return Health("link", name, state, False, _short(": ".join(detail)), step)


def _mirror_row(name: str, mirror: dict[str, Any] | None, link: str, configured: str, stack: str) -> Health:
    if mirror is None:
        source = name.split(".", 1)[-1]  # mirrors are `<peer region>.<source topic>` (core.naming.mirror_topic)
        step = MIRROR_STEPS["MISSING"].format(name=name, link=link, source=source)
        return Health("mirror", name, "MISSING", False, "", step)
    status = str(mirror.get("mirror_status") or "UNKNOWN")
    expected = EXPECTED_MIRROR_STATUS[configured]
    if status == expected:
        return Health("mirror", name, status, True)
    if status in ("ACTIVE", "PAUSED") and expected == "STOPPED":
        step = MIRROR_STEPS["NOT STOPPED"]
    elif status == "ACTIVE":  # while the stack pauses it
        step = MIRROR_STEPS["RESUMED"]
    else:
        step = MIRROR_STEPS.get("PENDING" if status in PENDING_SETUP else status, MIRROR_STEPS["UNKNOWN"])
    lags = [p.get("lag") for p in mirror.get("mirror_lags") or [] if isinstance(p, dict)]
    behind = max((lag for lag in lags if isinstance(lag, int)), default=0)
    error = str(mirror.get("mirror_topic_error") or "NO_ERROR")
    return Health(
        "mirror",
        name,
        status,
        False,
        "" if error in ("NO_ERROR", "NOT_SET") else _short(error),
        step.format(
            name=name, link=link, stack=stack, configured=configured, behind=behind, action=LINK_ACTION.get(configured)
        ),
    )


KAFKA_KEY = "CONFLUENT_KAFKA_API_KEY"
# Confluent's cluster-linking security table: listing mirror topics and their statuses needs ClusterOperator.
KAFKA_ROLE = "Operator on the cluster"
LINK_HEALTHY = "ACTIVE"
# The status each deployed `mirrorStatus` leaves a mirror in: promotion and failover end STOPPED
# (terraform-provider-confluent waits for it, through PENDING_STOPPED).
# The `cdcctl link` action that does what a configured status records.
LINK_ACTION = {"PROMOTED": "promote", "FAILED_OVER": "failover"}
EXPECTED_MIRROR_STATUS = {"ACTIVE": "ACTIVE", "PAUSED": "PAUSED", "PROMOTED": "STOPPED", "FAILED_OVER": "STOPPED"}
PENDING_SETUP = ("PENDING_MIRROR", "PENDING_SYNCHRONIZE", "PENDING_SETUP_FOR_RESTORE", "PENDING_RESTORE")

LINK_STEPS = {
    "UNAVAILABLE": "the link cannot reach the peer cluster, so nothing mirrors: check the peer region (its cluster, "
    "its stack's `cdcctl status`) and the network between the regions; expected while that region is lost",
    "FAILED": "read the error, `confluent kafka link describe {name}` and `confluent kafka link task list {name}`, "
    "and fix the cause",
    "PAUSED": "paused outside the stack (it never pauses the link), so nothing mirrors: "
    "`confluent kafka link describe {name}`",
}
# A refresh that leaves mirror topics alone: refreshing one stores its live status, and during an outage
# (SOURCE_UNAVAILABLE) that blocks the provider's failover (infra/cluster_link.py). `--exclude` takes URN
# globs since Pulumi 3.158 (pulumi/pulumi#18828); .github/scripts/drift-refresh.sh uses the same glob.
MIRROR_URNS = "**kafkaMirrorTopic:KafkaMirrorTopic::**"
REFRESH_WITHOUT_MIRRORS = "pulumi refresh --stack {peer} --exclude '" + MIRROR_URNS + "'"
LINK_ERROR_STEPS = {
    "AUTHENTICATION_ERROR": "the peer cluster refuses the link's key (the peer stack's `linkApiKey`): if it was "
    f"deleted or rotated outside Pulumi, `{REFRESH_WITHOUT_MIRRORS}` and `pulumi up --stack {{peer}}`, then "
    "`pulumi up --stack {stack}`",
}
MIRROR_STEPS = {
    "MISSING": "declared by the stack but not on the link: deleted outside Pulumi? Re-create it as declared: "
    "`confluent kafka mirror create {name} --link {link} --source-topic {source}` (never refresh mirror topics)",
    "FAILED": "mirroring failed: read the error, `confluent kafka mirror describe {name} --link {link}` and "
    "`confluent kafka mirror state-transition-error list {name} --link {link}`; check its source topic on the peer",
    "PAUSED": "paused outside the stack, so nothing mirrors to it: when that pause is over, "
    "`confluent kafka mirror resume {name} --link {link}` (a lasting pause is `mirrorStatus: PAUSED`)",
    "RESUMED": "mirroring although the stack pauses it (`mirrorStatus: PAUSED`): resumed outside Pulumi; "
    "`confluent kafka mirror pause {name} --link {link}`",
    "NOT STOPPED": "not stopped although the stack sets `mirrorStatus: {configured}`: the promotion or failover "
    "did not run or failed; `cdcctl link {action} --stack {stack}`",
    "STOPPED": "promoted or failed over outside the stack: it will never mirror again; record what was done, "
    "`mirrorStatus: PROMOTED` or `FAILED_OVER`, in Pulumi.{stack}.yaml",
    "PENDING_STOPPED": "being promoted or failed over: check again in a few minutes (a promotion first waits "
    "for the mirror to catch up: {behind} records behind at most)",
    "PENDING": "being set up or restored: check again in a few minutes",
    "LINK_FAILED": "the link failed: see the link's row",
    "LINK_PAUSED": "the link is paused: see the link's row",
    "SOURCE_UNAVAILABLE": "its source topic on the peer cluster cannot be read: check the peer region and that "
    "the topic exists there",
    "UNKNOWN": "an unexpected status: `confluent kafka mirror describe {name} --link {link}`",
}


def _http_failure(
    kind: str, name: str, status: int, body: Any, key_variable: str, stack: str, role: str = "a role on the environment"
) -> Health:
    message = ""
    if isinstance(body, dict):
        errors = body.get("errors")
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else body
        message = str(first.get("message") or first.get("detail") or "")
    phase, step = {
        0: (
            "UNREACHABLE",
            "no answer from the API: check the network path (private Flink and Kafka REST endpoints "
            "answer only inside the VPC)",
        ),
        401: ("UNAUTHORIZED", f"wrong or deleted key: check {key_variable} and its _SECRET"),
        403: ("FORBIDDEN", f"the owner of {key_variable} may not read it: grant it {role}"),
        404: ("NOT FOUND", f"not deployed, or deleted outside Pulumi: `pulumi up --stack {stack}`"),
        429: ("RATE LIMITED", "too many requests: try again in a minute"),
    }.get(
        status,
        (
            f"HTTP {status}",
            "Confluent's API failed or answered unexpectedly: try again, then check status.confluent.cloud",
        ),
    )
    return Health(kind, name, phase, False, _short(message), step)


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _DETAIL_CHARS else line[: _DETAIL_CHARS - 3] + "..."


def table(stack: str, region: str, rows: list[Health]) -> str:
    """One table: a row per resource; an unhealthy one also gets Confluent's error and the next step."""
    unhealthy = sum(1 for r in rows if not r.healthy)
    lines = [f"Stack {stack} ({region}): {len(rows)} checked, {unhealthy} unhealthy", ""]
    header = ("KIND", "NAME", "PHASE", "NEXT STEP")
    cells = [(r.kind, r.name, r.phase, r.next_step or "-") for r in rows]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(3)]
    for row, health in zip([header, *cells], [None, *rows], strict=True):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3])
        if health is not None and health.detail:
            lines.append(" " * (sum(widths) + 6) + f"error: {health.detail}")
    return "\n".join(lines)
