"""What every local server of the rehearsal needs: a free loopback port and a self-signed TLS identity."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from rehearsal.errors import EngineError

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def self_signed_certificate(key: Path, certificate: Path, as_user: Sequence[str] = ()) -> None:
    """An RSA key (PKCS#8 PEM, unencrypted) and a one-day self-signed certificate for the names a client
    dials, so it is also the CA a verifying client trusts (sslmode verify-full, Kafka's https check)."""
    command = [
        *as_user,
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        f"subjectAltName=DNS:localhost,IP:{LOOPBACK}",
        "-keyout",
        str(key),
        "-out",
        str(certificate),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise EngineError(f"openssl failed: {(result.stderr or result.stdout).strip()[-2000:]}")
