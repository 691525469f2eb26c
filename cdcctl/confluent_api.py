"""The one way a cdcctl command talks to Confluent's APIs with a credential (`status` today; the link
commands next): only to the stack's own Confluent endpoints, over https, never following a redirect,
within one deadline for the whole command, every failure one line.

Which hosts are Confluent's (host names as the provider documents them; every one under confluent.cloud):
- Cloud API and Connect API: `api.confluent.cloud` (docs.confluent.io/cloud/current/api.html).
- Public regional endpoints: `pkc-00000.us-central1.gcp.confluent.cloud:443` (Kafka REST),
  `psrc-00000.us-west-2.aws.confluent.cloud` (Schema Registry), `flink.us-east-1.aws.confluent.cloud`
  (pulumi_confluentcloud kafka_cluster.py, get_schema_registry_cluster.py, get_flink_region.py docstrings).
- A Confluent network's PrivateLink DNS domain: `flink.pr1jy6.us-east-2.aws.confluent.cloud`,
  `lsrc-abc123.pr1jy6.us-east-2.aws.confluent.cloud` (flink_statement.py, network.py: "https://flink" +
  endpoint_suffix), and `lkc-abc123-pr1jy6.us-east-2...` for a dedicated cluster's public endpoint.
- PrivateLink attachment / gateway forms: `flink.us-east-1.aws.private.confluent.cloud`,
  `lsrc.us-west-2.aws.private.confluent.cloud` (get_flink_region.py, get_schema_registry_cluster.py
  `private_rest_endpoint`), access points `lkc-abc123-apfoo123.eu-west-3.aws.accesspoint.glb.confluent.cloud`
  (outputs.py), global names `*.{region}.{cloud}.glb.confluent.cloud` (kafka_cluster.py).
So a regional endpoint is one or two labels, the stack's region, `aws`, an optional `private`, `glb` or
`accesspoint.glb`, then `confluent.cloud`; nothing else ever receives a stack's key.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import signal
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from core.config_node import ConfigError
from core.input_file import parse_json

CLOUD_API_HOST = "api.confluent.cloud"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A response larger than this is not an answer of these APIs (a status is a few KiB).
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
REQUEST_TIMEOUT_S = 20.0


def confluent_host(host: str, region: str) -> bool:
    """True for a host the module docstring lists: the Cloud API, or an endpoint in `region` on AWS."""
    if host == CLOUD_API_HOST:
        return True
    regional = (
        rf"(?:{_LABEL}\.){{1,2}}{re.escape(region)}\.aws\.(?:private\.|glb\.|accesspoint\.glb\.)?confluent\.cloud"
    )
    return re.fullmatch(regional, host) is not None


def https_endpoint(value: Any, source: str, key: str, region: str) -> str:
    """An exported https endpoint of the stack (`https://host[:port]`, no path, user or query), on a
    Confluent host of `region`; anything else is refused naming the file and key, never echoed raw."""
    if isinstance(value, str) and not _CONTROL.search(value):
        parts = urlsplit(value)
        if (
            parts.scheme == "https"
            and value == f"https://{parts.netloc}"
            and parts.hostname is not None
            and "@" not in parts.netloc
            and re.fullmatch(r"[^:]+(:443)?", parts.netloc)
            and confluent_host(parts.hostname, region)
        ):
            return value
    raise ConfigError(source, key, f"{shown(value)} is not an https:// endpoint of Confluent Cloud in {region}")


def kafka_bootstrap(value: Any, source: str, key: str, region: str) -> str:
    """An exported bootstrap endpoint (`SASL_SSL://host:9092` or `host:9092`) as `host:port`."""
    if isinstance(value, str) and not _CONTROL.search(value):
        match = re.fullmatch(r"(?:SASL_SSL://)?([a-z0-9.-]+):(9092)", value)
        if match and confluent_host(match.group(1), region):
            return f"{match.group(1)}:{match.group(2)}"
    raise ConfigError(source, key, f"{shown(value)} is not a Kafka bootstrap endpoint of Confluent Cloud in {region}")


def shown(value: Any) -> str:
    """A value from a file, fit for one line of an error: control characters escaped, at most 60 chars."""
    return repr(str(value)[:60]) if isinstance(value, str) else type(value).__name__


@dataclass(frozen=True)
class Credentials:
    key: str
    secret: str


class DeadlinePassed(Exception):
    """The command's overall deadline passed during a request."""


class ConfluentApi:
    """Authenticated requests to the stack's Confluent endpoints: (HTTP status, parsed JSON or None);
    status 0 with {"message": ...} when there is no usable answer (refused, unreachable, timed out, a
    broken HTTP or TLS exchange, a redirect). The deadline covers every request of the command together.

    `allowed_host` and `tls` are the test seam: tests stand up local TLS servers and name which of them
    counts as Confluent's; production uses `confluent_host` and the system's CAs."""

    def __init__(
        self,
        region: str,
        deadline_s: float,
        *,
        allowed_host: Callable[[str, str], bool] = confluent_host,
        tls: ssl.SSLContext | None = None,
        request_timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self.region = region
        self.deadline_s = deadline_s
        self._ends = time.monotonic() + deadline_s
        self._allowed = allowed_host
        self._tls = tls or ssl.create_default_context()
        self._request_timeout = request_timeout_s

    def get(self, url: str, credentials: Credentials) -> tuple[int, Any]:
        return self.request("GET", url, credentials)

    def put(self, url: str, credentials: Credentials) -> tuple[int, Any]:
        return self.request("PUT", url, credentials)

    def request(self, method: str, url: str, credentials: Credentials, body: Any = None) -> tuple[int, Any]:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "https" or parts.username or parts.password or not self._allowed(host, self.region):
            # Checked before any connection: the credential never leaves for a host that is not the stack's.
            raise ConfigError(
                shown(f"{parts.scheme}://{parts.netloc}"), "endpoint", "refused: not an https endpoint of the stack"
            )
        remaining = self._ends - time.monotonic()
        if remaining <= 0:
            return 0, {"message": f"not asked: the command's deadline of {self.deadline_s:g} s has passed"}
        token = base64.b64encode(f"{credentials.key}:{credentials.secret}".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection = http.client.HTTPSConnection(
            host, parts.port or 443, timeout=min(self._request_timeout, remaining), context=self._tls
        )
        try:
            with _alarm(remaining):
                connection.request(method, path or "/", body=payload, headers=headers)
                response = connection.getresponse()
                if 300 <= response.status < 400:
                    where = urlsplit(response.getheader("Location") or "").netloc or "elsewhere"
                    return 0, {"message": f"redirected (HTTP {response.status}) to {shown(where)}: not followed"}
                data = response.read(MAX_RESPONSE_BYTES + 1)
            if len(data) > MAX_RESPONSE_BYTES:
                return 0, {"message": f"an answer larger than {MAX_RESPONSE_BYTES // 2**20} MiB"}
            return response.status, _json(data)
        except DeadlinePassed:
            return 0, {"message": f"no answer within the command's deadline of {self.deadline_s:g} s"}
        except TimeoutError:
            return 0, {"message": f"no answer within {min(self._request_timeout, remaining):.0f} s"}
        except ssl.SSLError as error:
            return 0, {"message": f"TLS failed: {error.reason or error.__class__.__name__}"}
        except http.client.HTTPException as error:
            return 0, {"message": f"a broken HTTP answer ({error.__class__.__name__})"}
        except (OSError, ValueError, UnicodeError) as error:
            return 0, {"message": str(getattr(error, "strerror", None) or error.__class__.__name__)}
        finally:
            connection.close()


def _json(body: bytes) -> Any:
    try:
        return parse_json(body.decode("utf-8"), "response", "")
    except (ConfigError, UnicodeDecodeError):
        return None


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """A hard wall clock over one request: socket timeouts alone never end a server that trickles a
    byte at a time. SIGALRM works in the main thread only; elsewhere the socket timeouts remain."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise DeadlinePassed

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
