"""The offline plan's answers: plausible ids and computed outputs for every resource type and lookup
the program uses, one table row per type (Pulumi's mock runtime asks; no network, no credentials)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

MOCK_ORG_ID = "00000000-0000-4000-8000-00000000c0de"
ORG_CRN = f"crn://confluent.cloud/organization={MOCK_ORG_ID}"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
_AZ_ID_REGIONS = {"use1": "us-east-1", "use2": "us-east-2", "usw1": "us-west-1", "usw2": "us-west-2"}

Inputs = dict[str, Any]


def short_hash(*parts: str, length: int = 6) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _region(inputs: Inputs) -> str:
    return str(inputs.get("region", "us-east-1"))


def _env_id(inputs: Inputs) -> str:
    return str(inputs.get("environment", {}).get("id", "env-unknown"))


@dataclass(frozen=True)
class MockType:
    """How one resource type is answered: its id (default `<prefix>-<hash of the logical name>`) and
    the outputs the provider would compute (added to the inputs)."""

    id_prefix: str = ""
    outputs: Callable[[str, Inputs], Inputs] = lambda resource_id, inputs: {}
    id_of: Callable[[MockResourceArgs], str] | None = None


def _kafka_cluster(resource_id: str, inputs: Inputs) -> Inputs:
    host = f"{resource_id}.{_region(inputs)}.aws.confluent.cloud"
    return {
        "apiVersion": "cmk/v2",
        "kind": "Cluster",
        "rbacCrn": f"{ORG_CRN}/environment={_env_id(inputs)}/cloud-cluster={resource_id}",
        "bootstrapEndpoint": f"SASL_SSL://{host}:9092",
        "restEndpoint": f"https://{host}:443",
    }


def _network(resource_id: str, inputs: Inputs) -> Inputs:
    region = _region(inputs)
    service = f"com.amazonaws.vpce.{region}.vpce-svc-{short_hash(resource_id, length=17)}"
    domain = f"{resource_id}.{region}.aws.confluent.cloud"
    # TF docs confluent_network: endpoint_suffix is the DNS domain with a leading dot.
    return {
        "aws": [{"privateLinkEndpointService": service}],
        "dnsDomain": domain,
        "endpointSuffix": f".{domain}",
        "gateways": [{"id": f"gw-{short_hash(resource_id)}"}],
    }


def _vpc_endpoint(resource_id: str, inputs: Inputs) -> Inputs:
    region = str(inputs.get("serviceName", "com.amazonaws.vpce.us-east-1")).split(".")[3]
    name = f"{resource_id}-{short_hash(resource_id, length=8)}.vpce-svc.{region}.vpce.amazonaws.com"
    return {"dnsEntries": [{"dnsName": name}]}


def _arn(service: str, kind: str) -> Callable[[str, Inputs], Inputs]:
    return lambda resource_id, inputs: {"arn": f"arn:aws:{service}::111122223333:{kind}/{resource_id}"}


# A stopped statement's offsets, as the provider reads them from its status: per table it reads, one
# "partition:P,offset:N" per partition joined by ";" (provider test data), and when they were recorded.
MOCK_STOPPED_AT = "2026-12-01T00:00:00Z"
_READ_TABLE = re.compile(r"FROM `([^`]+)`")


def _flink_statement(resource_id: str, inputs: Inputs) -> Inputs:
    if not inputs.get("stopped"):
        return {}
    tables = sorted(set(_READ_TABLE.findall(str(inputs.get("statement", "")))))
    offset = int(short_hash(resource_id, length=4), 16)
    return {
        "latestOffsets": {t: ";".join(f"partition:{p},offset:{offset + p}" for p in range(3)) for t in tables},
        "latestOffsetsTimestamp": MOCK_STOPPED_AT,
    }


RESOURCE_TYPES: dict[str, MockType] = {
    "Environment": MockType("env", lambda rid, i: {"resourceName": f"{ORG_CRN}/environment={rid}"}),
    "ServiceAccount": MockType("sa", lambda rid, i: {"apiVersion": "iam/v2", "kind": "ServiceAccount"}),
    "KafkaCluster": MockType("lkc", _kafka_cluster),
    "FlinkStatement": MockType(outputs=_flink_statement),
    "KafkaTopic": MockType(
        id_of=lambda a: f"{a.inputs.get('kafkaCluster', {}).get('id', 'lkc-unknown')}/{a.inputs.get('topicName')}"
    ),
    "ApiKey": MockType(
        outputs=lambda rid, i: {"secret": f"mock-api-secret-{short_hash('secret', rid, length=20)}"},
        id_of=lambda a: ("MOCK" + short_hash(a.name, length=12)).upper(),
    ),
    "RoleBinding": MockType("rb"),
    "Connector": MockType("lcc"),  # managed connector ids: lcc-...
    "FlinkComputePool": MockType(
        "lfcp",
        lambda rid, i: {
            "resourceName": f"{ORG_CRN}/environment={_env_id(i)}/flink-region=aws.{_region(i)}/compute-pool={rid}"
        },
    ),
    "Network": MockType("n", _network),
    "PrivateLinkAccess": MockType("pla"),
    "SecurityGroup": MockType("sg"),
    "VpcEndpoint": MockType("vpce", _vpc_endpoint),
    "Zone": MockType("Z", lambda rid, i: {"zoneId": rid}),
    "Secret": MockType(outputs=_arn("secretsmanager", "secret")),
    "Role": MockType(outputs=_arn("iam", "role")),
    "Proxy": MockType(
        outputs=lambda rid, i: {"endpoint": f"{i.get('name')}.proxy-{short_hash(rid, length=12)}.rds.amazonaws.com"}
    ),
    "ProxyDefaultTargetGroup": MockType(outputs=lambda rid, i: {"name": "default"}),
    "LoadBalancer": MockType(outputs=_arn("elasticloadbalancing", "loadbalancer/net")),
    "TargetGroup": MockType(outputs=_arn("elasticloadbalancing", "targetgroup")),
    "VpcEndpointService": MockType(
        "vpce-svc", lambda rid, i: {"serviceName": f"com.amazonaws.vpce.{_region(i)}.{rid}"}
    ),
    "AccessPoint": MockType("ap"),
    "DnsRecord": MockType("dnsrec"),
    # pulumi-vault: a KV v2 secret's path, a policy's and an AWS auth role's names are their ids.
    "SecretV2": MockType(
        outputs=lambda rid, i: {"path": f"{i.get('mount')}/data/{i.get('name')}"},
        id_of=lambda a: f"{a.inputs.get('mount')}/data/{a.inputs.get('name')}",
    ),
    "Policy": MockType(id_of=lambda a: str(a.inputs.get("name"))),
    "AuthBackendRole": MockType(id_of=lambda a: f"auth/{a.inputs.get('backend')}/role/{a.inputs.get('role')}"),
    "Function": MockType(outputs=lambda rid, i: {**_arn("lambda", "function")(rid, i), "name": rid}),
    "EventRule": MockType(outputs=lambda rid, i: {**_arn("events", "rule")(rid, i), "name": rid}),
}


def _schema_registry(args: Inputs) -> Inputs:
    env_id = _env_id(args)
    sr_id = f"lsrc-{short_hash(env_id)}"
    return {
        "id": sr_id,
        "apiVersion": "srcm/v3",
        "kind": "Cluster",
        "resourceName": f"{ORG_CRN}/environment={env_id}/schema-registry={sr_id}",
        "restEndpoint": f"https://psrc-{short_hash(sr_id)}.us-east-1.aws.confluent.cloud",
    }


def _aurora_cluster(args: Inputs) -> Inputs:
    cluster = args["clusterIdentifier"]
    host = f"{cluster}.cluster-{short_hash(cluster, length=12)}.rds.amazonaws.com"
    return {
        "clusterIdentifier": cluster,
        "arn": f"arn:aws:rds:region:111122223333:cluster:{cluster}",  # the invoke's args carry no region
        "endpoint": host,
        "readerEndpoint": host.replace(".cluster-", ".cluster-ro-"),
        "port": 5432,
        "vpcSecurityGroupIds": [f"sg-{short_hash(cluster, length=17)}"],
    }


def _availability_zone(args: Inputs) -> Inputs:
    # AZ names map to ids per account: any plausible name in the zone id's region will do.
    zone_id = args["zoneId"]
    region = _AZ_ID_REGIONS.get(zone_id.split("-")[0], "us-east-1")
    return {"name": f"{region}{'abcdef'[int(zone_id[-1]) % 6]}", "zoneId": zone_id}


LOOKUPS: dict[str, Callable[[Inputs], Inputs]] = {
    "getOrganization": lambda args: {"id": MOCK_ORG_ID, "resourceName": ORG_CRN},
    "getSchemaRegistryCluster": _schema_registry,
    "getFlinkRegion": lambda args: {
        "id": f"aws.{args['region']}",
        "apiVersion": "fcpm/v2",
        "kind": "Region",
        "restEndpoint": f"https://flink.{args['region']}.aws.confluent.cloud",
    },
    "getCluster": _aurora_cluster,
    "getAvailabilityZone": _availability_zone,
    # The raw subject as the connector registers it with its first record (the first-deploy gate's
    # open state; tests replace this entry for the closed one).
    "getSchemas": lambda args: {
        "schemas": [
            {
                "subjectName": args.get("filter", {}).get("subjectPrefix", ""),
                "format": "JSON",
                "schema": "{}",
                "schemaIdentifier": 100001,
                "schemaReferences": [],
                "version": 1,
            }
        ]
    },
    # Confluent's egress principal of a network's gateway (an IAM role in Confluent's account).
    "getGateway": lambda args: {
        "id": args["id"],
        "awsEgressPrivateLinkGateways": [
            {"principalArn": f"arn:aws:iam::000000000000:role/cc-egress-{short_hash(args['id'])}", "region": ""}
        ],
    },
    # The deployer's role behind its session (Secrets Manager policies exempt it from their Deny).
    "getSessionContext": lambda args: {
        "arn": args["arn"],
        "issuerArn": "arn:aws:iam::111122223333:role/deployer",
        "issuerId": "AROAEXAMPLE",
        "issuerName": "deployer",
        "sessionName": "cdc-platform",
        "id": args["arn"],
    },
    "getCallerIdentity": lambda args: {
        "accountId": "111122223333",
        "arn": "arn:aws:sts::111122223333:assumed-role/deployer/cdc-platform",
        "userId": "AROAEXAMPLE:cdc-platform",
        "id": "111122223333",
    },
}


class PlanMocks(Mocks):
    """Answers registrations from RESOURCE_TYPES, lookups from LOOKUPS, and StackReferences from the
    given stacks' exports (the stack's own reference: its previous deployment's)."""

    def __init__(self, stack: str, stack_references: dict[str, dict[str, Any]], previous: dict[str, Any]) -> None:
        self.stack = stack
        self.stack_references = stack_references
        self.previous = previous

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == STACK_REFERENCE:
            target = args.inputs["name"]
            own = target.rsplit("/", 1)[-1] == self.stack  # the stack reading its last deployment
            outputs = self.previous if own else self.stack_references.get(target, {})
            return target, {"name": target, "outputs": outputs, "secretOutputNames": []}
        kind = args.typ.rsplit(":", 1)[-1]
        mock = RESOURCE_TYPES.get(kind, MockType())
        resource_id = mock.id_of(args) if mock.id_of else f"{mock.id_prefix or kind.lower()}-{short_hash(args.name)}"
        return resource_id, {**args.inputs, **mock.outputs(resource_id, args.inputs)}

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        token = args.token.rsplit(":", 1)[-1]
        if token not in LOOKUPS:
            raise NotImplementedError(f"offline plan has no answer for lookup {args.token}")
        return LOOKUPS[token](args.args), []
