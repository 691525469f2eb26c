"""Policy rules over planned resources (type + engine-level inputs, camelCase as the engine sees them).

Plain functions so the same rules run inside the Pulumi policy pack and against offline plans.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from core import naming
from core.limits import MAX_CFU_VALUES
from core.region_exports import CONSUMER_CREDENTIALS

ROLE_BINDING = "confluentcloud:index/roleBinding:RoleBinding"
KAFKA_CLUSTER = "confluentcloud:index/kafkaCluster:KafkaCluster"
KAFKA_TOPIC = "confluentcloud:index/kafkaTopic:KafkaTopic"
COMPUTE_POOL = "confluentcloud:index/flinkComputePool:FlinkComputePool"
CONNECTOR = "confluentcloud:index/connector:Connector"
FLINK_STATEMENT = "confluentcloud:index/flinkStatement:FlinkStatement"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

# In a protected (prod) stack, what a deletion would break or lose must be protected too: the data
# (environment, cluster, topics, schemas), who may act (service accounts: keys and bindings hang off
# them), the pipeline's state (connector: slot position; pool and running statement: offsets), the
# private path (network, access, endpoint, DNS) and the database's secret and proxy.
PROTECTED_IN_PROD = (
    "confluentcloud:index/environment:Environment",
    KAFKA_CLUSTER,
    KAFKA_TOPIC,
    "confluentcloud:index/schema:Schema",
    "confluentcloud:index/serviceAccount:ServiceAccount",
    CONNECTOR,
    COMPUTE_POOL,
    FLINK_STATEMENT,
    "confluentcloud:index/network:Network",
    "confluentcloud:index/privateLinkAccess:PrivateLinkAccess",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/vpcEndpointService:VpcEndpointService",
    "confluentcloud:index/accessPoint:AccessPoint",
    "confluentcloud:index/dnsRecord:DnsRecord",
    "confluentcloud:index/clusterLink:ClusterLink",
    "aws:route53/zone:Zone",
    "aws:route53/record:Record",
    "aws:secretsmanager/secret:Secret",
    "aws:rds/proxy:Proxy",
)
OPEN_CIDRS = ("0.0.0.0/0", "::/0")
# Connector config keys whose values are credentials: they belong in config_sensitive.
SENSITIVE_KEY = ("password", "secret", "sasl.jaas.config", "ssl.key", "sslkey", "api.key")

WORKLOAD_ROLES = ("DeveloperRead", "DeveloperWrite", "DeveloperManage")
WORKLOAD_SCOPES = ("/topic=", "/group=", "/subject=", "/transactional-id=")
# Deployer roles and where each may be bound (a CRN fragment that must NOT appear, one that must).
DEPLOYER_ROLES = {
    "CloudClusterAdmin": ("/kafka=", "/cloud-cluster="),
    "FlinkDeveloper": ("/cloud-cluster=", "/environment="),
    "Assigner": ("/environment=", "/service-account="),
    "ResourceOwner": ("/kafka=", "/subject="),
}
# Read-only observers: Prometheus' metrics principal reads the environment's metrics, nothing else
# (MetricsViewer scopes: organization, environment, cluster; the environment covers cluster,
# connector and compute pool).
OBSERVER_ROLES = {"MetricsViewer": ("/cloud-cluster=", "/environment=")}
# A bidirectional cluster link's credential on its source cluster needs Operator on that one cluster
# (CC multi-cloud/cluster-linking/security-cloud), and DeveloperManage on the mirrored topics only.
LINK_ROLES = {"Operator": ("/kafka=", "/cloud-cluster=")}
SCOPED_ROLES = {**DEPLOYER_ROLES, **OBSERVER_ROLES, **LINK_ROLES}

# A mapping holding any of these is one principal's credentials (core.region_exports.ConsumerCredentials).
CREDENTIAL_SECRETS = (CONSUMER_CREDENTIALS.kafka_api_secret, CONSUMER_CREDENTIALS.schema_registry_api_secret)
# The engine's marker of a secret value in resource properties (pulumi/sdk resource.SecretSig).
SECRET_SIG = "4dabf18193072939515e22adb298388d"
STACK = "pulumi:pulumi:Stack"
_INSERT_TARGET = re.compile(r"INSERT INTO `((?:[^`]|``)+)`")

# (type, inputs, protect, name) of one planned resource.
Resource = tuple[str, Mapping[str, Any], bool, str]


def check_resource(resource_type: str, props: Mapping[str, Any], protect: bool = False) -> list[str]:
    """Violations of one resource's own rules (`protect`: the resource is protected, i.e. prod)."""
    if resource_type == ROLE_BINDING:
        return _role_binding(props)
    if resource_type == KAFKA_CLUSTER:
        return _kafka_cluster(props, protect)
    if resource_type == CONNECTOR:
        return [
            f"connector config {key} is a credential: put it in config_sensitive, not configNonsensitive"
            for key in (props.get("configNonsensitive") or {})
            if any(word in key.lower() for word in SENSITIVE_KEY)
        ]
    if resource_type in (SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE):
        return _open_ingress(resource_type, props)
    if resource_type == KAFKA_TOPIC:
        config = props.get("config") or {}
        missing = [key for key in ("retention.ms", "cleanup.policy") if key not in config]
        problems = [f"topic {props.get('topicName')} must declare {', '.join(missing)}"] if missing else []
        if int(props.get("partitionsCount", 0)) < 1:
            problems.append(f"topic {props.get('topicName')} must have at least one partition")
        return problems
    if resource_type == COMPUTE_POOL and props.get("maxCfu") not in MAX_CFU_VALUES:
        return [f"maxCfu {props.get('maxCfu')} is not one of {MAX_CFU_VALUES}"]
    return []


def _kafka_cluster(props: Mapping[str, Any], protect: bool) -> list[str]:
    problems = []
    dedicated = props.get("dedicated")
    if dedicated and props.get("availability") == "MULTI_ZONE" and int(dedicated.get("cku", 0)) < 2:
        problems.append("a MULTI_ZONE dedicated cluster needs cku >= 2")
    if protect and not props.get("network"):
        problems.append("a protected (prod) cluster must sit on a private network, not public endpoints")
    return problems


def _open_ingress(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Database and endpoint security groups admit named networks only, never everyone."""
    if resource_type == SECURITY_GROUP:
        rules = list(props.get("ingress") or [])
    elif resource_type == SECURITY_GROUP_RULE and props.get("type") != "ingress":
        rules = []
    else:
        rules = [props]

    def cidrs(rule: Mapping[str, Any]) -> list[Any]:
        return [
            *(rule.get("cidrBlocks") or []),
            *(rule.get("ipv6CidrBlocks") or []),
            rule.get("cidrIpv4"),
            rule.get("cidrIpv6"),
        ]

    opened = {cidr for rule in rules for cidr in cidrs(rule) if cidr in OPEN_CIDRS}
    return [f"ingress open to {cidr}: admit the clients' networks only" for cidr in sorted(opened)]


def _role_binding(props: Mapping[str, Any]) -> list[str]:
    # The role first: in a preview the CRN is often unknown (built from ids not yet created), and the
    # policy engine skips a check at the first unknown value it reads. A forbidden role is refused
    # before the CRN is read.
    role = str(props.get("roleName"))
    if role not in WORKLOAD_ROLES and role not in SCOPED_ROLES:
        return [f"role {role} is not allowed: workloads get Developer* on topics/groups/subjects only"]
    crn = str(props.get("crnPattern"))
    if crn.rsplit("=", 1)[-1] == "*":
        # `topic=*` / `subject=*` name a scope but grant all of it: as wide as the cluster or registry.
        return [f"{role} on every resource of a kind ({crn}): name a resource or a prefix"]
    if role in WORKLOAD_ROLES:
        if not any(scope in crn for scope in WORKLOAD_SCOPES):
            return [f"{role} must be scoped to a topic, group, subject or transactional id, not {crn}"]
        if role == "DeveloperManage" and "/topic=" not in crn:
            return [f"DeveloperManage is for a cluster link's mirrored topics only, not {crn}"]
        return []
    forbidden, required = SCOPED_ROLES[role]
    if forbidden in crn or required not in crn:
        return [f"{role} bound at the wrong scope: {crn}"]
    return []


def check_stack(resources: Iterable[Resource]) -> list[str]:
    """Cross-resource rules: no principal is both a deployer and a workload; one writer per topic (the
    connector on the raw topic, the statement principal on the routed ones); no output holds more than
    one consumer's credentials; in a stack that protects anything (prod), everything of PROTECTED_IN_PROD
    is protected (a stopped statement generation is the exception: the next deployment deletes it; so are
    statements that complete, the raw table's settings and a backfill, which a later one deletes or
    re-submits)."""
    resources = list(resources)
    roles: dict[str, set[str]] = defaultdict(set)
    unprotected: list[str] = []
    any_protected = False
    for resource_type, props, protect, name in resources:
        any_protected |= protect
        if resource_type == ROLE_BINDING:
            roles[str(props.get("principal"))].add(str(props.get("roleName")))
        transient = resource_type == FLINK_STATEMENT and (
            props.get("stopped") is True
            or naming.statement_kind(str(props.get("statementName", ""))) in naming.COMPLETING_STATEMENTS
        )
        if resource_type in PROTECTED_IN_PROD and not protect and not transient:
            unprotected.append(f"{resource_type.rsplit(':', 1)[-1]} {name}")
    problems = [
        f"{principal} holds deployer and workload roles: {', '.join(sorted(held))}"
        for principal, held in roles.items()
        if held & set(WORKLOAD_ROLES) and held & set(DEPLOYER_ROLES)
    ]
    if any_protected:
        problems += [f"{what} is not protected in a protected (prod) stack" for what in unprotected]
    problems += check_writers(resources)
    for resource_type, props, _, _ in resources:
        if resource_type == STACK:  # its properties are the stack's outputs (empty in a preview)
            problems += check_outputs(props)
    return problems


def check_writers(resources: list[Resource]) -> list[str]:
    """One writer per topic. The raw topic is the connector's alone (the API writes PostgreSQL, CDC
    writes Kafka: nothing else may produce change events beside it); a routed topic (an INSERT target
    of a running statement) the statement principal's alone."""
    writers: dict[str, set[str]] = defaultdict(set)
    owner: dict[str, tuple[str, str]] = {}  # topic -> (the principal that may write it, what it is)
    for resource_type, props, _, _ in resources:
        if resource_type == ROLE_BINDING and props.get("roleName") == "DeveloperWrite":
            crn = str(props.get("crnPattern"))
            if "/topic=" in crn:
                writers[crn.rsplit("/topic=", 1)[1]].add(str(props.get("principal")))
        elif resource_type == CONNECTOR:
            config = props.get("configNonsensitive") or {}
            account = f"User:{config.get('kafka.service.account.id')}"
            for key, value in config.items():
                if key.startswith("transforms.") and key.endswith(".replacement"):
                    owner[str(value)] = (account, "the CDC connector")
        elif resource_type == FLINK_STATEMENT and props.get("stopped") is not True:
            principal = f"User:{(props.get('principal') or {}).get('id')}"
            for target in _INSERT_TARGET.findall(str(props.get("statement", ""))):
                owner[target.replace("``", "`")] = (principal, "the Flink statement principal")
    problems = []
    for topic, principals in sorted(writers.items()):
        allowed, what = owner.get(topic, (None, ""))
        others = sorted(principals - {allowed}) if allowed else []
        if others:
            problems.append(f"topic {topic} may be written by {what} only, not {', '.join(others)}")
        elif len(principals) > 1:
            problems.append(f"topic {topic} has {len(principals)} writers ({', '.join(sorted(principals))}): one only")
    return problems


def check_outputs(outputs: Mapping[str, Any]) -> list[str]:
    """No stack output holds more than one consumer's credentials: whoever may read one output would
    read every consumer's keys (each consumer's are delivered to a secret of its own)."""
    return [
        f"output {name} holds the credentials of {count} principals: deliver each consumer's keys on its own"
        for name, value in outputs.items()
        if (count := _credential_sets(value)) > 1
    ]


def _credential_sets(value: Any) -> int:
    if isinstance(value, Mapping):
        if SECRET_SIG in value:
            return _credential_sets(value.get("value"))
        own = 1 if any(key in value for key in CREDENTIAL_SECRETS) else 0
        return own + sum(_credential_sets(v) for v in value.values())
    if isinstance(value, list):
        return sum(_credential_sets(v) for v in value)
    return 0
