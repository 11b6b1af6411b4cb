"""A real OpenID provider for the sign-in tests: npm's ``oidc-provider`` run by Node on loopback
(``tests/idp/node``, installed by ``make node-test-deps``), and a loyaute web app served by
uvicorn to sign in to.

``Provider`` writes the test configuration (clients, users with their groups, RSA signing keys)
and starts ``node provider.mjs``; ``Served`` runs a workspace's app on a free port; ``walk``
follows a sign-in through the provider's login page over plain HTTP and stops at loyaute's
callback, so that a test can present it as it is, late, twice or altered.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import uvicorn
from joserfc.jwk import RSAKey

from loyaute.web.app import create_app

NODE_DIR = Path(__file__).resolve().parent / "node"
NODE = shutil.which("node")
CLIENT_ID = "loyaute"
CLIENT_SECRET = "secret-du-client-loyaute-pour-les-tests"
PASSWORD = "any"  # the development login page of oidc-provider takes any password


def free_port() -> int:
    """A free TCP port on the loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def available() -> bool:
    """Node and the installed oidc-provider package are there."""
    return NODE is not None and (NODE_DIR / "node_modules" / "oidc-provider").is_dir()


@dataclass
class ShiftedClock:
    """The real time, moved by ``offset``: ID tokens carry real times, and a test can still
    arrive late."""

    offset: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def signing_key(kid: str) -> dict[str, Any]:
    """A fresh RSA signing key as a private JWK."""
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})
    return dict(key.as_dict(private=True))


class Provider:
    """``node provider.mjs`` with a written configuration; ``issuer`` is its address (on
    ``localhost``, another site than loyaute's 127.0.0.1, as in a real deployment)."""

    def __init__(
        self,
        folder: Path,
        app_base: str,
        users: dict[str, dict[str, Any]],
        *,
        keys: list[dict[str, Any]] | None = None,
        port: int | None = None,
        id_token_ttl: int = 300,
        misaddressed: str = "",
    ) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.issuer = f"http://localhost:{self.port}"
        config: dict[str, Any] = {
            "issuer": self.issuer,
            "port": self.port,
            "idTokenTtl": id_token_ttl,
            "keys": keys or [signing_key("k1")],
            "users": users,
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [app_base + "/auth/oidc/callback"],
                    "post_logout_redirect_uris": [app_base + "/login"],
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                    "token_endpoint_auth_method": "client_secret_basic",
                },
                {
                    "client_id": "intranet",
                    "client_secret": "secret-intranet-pour-les-tests",
                    "redirect_uris": ["http://127.0.0.1:9/cb"],
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                },
            ],
        }
        if misaddressed:
            config["misaddressed"] = {"sub": misaddressed, "client": "intranet"}
        path = folder / f"provider-{self.port}.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        self.log = (folder / f"provider-{self.port}.log").open("wb")
        assert NODE is not None
        self.process = subprocess.Popen(
            [NODE, str(NODE_DIR / "provider.mjs"), str(path)],
            cwd=NODE_DIR,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != b"ready":
            self.stop()
            raise RuntimeError(
                "oidc-provider did not start: "
                + (folder / f"provider-{self.port}.log").read_text(errors="replace")
            )

    def stop(self) -> None:
        """Stop the provider (its own process, started here)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


class Served:
    """A workspace's web app on a free loopback port (uvicorn in a thread)."""

    def __init__(self, home: Path, clock: ShiftedClock, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.app = create_app(home, clock=clock, secure_cookies=False)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            access_log=False,
            log_level="warning",
            ws="none",
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive(), "uvicorn stopped"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def walk(client: httpx.Client, app_base: str, login: str) -> str:
    """Begin a sign-in at loyaute, sign in at the provider as ``login``, and return the callback
    URL the provider sends the browser to (not followed)."""
    response = client.get(app_base + "/auth/oidc/start")
    for _ in range(12):
        if response.status_code in (302, 303):
            target = urljoin(str(response.url), response.headers["location"])
            if target.startswith(app_base + "/auth/oidc/callback"):
                return target
            response = client.get(target)
            continue
        if response.status_code == 200 and 'name="login"' in response.text:
            match = FORM_ACTION.search(response.text)
            assert match, response.text
            response = client.post(
                urljoin(str(response.url), match.group(1)),
                data={"prompt": "login", "login": login, "password": PASSWORD},
            )
            continue
        raise AssertionError(f"unexpected answer {response.status_code}: {response.text[:500]}")
    raise AssertionError("the sign-in did not come back to loyaute")
