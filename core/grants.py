"""What one principal may do, as data: the access policy (stacks/access_policy.py) writes it, the
infra.access components turn it into role bindings. Pure Python, so the policy is read without Pulumi
(`cdcctl routes check --stack` needs the principals' names only)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from core import naming


@dataclass(frozen=True)
class Binding:
    """One role binding a grant becomes on a cluster: `name` (unique per principal and cluster), the role,
    and where: the cluster itself (`kind` None), a resource on it (`topic`, `group`, `transactional-id`)
    or a subject in the environment's registry (`subject`)."""

    name: str
    role: str
    kind: str | None = None
    resource: str = ""


@dataclass(frozen=True)
class Grants:
    """What one principal may do. A topic grant includes the topic's value subject, and its key
    subject for `keyed_topics` (topics whose keys are registry-serialized: the CDC and routed topics)."""

    description: str
    read_topics: tuple[str, ...] = ()
    write_topics: tuple[str, ...] = ()
    keyed_topics: tuple[str, ...] = ()
    owned_subjects: tuple[str, ...] = ()  # deployer only: registers these subjects' schemas (env scope)
    group_prefixes: tuple[str, ...] = ()
    transactional_id_prefixes: tuple[str, ...] = ()
    cluster_admin: bool = False  # deployer principals only: CloudClusterAdmin on one cluster
    flink_developer: bool = False  # environment scope: may submit Flink statements
    may_assign: tuple[str, ...] = ()  # principals whose identity this one may run statements as
    metrics_viewer: bool = False  # environment scope: may read the Metrics API for its resources
    # A writer that registers its topics' value schemas (the connector) holds DeveloperWrite on their
    # subjects; one writing under schemas declared elsewhere only reads them (Flink statements: CC
    # flink/operate-and-deploy/flink-rbac, "DeveloperRead on the Schema Registry subject, to validate").
    registers_schemas: bool = True
    # Written topics whose value subject this principal registers although it otherwise only reads its
    # subjects: the dead-letter topic, whose fixed schema Flink registers when the ALTER TABLE naming it
    # runs (CC flink/how-to-guides/configure-dlq).
    registers_subjects_of: tuple[str, ...] = ()
    # A cluster link's credential on its source cluster (CC multi-cloud/cluster-linking/security-cloud):
    # DeveloperRead + DeveloperManage on the topics it mirrors (no subjects: mirrors copy bytes),
    # DeveloperRead on the groups whose offsets it syncs (group_prefixes), and Operator on the cluster,
    # which bidirectional links require.
    mirrored_topics: tuple[str, ...] = ()
    cluster_operator: bool = False
    # The peer's topics mirrored on this cluster that a consumer may read: the topic only (a mirror's
    # records carry the schema ids of the source subjects, which read_topics already grants).
    read_mirrors: tuple[str, ...] = ()

    @property
    def cluster_scoped(self) -> bool:
        return bool(
            self.read_topics
            or self.write_topics
            or self.group_prefixes
            or self.transactional_id_prefixes
            or self.cluster_admin
            or self.mirrored_topics
            or self.cluster_operator
            or self.read_mirrors
        )

    def cluster_bindings(self) -> Iterator[Binding]:
        """The role bindings these grants hold on one cluster and its topics' subjects (what
        infra.access.ClusterAccess declares and `cdcctl routes diff` lists)."""
        if self.cluster_admin:
            yield Binding("cluster-admin", "CloudClusterAdmin")
        if self.cluster_operator:
            yield Binding("cluster-operator", "Operator")
        for mirror in self.read_mirrors:
            yield Binding(f"read-mirror-{mirror}", "DeveloperRead", "topic", mirror)
        for topic in self.mirrored_topics:
            for verb, role in (("read", "DeveloperRead"), ("manage", "DeveloperManage")):
                yield Binding(f"mirror-{verb}-topic-{topic}", role, "topic", topic)
        for verb, role, topics in (
            ("read", "DeveloperRead", self.read_topics),
            ("write", "DeveloperWrite", self.write_topics),
        ):
            for topic in topics:
                registers = self.registers_schemas or topic in self.registers_subjects_of
                schema_verb, schema_role = (verb, role) if registers else ("read", "DeveloperRead")
                yield Binding(f"{verb}-topic-{topic}", role, "topic", topic)
                for part in ("key", "value") if topic in self.keyed_topics else ("value",):
                    subject = naming.subject(topic, part)
                    yield Binding(f"{schema_verb}-subject-{topic}-{part}", schema_role, "subject", subject)
        for prefix in self.group_prefixes:
            yield Binding(f"read-group-{prefix}", "DeveloperRead", "group", f"{prefix}*")
        for prefix in self.transactional_id_prefixes:
            for verb, role in (("read", "DeveloperRead"), ("write", "DeveloperWrite")):
                yield Binding(f"{verb}-txn-{prefix.strip('_')}", role, "transactional-id", f"{prefix}*")
