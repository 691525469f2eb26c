"""Offline plan: run the real program for a stack under Pulumi's mock runtime and record every resource.

No credentials, no network: lookups and StackReferences are answered with plausible values. A region
stack's reference to its global stack is answered with the exports of that stack's own offline plan,
so the plan also proves that the two layers agree on what crosses between them.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.settings import get_root_resource

from core.config_node import ConfigError
from infra.settings import NAMESPACE, PROGRAM_SECRET_KEYS, PROVIDER_SECRET_KEYS, Settings, parse_settings, stack_file

SECRET = "[secret]"
_SECRET_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"
MOCK_ORG_ID = "00000000-0000-4000-8000-00000000c0de"
ORG_CRN = f"crn://confluent.cloud/organization={MOCK_ORG_ID}"


@dataclass
class PlannedResource:
    """One registration: what `cdcctl plan --json` prints per resource."""

    type: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    protect: bool
    urn: str = ""
    id: str = ""
    dependencies: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "inputs": self.inputs,
            "protect": self.protect,
        }


@dataclass
class Plan:
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]  # stack exports, secrets rendered as "[secret]"
    raw_outputs: dict[str, Any]  # stack exports with secret values (to answer StackReferences)


def render(value: Any) -> Any:
    """Replace Pulumi secret envelopes by "[secret]" (recursively)."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) == _SECRET_SIG_VALUE:
            return SECRET
        return {k: render(v) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf Structs carry every number as a double
    return value


def unwrap(value: Any) -> Any:
    """Strip Pulumi secret envelopes, keeping the values (for StackReference answers)."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) == _SECRET_SIG_VALUE:
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def _short_hash(*parts: str, length: int = 6) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


_AZ_ID_REGIONS = {"use1": "us-east-1", "use2": "us-east-2", "usw1": "us-west-1", "usw2": "us-west-2"}
_ID_PREFIXES = {
    "Environment": "env",
    "KafkaCluster": "lkc",
    "ServiceAccount": "sa",
    "RoleBinding": "rb",
    "FlinkComputePool": "lfcp",
    "Network": "n",
    "PrivateLinkAccess": "pla",
    "SecurityGroup": "sg",
    "VpcEndpoint": "vpce",
    "Zone": "Z",
}


class PlanMocks(Mocks):
    """Plausible ids and computed outputs for every resource type and lookup the program uses."""

    def __init__(self, stack: str, stack_references: dict[str, dict[str, Any]], previous: dict[str, Any]) -> None:
        self.stack = stack
        self.stack_references = stack_references
        self.previous = previous

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        kind = args.typ.rsplit(":", 1)[-1]
        if args.typ == "pulumi:pulumi:StackReference":
            target = args.inputs["name"]
            own = target.rsplit("/", 1)[-1] == self.stack  # the stack reading its last deployment
            outputs = self.previous if own else self.stack_references.get(target, {})
            return target, {"name": target, "outputs": outputs, "secretOutputNames": []}
        if kind == "ApiKey":
            key_id = ("MOCK" + _short_hash(args.name, length=12)).upper()
            return key_id, {**args.inputs, "secret": f"mock-api-secret-{_short_hash('secret', args.name, length=20)}"}
        if kind == "KafkaTopic":
            cluster = args.inputs.get("kafkaCluster", {}).get("id", "lkc-unknown")
            return f"{cluster}/{args.inputs.get('topicName')}", dict(args.inputs)
        resource_id = f"{_ID_PREFIXES.get(kind, kind.lower())}-{_short_hash(args.name)}"
        return resource_id, {**args.inputs, **self._computed(kind, resource_id, args.inputs)}

    @staticmethod
    def _computed(kind: str, resource_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        region = inputs.get("region", "us-east-1")
        env_id = inputs.get("environment", {}).get("id", "env-unknown")
        if kind == "Environment":
            return {"resourceName": f"{ORG_CRN}/environment={resource_id}"}
        if kind == "ServiceAccount":
            return {"apiVersion": "iam/v2", "kind": "ServiceAccount"}
        if kind == "KafkaCluster":
            host = f"{resource_id}.{region}.aws.confluent.cloud"
            return {
                "apiVersion": "cmk/v2",
                "kind": "Cluster",
                "rbacCrn": f"{ORG_CRN}/environment={env_id}/cloud-cluster={resource_id}",
                "bootstrapEndpoint": f"SASL_SSL://{host}:9092",
                "restEndpoint": f"https://{host}:443",
            }
        if kind == "FlinkComputePool":
            return {
                "resourceName": f"{ORG_CRN}/environment={env_id}/flink-region=aws.{region}/compute-pool={resource_id}"
            }
        if kind == "Network":
            return {
                "aws": [
                    {
                        "privateLinkEndpointService": f"com.amazonaws.vpce.{region}.vpce-svc-"
                        + _short_hash(resource_id, length=17)
                    }
                ],
                "dnsDomain": f"{resource_id}.{region}.aws.confluent.cloud",
            }
        if kind == "VpcEndpoint":
            region = str(inputs.get("serviceName", "com.amazonaws.vpce.us-east-1")).split(".")[3]
            return {
                "dnsEntries": [
                    {
                        "dnsName": f"{resource_id}-{_short_hash(resource_id, length=8)}"
                        f".vpce-svc.{region}.vpce.amazonaws.com"
                    }
                ]
            }
        if kind == "Zone":
            return {"zoneId": resource_id}
        if kind in ("Secret", "Role"):
            service = "secretsmanager" if kind == "Secret" else "iam"
            return {"arn": f"arn:aws:{service}::111122223333:{kind.lower()}/{resource_id}"}
        if kind == "Proxy":
            return {"endpoint": f"{inputs.get('name')}.proxy-{_short_hash(resource_id, length=12)}.rds.amazonaws.com"}
        if kind == "ProxyDefaultTargetGroup":
            return {"name": "default"}
        return {}

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        token = args.token.rsplit(":", 1)[-1]
        if token == "getOrganization":
            return {"id": MOCK_ORG_ID, "resourceName": ORG_CRN}, []
        if token == "getSchemaRegistryCluster":
            env_id = args.args.get("environment", {}).get("id", "env-unknown")
            sr_id = f"lsrc-{_short_hash(env_id)}"
            registry = {
                "id": sr_id,
                "apiVersion": "srcm/v3",
                "kind": "Cluster",
                "resourceName": f"{ORG_CRN}/environment={env_id}/schema-registry={sr_id}",
                "restEndpoint": f"https://psrc-{_short_hash(sr_id)}.us-east-1.aws.confluent.cloud",
            }
            return registry, []
        if token == "getFlinkRegion":
            region = args.args["region"]
            flink_region = {
                "id": f"aws.{region}",
                "apiVersion": "fcpm/v2",
                "kind": "Region",
                "restEndpoint": f"https://flink.{region}.aws.confluent.cloud",
            }
            return flink_region, []
        if token == "getCluster":
            cluster = args.args["clusterIdentifier"]
            host = f"{cluster}.cluster-{_short_hash(cluster, length=12)}.rds.amazonaws.com"
            return {
                "clusterIdentifier": cluster,
                "endpoint": host,
                "readerEndpoint": host.replace(".cluster-", ".cluster-ro-"),
                "port": 5432,
            }, []
        if token == "getAvailabilityZone":
            # AZ names map to ids per account: any plausible name in the zone id's region will do.
            zone_id = args.args["zoneId"]
            region = _AZ_ID_REGIONS.get(zone_id.split("-")[0], "us-east-1")
            return {"name": f"{region}{'abcdef'[int(zone_id[-1]) % 6]}", "zoneId": zone_id}, []
        raise NotImplementedError(f"offline plan has no answer for lookup {args.token}")


class RecordingMonitor(MockMonitor):
    """MockMonitor that also keeps parent, protect, dependencies and raw inputs (secrets wrapped)."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.planned: list[PlannedResource] = []

    def _record(self, request: Any, urn: str, resource_id: str, properties: Any) -> None:
        self.planned.append(
            PlannedResource(
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                inputs=json_format.MessageToDict(properties),
                protect=bool(getattr(request, "protect", False)),
                urn=urn,
                id=resource_id,
                dependencies=list(getattr(request, "dependencies", [])),
                replace_on_changes=list(getattr(request, "replaceOnChanges", [])),
            )
        )

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, response.urn, response.id, request.object)
        return response

    def ReadResource(self, request: Any) -> Any:
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self._record(request, response.urn, request.id, request.properties)
        return response


def stack_config(stack: str, root: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """The config Pulumi would hand the program: project defaults overlaid by the stack file.

    Values are strings (structured ones as JSON), as the real engine passes them; secure values and
    the provider's secret keys become "[secret]" placeholders marked secret."""
    root = root or Path.cwd()
    path = root / stack_file(stack)
    if not path.is_file():
        raise ConfigError(stack_file(stack), "config", f"no stack file for stack {stack!r} in {root}")
    project = _read_yaml(root / "Pulumi.yaml", "Pulumi.yaml")
    document = _read_yaml(path, stack_file(stack)) or {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ConfigError(stack_file(stack), "config", "must be a mapping of config keys")
    config: dict[str, str] = {}
    for key, spec in (project.get("config") or {}).items():
        value = spec.get("default", spec.get("value")) if isinstance(spec, dict) else spec
        if value is not None:
            config[_full_key(key, project["name"])] = _config_string(value)
    # Users set credentials and passwords with --secret; the plan stands in placeholders for them.
    secret_keys = [*PROVIDER_SECRET_KEYS, *PROGRAM_SECRET_KEYS]
    config.update({key: SECRET for key in secret_keys})
    for key, value in (document.get("config") or {}).items():
        key = _full_key(key, project["name"])
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = SECRET
            secret_keys.append(key)
        else:
            config[key] = _config_string(value)
            if key in secret_keys:
                secret_keys.remove(key)  # written in clear text: the program must refuse it
    return config, secret_keys


def stack_settings(stack: str, root: Path | None = None) -> Settings:
    """A stack's validated settings, from its files alone (no program run)."""
    config, secret_keys = stack_config(stack, root)
    return parse_settings(config, stack, frozenset(secret_keys))


def _read_yaml(path: Path, name: str) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(name, "config", f"invalid YAML: {error}") from None


def _full_key(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def plan(stack: str, root: Path | None = None, previous: dict[str, Any] | None = None) -> Plan:
    """Plan `stack` of the project in `root` (default: the current directory, as for the Pulumi CLI).

    `previous` stands in for the stack's last deployed outputs (default: a first deployment).
    Raises ConfigError (file and key) on bad config; nothing is registered then."""
    root = root or Path.cwd()
    config, secret_keys = stack_config(stack, root)
    references: dict[str, dict[str, Any]] = {}
    global_stack = config.get(f"{NAMESPACE}:globalStack")
    if isinstance(global_stack, str) and global_stack:
        target = global_stack.rsplit("/", 1)[-1]
        if not (root / stack_file(target)).is_file():
            raise ConfigError(
                stack_file(stack),
                f"{NAMESPACE}:globalStack",
                f"{global_stack!r} names no stack file in this repo ({stack_file(target)}) to plan it from",
            )
        if target != stack:
            references[global_stack] = plan(target, root).raw_outputs
    # Each plan runs in a fresh context: Pulumi's runtime settings and config live in contextvars.
    mocks = PlanMocks(stack, references, previous or {})
    return contextvars.Context().run(_run_program, stack, config, secret_keys, mocks, root)


def _run_program(stack: str, config: dict[str, str], secret_keys: list[str], mocks: PlanMocks, root: Path) -> Plan:
    pulumi.runtime.set_all_config(config, secret_keys)
    monitor = RecordingMonitor(mocks)
    # Organization as the Pulumi CLI reports it for the stack (the global stack's, else the DIY default).
    reference = config.get(f"{NAMESPACE}:globalStack", "")
    organization = reference.split("/")[0] if reference.count("/") == 2 else "organization"
    pulumi.runtime.set_mocks(
        monitor.mocks, project="cdc-platform", stack=stack, preview=False, monitor=monitor, organization=organization
    )

    exports: dict[str, Any] = {}

    async def serialize_exports() -> None:
        # Stack exports are never registered under mocks: serialize them as the engine would
        # receive them (secret values in Pulumi's secret envelope).
        stack = get_root_resource()
        struct = await rpc.serialize_properties(getattr(stack, "outputs", {}), {})
        exports.update(json_format.MessageToDict(struct))

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[None]:
        runpy.run_path(str(root / "__main__.py"), run_name="__main__")
        return pulumi.Output.from_input(asyncio.ensure_future(serialize_exports()))

    try:
        program()
    except pulumi.RunError as error:
        if isinstance(error.__cause__, ConfigError):
            if monitor.planned:
                raise RuntimeError(f"bad config detected after {len(monitor.planned)} registrations") from error
            raise error.__cause__ from None
        raise
    # Registrations arrive from worker threads in varying order: sort, so plans of one config diff clean.
    monitor.planned.sort(key=lambda r: r.urn)
    names = {r.urn: r.name for r in monitor.planned}
    for resource in monitor.planned:
        resource.parent = names.get(resource.parent or "")
        resource.inputs = render(resource.inputs)
    return Plan(stack, monitor.planned, render(exports), unwrap(exports))
