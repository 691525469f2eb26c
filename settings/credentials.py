"""The `credentials` section: where each consumer's keys are delivered and who may read them, and the
key generations that rotate the consumers', the link's and the metrics principal's keys."""

from __future__ import annotations

from core.config_node import Node, kind
from settings.model import ConsumerDelivery, CredentialSettings, VaultSettings

# An IAM role (EKS pods read with IRSA or Pod Identity roles): what a resource policy's Principal and
# Vault's AWS auth `bound_iam_principal_arns` accept.
IAM_ROLE_ARN = r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]{1,512}"
# A Vault mount path: segments of [A-Za-z0-9_-], no leading/trailing slash, no `..`.
VAULT_PATH = r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*"


def parse_credentials(node: Node, region: str) -> CredentialSettings:
    f = node.fields(optional=["consumers", "kmsKeyId", "vault", "linkKeyGeneration", "metricsKeyGeneration"])
    consumers = f["consumers"]
    if consumers.present and not isinstance(consumers.value, dict):
        consumers.fail(f"must be a mapping of consumer name to {{readers, keyGeneration}}, not {kind(consumers.value)}")
    # Which names are route consumers is checked against the routes (stacks/routes_fit.py).
    entries = consumers.fields(optional=[str(k) for k in consumers.value]) if consumers.present else {}
    return CredentialSettings(
        consumers={name: _consumer(entry) for name, entry in entries.items()},
        kms_key_id=_kms_key(f["kmsKeyId"], region),
        vault=_vault(f["vault"]) if f["vault"].present else None,
        link_key_generation=f["linkKeyGeneration"].integer(minimum=1, default=1),
        metrics_key_generation=f["metricsKeyGeneration"].integer(minimum=1, default=1),
    )


def _consumer(node: Node) -> ConsumerDelivery:
    f = node.fields(optional=["readers", "keyGeneration"])
    readers = (
        tuple(
            r.string(IAM_ROLE_ARN, "an IAM role ARN, arn:aws:iam::<account>:role/<name>") for r in f["readers"].items(1)
        )
        if f["readers"].present
        else ()
    )
    if len(set(readers)) != len(readers):
        f["readers"].fail("lists a role twice")
    return ConsumerDelivery(readers=readers, key_generation=f["keyGeneration"].integer(minimum=1, default=1))


def _kms_key(node: Node, region: str) -> str | None:
    """A customer managed key of the stack's region (a secret is encrypted in its own region)."""
    if not node.present:
        return None
    return node.string(
        rf"arn:aws:kms:{region}:\d{{12}}:(key/[0-9a-f-]{{36}}|alias/[A-Za-z0-9/_-]+)",
        f"a KMS key or alias ARN in {region} (arn:aws:kms:{region}:<account>:key/<id>)",
    )


def _vault(node: Node) -> VaultSettings:
    f = node.fields(required=["mount"], optional=["awsAuthMount"])
    return VaultSettings(
        mount=f["mount"].string(VAULT_PATH, "a Vault mount path such as kv or teams/kv, no leading or trailing /"),
        aws_auth_mount=f["awsAuthMount"].string(VAULT_PATH, "a Vault auth mount path such as aws", default="aws"),
    )
