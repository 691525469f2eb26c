"""The rehearsal's throw-away PostgreSQL is not open to other local users (real PostgreSQL 15)."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from rehearsal.postgres import SUPERUSER, local_postgres

pytestmark = pytest.mark.engine


def test_socket_directory_is_private_and_every_login_needs_the_password() -> None:
    with local_postgres("postgres") as pg:
        assert stat.S_IMODE(pg.socket_dir.stat().st_mode) == 0o700
        assert not (pg.socket_dir / "superuser-password").exists()
        assert pg.scalar("SELECT 1") == "1"
        psql = [str(pg.bin_dir / "psql"), "-X", "-w", "-h", str(pg.socket_dir), "-p", str(pg.port), "-U", SUPERUSER]
        env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
        refused = subprocess.run([*psql, "-c", "SELECT 1"], capture_output=True, text=True, env=env, check=False)
        assert refused.returncode != 0
        assert "password" in refused.stderr
        wrong = subprocess.run(
            [*psql, "-c", "SELECT 1"], capture_output=True, text=True, env={**env, "PGPASSWORD": "guess"}, check=False
        )
        assert "password authentication failed" in wrong.stderr
