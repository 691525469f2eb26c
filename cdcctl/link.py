"""Failover, promotion and resumption of a stack's mirror topics through Confluent's Kafka REST API,
whatever Pulumi's state says: a preflight, the action per mirror, and the settings change that records it.

Why not through the provider: its mirror-topic update fails over or promotes only when the status in
state is ACTIVE or PAUSED (terraform-provider-confluent resource_kafka_mirror_topic.go, update), and a
refresh during an outage stores the live status (e.g. SOURCE_UNAVAILABLE), after which `mirrorStatus:
FAILED_OVER` cannot be applied. The program therefore never moves a mirror to PROMOTED/FAILED_OVER
itself (`infra/cluster_link.py` ignores `status` changes then): these commands do, and the settings
record it.

Requests (ccloud-sdk-go-v2 kafkarest/v3 ClusterLinkingV3Api; confluentinc/cli `kafka mirror` commands):
- preflight: `GET {rest}/kafka/v3/clusters/{lkc}/links/{link}` (`link_state`, `link_error`) and
  `GET .../links/{link}/mirrors` (`mirror_status`, `mirror_lags[].lag` per mirror);
- action: `POST .../links/{link}/mirrors:promote|:failover|:resume`, query `validate_only=true` for a dry
  run, body `{"mirror_topic_names": [...]}`; the answer (AlterMirrorStatusResponseDataList) lists per
  mirror `mirror_topic_name`, `error_code`, `error_message`: one mirror may fail while others succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from cdcctl.confluent_api import Credentials

ACTIONS = ("promote", "failover", "resume")
# The `link.mirrorStatus` that records each action once every mirror took it.
RECORDED_STATUS = {"promote": "PROMOTED", "failover": "FAILED_OVER", "resume": "ACTIVE"}
# Where each action can start: promotion and failover from any mirroring status (failover is meant for a
# source that cannot be read: SOURCE_UNAVAILABLE, LINK_FAILED); resume only from a pause.
MIRRORING = ("ACTIVE", "PAUSED", "SOURCE_UNAVAILABLE", "LINK_FAILED", "LINK_PAUSED", "FAILED")
STARTS = {"promote": MIRRORING, "failover": MIRRORING, "resume": ("PAUSED",)}
# Both end in STOPPED (through PENDING_STOPPED): the provider waits for exactly that.
STOPPED = ("STOPPED", "PENDING_STOPPED")
EXIT_REFUSED = 1  # the preflight or Confluent refused (some mirrors): nothing or not everything was done


class Api(Protocol):
    """cdcctl.confluent_api.ConfluentApi's `request` (allow-listed hosts, one deadline)."""

    def request(self, method: str, url: str, credentials: Credentials, body: Any = None) -> tuple[int, Any]: ...


@dataclass(frozen=True)
class Half:
    """The stack's link half as its outputs describe it."""

    stack: str
    settings_file: str
    rest_endpoint: str
    cluster_id: str
    link: str
    mirrors: tuple[str, ...]
    recorded_status: str  # the deployed `link.mirrorStatus`


@dataclass(frozen=True)
class Mirror:
    """One declared mirror at preflight: its status and how many records it is behind (max over partitions)."""

    name: str
    status: str
    lag: int | None


@dataclass(frozen=True)
class Preflight:
    local_reachable: bool
    local_problem: str
    link_state: str
    link_error: str
    mirrors: tuple[Mirror, ...]

    @property
    def source_reachable(self) -> bool:
        """Whether the peer (the mirrors' source) answers the link: an ACTIVE link and no mirror that
        cannot read its source."""
        return self.link_state == "ACTIVE" and not any(m.status == "SOURCE_UNAVAILABLE" for m in self.mirrors)


@dataclass(frozen=True)
class Outcome:
    mirror: str
    before: str
    lag: int | None
    result: str  # DONE, VALID (dry run), FAILED, SKIPPED
    detail: str = ""


def preflight(half: Half, api: Api, credentials: Credentials) -> Preflight:
    """Link state, each declared mirror's status and lag; which side answers."""
    link_url = _link_url(half)
    status, body = api.request("GET", link_url, credentials)
    if status != 200 or not isinstance(body, dict):
        return Preflight(False, _problem(status, body), "UNKNOWN", "", ())
    state, error = str(body.get("link_state") or "UNKNOWN"), str(body.get("link_error") or "NO_ERROR")
    status, body = api.request("GET", f"{link_url}/mirrors", credentials)
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return Preflight(False, "mirrors: " + _problem(status, body), state, error, ())
    listed = {m.get("mirror_topic_name"): m for m in body["data"] if isinstance(m, dict)}
    mirrors = tuple(_mirror(name, listed.get(name)) for name in half.mirrors)
    return Preflight(True, "", state, error, mirrors)


def _mirror(name: str, listed: dict[str, Any] | None) -> Mirror:
    if listed is None:
        return Mirror(name, "MISSING", None)
    lags = [p.get("lag") for p in listed.get("mirror_lags") or [] if isinstance(p, dict)]
    known = [lag for lag in lags if isinstance(lag, int)]
    return Mirror(name, str(listed.get("mirror_status") or "UNKNOWN"), max(known) if known else None)


def refusal(action: str, check: Preflight, half: Half) -> str | None:
    """Why the preflight stops `action` before any change (None: go ahead)."""
    if not check.local_reachable:
        return (
            f"{half.stack}'s cluster does not answer ({check.local_problem}): act on the SURVIVING region's "
            "stack, from a runner inside its VPC"
        )
    if action == "promote" and not check.source_reachable:
        # A promotion first catches up with the source: it needs the source (failover does not).
        return (
            f"the link is {check.link_state} ({check.link_error}) and the source cannot be read: promotion needs "
            f"it; with the peer region lost, run `cdcctl link failover --stack {half.stack}`"
        )
    if action == "resume" and not check.source_reachable:
        return f"the link is {check.link_state} ({check.link_error}): mirrors cannot resume until the peer answers"
    return None


def act(action: str, half: Half, check: Preflight, api: Api, credentials: Credentials, dry_run: bool) -> list[Outcome]:
    """Send `action` for every mirror that can take it; report every declared mirror."""
    outcomes = {m.name: _skip(action, m) for m in check.mirrors}
    eligible = [m for m in check.mirrors if outcomes[m.name] is None]
    if eligible:
        query = "?validate_only=true" if dry_run else ""
        url = f"{_link_url(half)}/mirrors:{action}{query}"
        status, body = api.request("POST", url, credentials, {"mirror_topic_names": [m.name for m in eligible]})
        answers: dict[Any, Any] = {}
        if status == 200 and isinstance(body, dict) and isinstance(body.get("data"), list):
            answers = {a.get("mirror_topic_name"): a for a in body["data"] if isinstance(a, dict)}
        for m in eligible:
            answer = answers.get(m.name)
            if answer is None:
                detail = _problem(status, body) if status != 200 else "not in Confluent's answer"
                outcomes[m.name] = Outcome(m.name, m.status, m.lag, "FAILED", detail)
            elif answer.get("error_message") or answer.get("error_code"):
                detail = f"{answer.get('error_code')}: {answer.get('error_message') or ''}".strip()
                outcomes[m.name] = Outcome(m.name, m.status, m.lag, "FAILED", detail)
            else:
                outcomes[m.name] = Outcome(m.name, m.status, m.lag, "VALID" if dry_run else "DONE")
    return [o for o in (outcomes[m.name] for m in check.mirrors) if o is not None]


def _skip(action: str, mirror: Mirror) -> Outcome | None:
    """The outcome of a mirror the action is not sent for (None: send it)."""
    if mirror.status in STARTS[action]:
        return None
    if mirror.status == "MISSING":
        why = "declared by the stack but not on the link"
    elif mirror.status == "PENDING_STOPPED":
        why = "being stopped: run the command again in a minute to record it"
    elif mirror.status in STOPPED and action != "resume":
        why = "already stopped (promoted or failed over)"
    elif mirror.status in STOPPED:
        why = "stopped: a stopped mirror never resumes; see failback below"
    elif action == "resume" and mirror.status == "ACTIVE":
        why = "already mirroring"
    else:
        why = f"{mirror.status} cannot be {action}d: `confluent kafka mirror describe {mirror.name}`"
    return Outcome(mirror.name, mirror.status, mirror.lag, "SKIPPED", why)


def unfinished(action: str, outcomes: list[Outcome]) -> list[Outcome]:
    """Mirrors the action did not bring where it leads: failed, or skipped in a state it does not settle
    (missing, pending, failed). Until there are none, no setting is recorded and the command exits 1."""
    return [o for o in outcomes if o.result == "FAILED" or (o.result == "SKIPPED" and not _settled(action, o.before))]


def in_line(action: str, half: Half, outcomes: list[Outcome], dry_run: bool) -> list[str]:
    """What brings the stacks in line after `action`: the settings change and the commands, or why not yet."""
    status = RECORDED_STATUS[action]
    failed = unfinished(action, outcomes)
    stopped_for_resume = [o for o in outcomes if action == "resume" and o.before in STOPPED]
    file, stack = half.settings_file, half.stack
    if dry_run:
        return [
            "Dry run: nothing changed. Without --dry-run, every mirror above marked VALID is "
            + ({"promote": "promoted", "failover": "failed over", "resume": "resumed"}[action])
            + "."
        ]
    if failed:
        names = " ".join(o.mirror for o in failed)
        return [
            f"{len(failed)} mirror(s) not done: fix what the error names, then run the same command again (mirrors "
            f"already done are skipped). Settings unchanged until then: `link.mirrorStatus` stays "
            f"{half.recorded_status}.",
            f"  confluent kafka mirror describe <mirror> --link {half.link}   # for each of: {names}",
        ]
    if stopped_for_resume:
        return _failback(half, stopped_for_resume)
    if half.recorded_status == status:
        return [f"Nothing to record: {file} already says `cdc-platform:link.mirrorStatus: {status}`."]
    lines = [
        f"Record it: in {file} set `cdc-platform:link.mirrorStatus: {status}` (was {half.recorded_status}), "
        "commit it, and deploy that stack:",
        f"  pulumi config set --stack {stack} cdc-platform:link.mirrorStatus {status}",
        f"  pulumi up --stack {stack}        # no refresh: see README 'Active-active'",
    ]
    if status != "ACTIVE":
        lines.append(
            "  (the program does not call Confluent again for a PROMOTED/FAILED_OVER mirror: it ignores the "
            "status change, so the stale ACTIVE in state is harmless)"
        )
    return lines


def _settled(action: str, status: str) -> bool:
    """Whether a mirror skipped in `status` already is where `action` leads (or, for resume, where failback
    takes over)."""
    return status == "STOPPED" or (action == "resume" and status == "ACTIVE")


def _failback(half: Half, stopped: list[Outcome]) -> list[str]:
    """A stopped mirror cannot resume: failback re-creates the mirrors once their records are safe."""
    lines = [
        "Failback: stopped mirrors are ordinary topics now and never mirror again. Once the peer region is back "
        "and every consumer reading them has moved back to the peer:",
    ]
    lines += [f"  confluent kafka topic delete {o.mirror} --cluster {half.cluster_id}" for o in stopped]
    lines += [
        f"  pulumi stack --stack {half.stack} --show-urns | grep kafkaMirrorTopic   # then, for each URN:",
        f"  pulumi state delete --stack {half.stack} '<urn>'   # retained on delete: drops it from state only",
        f"  pulumi config set --stack {half.stack} cdc-platform:link.mirrorStatus ACTIVE",
        f"  pulumi up --stack {half.stack}        # re-creates each mirror from the peer's topic, from offset 0",
        "Records written to a stopped topic in this region are not sent back: copy them first if any were.",
    ]
    return lines


def report(action: str, half: Half, check: Preflight, outcomes: list[Outcome], dry_run: bool) -> str:
    """The preflight, one row per mirror, then what brings the stacks in line."""
    source = "reachable" if check.source_reachable else "NOT reachable"
    lines = [
        f"link {action}{' --dry-run' if dry_run else ''}: stack {half.stack}, link {half.link} on {half.cluster_id}",
        f"preflight: this cluster answers; link {check.link_state} ({check.link_error}); peer (source) {source}",
        "",
    ]
    header = ("MIRROR", "BEFORE", "LAG", "RESULT")
    cells = [(o.mirror, o.before, "?" if o.lag is None else str(o.lag), o.result) for o in outcomes]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(4)]
    for row, outcome in zip([header, *cells], [None, *outcomes], strict=True):
        text = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        lines.append(text + (f"  {outcome.detail}" if outcome is not None and outcome.detail else ""))
    if action == "failover" and check.source_reachable:
        lines += ["", "the source is reachable: `promote` would first catch up with it (nothing left behind)"]
    behind = [o for o in outcomes if o.result in ("DONE", "VALID") and action == "failover" and (o.lag or 0) > 0]
    if behind:
        total = sum(o.lag or 0 for o in behind)
        lines += ["", f"failover stops mirrors where they are: up to {total} record(s) not yet mirrored stay behind"]
    return "\n".join([*lines, "", *in_line(action, half, outcomes, dry_run)])


def _link_url(half: Half) -> str:
    return f"{half.rest_endpoint}/kafka/v3/clusters/{quote(half.cluster_id)}/links/{quote(half.link)}"


def _problem(status: int, body: Any) -> str:
    message = ""
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("error_message") or "")
    prefix = "no answer" if status == 0 else f"HTTP {status}"
    return f"{prefix}: {message}" if message else prefix
