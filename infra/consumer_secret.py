"""One consumer's keys delivered where its app reads them, and nowhere else: a Secrets Manager secret
in the stack's region whose resource policy lets only the consumer's IAM roles read it, and, where a
Vault mount is configured, the same document in Vault KV v2 behind a policy and an AWS auth role bound
to those same roles.

Rules relied on:
- A resource policy's `Principal` must name IAM roles that exist when it is put (AWS validates them,
  "MalformedPolicyDocument: invalid principal"): the readers' roles are created before `up`.
- The Deny keeps everyone else out whatever their IAM policies allow (an explicit deny wins), except
  the deployer's own role: the provider reads the value back (`GetSecretValue`) on refresh
  (aws_secretsmanager_secret_version Read), and the value is in its state anyway.
- `block_public_policy`: Secrets Manager refuses a policy that would open the secret broadly
  (pulumi_aws secretsmanager.SecretPolicy docstring).
- A customer managed KMS key (`kms_key_id`) must also let the readers `kms:Decrypt` (its key policy,
  not managed here); without one, the account's `aws/secretsmanager` key serves same-account readers.
- Vault KV v2: the secret's data lives under `<mount>/data/<name>`, which is what a policy grants
  (Vault docs, KV v2 "ACL rules"); the AWS auth method's `iam` roles admit callers by
  `bound_iam_principal_arns` (pulumi_vault aws.AuthBackendRole docstring).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_vault as vault

from core.naming import COMPONENT
from core.region_exports import ConsumerSecretExport, DeliveredCredentials
from settings.model import ConsumerDelivery, VaultSettings


@dataclass
class ConsumerSecretArgs:
    secret_name: str  # core.naming.consumer_secret_name: also the Vault KV path under the mount
    delivery: ConsumerDelivery
    document: DeliveredCredentials[pulumi.Input[Any]]  # secrets stay Pulumi secrets
    region: str
    kms_key_id: str | None
    vault: VaultSettings | None
    deployer_role_arn: pulumi.Input[str]  # the role `pulumi up` runs as: exempt from the Deny
    protect: bool


class ConsumerSecret(pulumi.ComponentResource):
    """Secret -> its value (the current key generation) -> who may read it; the Vault copy alike."""

    def __init__(self, name: str, args: ConsumerSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:ConsumerSecret", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        document: pulumi.Output[str] = pulumi.Output.secret(pulumi.Output.json_dumps(args.document.to_export()))
        self.secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            name=args.secret_name,
            description="Kafka and Schema Registry keys of one consumer app (cdc-platform)",
            kms_key_id=args.kms_key_id,
            # 0 = delete at once (allowed: 0 or 7-30 days): an unprotected stack can be re-created at once.
            recovery_window_in_days=None if args.protect else 0,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        # A new key generation is a new version of the same secret (AWSCURRENT moves to it): readers
        # keep their name and pick the new keys up on their next read.
        aws.secretsmanager.SecretVersion(f"{name}-value", secret_id=self.secret.id, secret_string=document, opts=child)
        readers = list(args.delivery.readers)
        if readers:
            aws.secretsmanager.SecretPolicy(
                f"{name}-policy",
                secret_arn=self.secret.arn,
                policy=pulumi.Output.from_input(args.deployer_role_arn).apply(lambda d: reader_policy(readers, d)),
                block_public_policy=True,
                opts=child,
            )
        self.vault_path = self._vault(name, args, args.vault, document) if args.vault else None
        self.exported = ConsumerSecretExport[Any](
            args.secret_name, self.secret.arn, args.region, args.document.key_generation, self.vault_path
        ).to_export()
        self.register_outputs({"arn": self.secret.arn})

    def _vault(self, name: str, args: ConsumerSecretArgs, settings: VaultSettings, document: pulumi.Output[str]) -> str:
        """The same document in Vault KV v2, a policy reading only it, and the readers' AWS auth role."""
        child = pulumi.ResourceOptions(parent=self)
        vault.kv.SecretV2(f"{name}-vault", mount=settings.mount, name=args.secret_name, data_json=document, opts=child)
        policy = vault.Policy(
            f"{name}-vault-policy",
            name=args.secret_name.replace("/", "-"),
            policy=vault_read_policy(settings.mount, args.secret_name),
            opts=child,
        )
        if args.delivery.readers:
            vault.aws.AuthBackendRole(
                f"{name}-vault-role",
                backend=settings.aws_auth_mount,
                role=args.secret_name.replace("/", "-"),
                auth_type="iam",
                bound_iam_principal_arns=list(args.delivery.readers),
                token_policies=[policy.name],
                opts=child,
            )
        return f"{settings.mount}/{args.secret_name}"


def reader_policy(readers: Sequence[str], deployer_role_arn: str) -> str:
    """Only the consumer's roles read the value; an explicit Deny keeps every other principal out (but
    the deployer's role, which writes it). `Resource: *` in a resource policy means this secret."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ConsumerReads",
                    "Effect": "Allow",
                    "Principal": {"AWS": list(readers)},
                    "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    "Resource": "*",
                },
                {
                    "Sid": "NobodyElseReads",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [*readers, deployer_role_arn]}},
                },
            ],
        },
        sort_keys=True,
    )


def vault_read_policy(mount: str, secret_name: str) -> str:
    """Read on the one KV v2 secret (its data and metadata paths), nothing else."""
    return (
        f'path "{mount}/data/{secret_name}" {{\n  capabilities = ["read"]\n}}\n'
        f'path "{mount}/metadata/{secret_name}" {{\n  capabilities = ["read"]\n}}\n'
    )
