"""Keycloak and Ory Hydra on 127.0.0.1: started from the builds of mk/interop.mk, configured over
their admin APIs the way their documentation tells an MCP operator to, and driven over plain HTTP
(token requests, a login without a browser, key rotation)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import secrets
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Sequence
from urllib.parse import parse_qs, urlparse

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from harness import ROOT, Cast, Process, free_port  # noqa: E402

CACHE = Path(os.environ.get("MCP_AUTH_INTEROP_CACHE", ROOT / "target" / "interop"))
KEYCLOAK_HOME = CACHE / "keycloak-26.4.7"
HYDRA_BIN = CACHE / "hydra-v2.3.0"
# A first start of the Keycloak distribution re-augments it for the dev profile (once per
# unpacked copy); on two busy cores that and the database schema take up to two minutes.
KEYCLOAK_STARTUP_SECONDS = 300
HYDRA_STARTUP_SECONDS = 60
HTTP_TIMEOUT = 30

# The MCP server's resource identifier (RFC 9728 `resource`, RFC 8707 audience) and another
# MCP server's, whose tokens the first must refuse.
RESOURCE = "https://mcp.interop.test/mcp"
FOREIGN_RESOURCE = "https://other-mcp.interop.test/mcp"
REDIRECT_URI = "http://127.0.0.1:9/callback"  # never fetched: the code is read from the Location


def claims_of(jwt: str) -> Dict[str, Any]:
    part = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def header_of(jwt: str) -> Dict[str, Any]:
    part = jwt.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(url: str) -> Dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def wait_until_up(process: Process, url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited ({process.popen.returncode}):\n{process.output()[-4000:]}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{process.name} did not answer {url} within {seconds} s:\n{process.output()[-4000:]}")


def ok(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        raise AssertionError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    return response


@dataclass
class Tokens:
    access_token: str
    refresh_token: Optional[str] = None
    id_token: Optional[str] = None
    token_type: str = "Bearer"


class Keycloak:
    """Keycloak 26 in dev mode with realm `mcp`: client scopes `notes:read`/`notes:write`, an
    audience mapper that puts the resource identifier into `aud` (Keycloak has no RFC 8707
    `resource` parameter), a public PKCE client, confidential clients for client credentials and
    for the MCP server's introspection, and user alice."""

    REALM = "mcp"
    ADMIN = ("admin", "interop-admin-password")
    USER = ("alice", "alice-password")
    SERVICE = ("mcp-service", "mcp-service-secret")  # client credentials, audience mapper
    FOREIGN_SERVICE = ("other-service", "other-service-secret")  # audience: the other MCP server
    PLAIN_SERVICE = ("plain-service", "plain-service-secret")  # no audience mapper
    RFC9068_SERVICE = ("rfc9068-service", "rfc9068-service-secret")  # header typ at+jwt
    DPOP_SERVICE = ("dpop-service", "dpop-service-secret")  # DPoP-bound access tokens only
    INTROSPECTOR = ("mcp-server", "mcp-server-secret")  # the MCP server's own credentials
    PUBLIC_CLIENT = "mcp-client"

    def __init__(self, cast: Cast, running: Optional[str] = None) -> None:
        """Starts Keycloak, or with `running` (its base URL, from MCP_AUTH_INTEROP_KEYCLOAK) uses
        one already started by `python servers.py keycloak`, whose realm `mcp` is made anew."""
        if running:
            self.base = running.rstrip("/")
            self.port = int(urlparse(self.base).port or 80)
            self.issuer = f"{self.base}/realms/{self.REALM}"
            self.admin = httpx.Client(base_url=f"{self.base}/admin/realms", timeout=HTTP_TIMEOUT)
            self._admin_login()
            if self.admin.get(f"/{self.REALM}").status_code == 200:
                ok(self.admin.delete(f"/{self.REALM}"))
            self._configure()
            return
        if not (KEYCLOAK_HOME / "bin" / "kc.sh").exists():
            raise RuntimeError(f"no Keycloak at {KEYCLOAK_HOME}: run `make interop-deps`")
        # A fresh database every run: state left by an earlier run cannot leak into this one.
        shutil.rmtree(KEYCLOAK_HOME / "data", ignore_errors=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.base}/realms/{self.REALM}"
        self.process = cast._spawn(
            "keycloak",
            [
                str(KEYCLOAK_HOME / "bin" / "kc.sh"),
                "start-dev",
                "--http-host=127.0.0.1",
                f"--http-port={self.port}",
                f"--http-management-port={free_port()}",
            ],
            env={
                "KC_BOOTSTRAP_ADMIN_USERNAME": self.ADMIN[0],
                "KC_BOOTSTRAP_ADMIN_PASSWORD": self.ADMIN[1],
                # A test server lives for minutes: the client compiler alone starts it faster.
                "JAVA_OPTS_APPEND": "-XX:TieredStopAtLevel=1",
            },
            group=True,
        )
        wait_until_up(self.process, f"{self.base}/realms/master", KEYCLOAK_STARTUP_SECONDS)
        self.admin = httpx.Client(base_url=f"{self.base}/admin/realms", timeout=HTTP_TIMEOUT)
        self._admin_login()
        self._configure()

    def _admin_login(self) -> None:
        answer = ok(
            httpx.post(
                f"{self.base}/realms/master/protocol/openid-connect/token",
                data={
                    "grant_type": "password",
                    "client_id": "admin-cli",
                    "username": self.ADMIN[0],
                    "password": self.ADMIN[1],
                },
                timeout=HTTP_TIMEOUT,
            )
        ).json()
        self.admin.headers["authorization"] = f"Bearer {answer['access_token']}"

    def _configure(self) -> None:
        realm = self.REALM
        ok(self.admin.post("", json={"realm": realm, "enabled": True}))
        # create:todos is the scope the Kotlin sample's add-todo tool needs.
        for scope in ("notes:read", "notes:write", "create:todos"):
            ok(
                self.admin.post(
                    f"/{realm}/client-scopes",
                    json={
                        "name": scope,
                        "protocol": "openid-connect",
                        "attributes": {"include.in.token.scope": "true", "display.on.consent.screen": "false"},
                    },
                )
            )
        for name, audience in (("mcp-audience", RESOURCE), ("other-audience", FOREIGN_RESOURCE)):
            ok(
                self.admin.post(
                    f"/{realm}/client-scopes",
                    json={
                        "name": name,
                        "protocol": "openid-connect",
                        "attributes": {"include.in.token.scope": "false"},
                        "protocolMappers": [
                            {
                                "name": name,
                                "protocol": "openid-connect",
                                "protocolMapper": "oidc-audience-mapper",
                                "config": {
                                    "included.custom.audience": audience,
                                    "access.token.claim": "true",
                                    "introspection.token.claim": "true",
                                    "id.token.claim": "false",
                                },
                            }
                        ],
                    },
                )
            )
        scope_ids = {s["name"]: s["id"] for s in ok(self.admin.get(f"/{realm}/client-scopes")).json()}

        def client(
            body: Dict[str, Any], default_scopes: Sequence[str] = (), optional_scopes: Sequence[str] = ()
        ) -> None:
            created = ok(self.admin.post(f"/{realm}/clients", json=body))
            cid = created.headers["location"].rsplit("/", 1)[1]
            for s in default_scopes:
                ok(self.admin.put(f"/{realm}/clients/{cid}/default-client-scopes/{scope_ids[s]}"))
            for s in optional_scopes:
                ok(self.admin.put(f"/{realm}/clients/{cid}/optional-client-scopes/{scope_ids[s]}"))

        scopes = ["notes:read", "notes:write", "create:todos"]
        client(
            {
                "clientId": self.PUBLIC_CLIENT,
                "publicClient": True,
                "standardFlowEnabled": True,
                "directAccessGrantsEnabled": False,
                "redirectUris": [REDIRECT_URI],
                "attributes": {"pkce.code.challenge.method": "S256"},
            },
            ["mcp-audience"],
            scopes,
        )

        def service(credentials: tuple[str, str], audience: Optional[str], **attributes: str) -> None:
            client(
                {
                    "clientId": credentials[0],
                    "secret": credentials[1],
                    "publicClient": False,
                    "serviceAccountsEnabled": True,
                    "standardFlowEnabled": False,
                    "attributes": attributes,
                },
                [audience] if audience else [],
                scopes,
            )

        service(self.SERVICE, "mcp-audience")
        service(self.FOREIGN_SERVICE, "other-audience")
        service(self.PLAIN_SERVICE, None)
        # RFC 9068 header type, so that `require_at_jwt` tells access tokens from ID tokens.
        service(self.RFC9068_SERVICE, "mcp-audience", **{"access.token.header.type.rfc9068": "true"})
        # "Require DPoP bound tokens" (RFC 9449): a token request without a proof is refused.
        # Keycloak binds any client's token to a proof it is sent; this makes the proof mandatory.
        service(self.DPOP_SERVICE, "mcp-audience", **{"dpop.bound.access.tokens": "true"})
        client(
            {
                "clientId": self.INTROSPECTOR[0],
                "secret": self.INTROSPECTOR[1],
                "publicClient": False,
                "serviceAccountsEnabled": False,
                "standardFlowEnabled": False,
            }
        )
        ok(
            self.admin.post(
                f"/{realm}/users",
                json={
                    "username": self.USER[0],
                    "enabled": True,
                    "email": "alice@example.com",
                    "emailVerified": True,
                    "firstName": "Alice",
                    "lastName": "Liddell",
                    "credentials": [{"type": "password", "value": self.USER[1], "temporary": False}],
                },
            )
        )

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    @property
    def introspection_endpoint(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token/introspect"

    def client_credentials(
        self, credentials: tuple[str, str], scope: str = "notes:read", dpop_proof: Optional[str] = None
    ) -> Tokens:
        """With `dpop_proof` (a proof for POST at the token endpoint) the token is bound to its key."""
        answer = ok(self.token_request(credentials, scope, dpop_proof)).json()
        return Tokens(answer["access_token"], token_type=answer["token_type"])

    def token_request(
        self, credentials: tuple[str, str], scope: str = "notes:read", dpop_proof: Optional[str] = None
    ) -> httpx.Response:
        return httpx.post(
            self.token_endpoint,
            auth=credentials,
            timeout=HTTP_TIMEOUT,
            data={"grant_type": "client_credentials", "scope": scope},
            headers={"dpop": dpop_proof} if dpop_proof else {},
        )

    def login(self, scope: str = "openid notes:read", dpop_proof: Optional[str] = None) -> Tokens:
        """Authorization code + PKCE for alice: the login form is filled over HTTP. With
        `dpop_proof` (for POST at the token endpoint) the tokens are bound to its key."""
        verifier, challenge = pkce()
        form = ok(
            httpx.get(
                f"{self.issuer}/protocol/openid-connect/auth",
                timeout=HTTP_TIMEOUT,
                params={
                    "client_id": self.PUBLIC_CLIENT,
                    "response_type": "code",
                    "redirect_uri": REDIRECT_URI,
                    "scope": scope,
                    "state": secrets.token_urlsafe(12),
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                },
            )
        )
        action = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', form.text)
        assert action, form.text[:2000]
        # Keycloak marks its cookies Secure, which an HTTP client keeps off http:// (browsers make
        # an exception for localhost): they go back by hand.
        cookies = "; ".join(c.split(";", 1)[0] for c in form.headers.get_list("set-cookie"))
        done = httpx.post(
            html.unescape(action.group(1)),
            headers={"cookie": cookies},
            timeout=HTTP_TIMEOUT,
            data={"username": self.USER[0], "password": self.USER[1], "credentialId": ""},
        )
        assert done.status_code == 302, done.text[:2000]
        code = query_of(done.headers["location"])["code"]
        answer = ok(
            httpx.post(
                self.token_endpoint,
                timeout=HTTP_TIMEOUT,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "client_id": self.PUBLIC_CLIENT,
                    "code_verifier": verifier,
                },
                headers={"dpop": dpop_proof} if dpop_proof else {},
            )
        ).json()
        return Tokens(answer["access_token"], answer["refresh_token"], answer["id_token"], answer["token_type"])

    def user_id(self) -> str:
        return str(ok(self.admin.get(f"/{self.REALM}/users", params={"username": self.USER[0]})).json()[0]["id"])

    def service_account_id(self, client_id: str) -> str:
        clients = ok(self.admin.get(f"/{self.REALM}/clients", params={"clientId": client_id})).json()
        user = ok(self.admin.get(f"/{self.REALM}/clients/{clients[0]['id']}/service-account-user")).json()
        return str(user["id"])

    def rotate_key(self) -> None:
        """A new RSA key of higher priority: new tokens are signed with it, the old one keeps
        verifying (it stays published)."""
        self._admin_login()  # the admin token lives 60 s
        realm_id = ok(self.admin.get(f"/{self.REALM}")).json()["id"]
        priority = (
            100
            + len(
                ok(self.admin.get(f"/{self.REALM}/components", params={"type": "org.keycloak.keys.KeyProvider"})).json()
            )
            * 100
        )
        ok(
            self.admin.post(
                f"/{self.REALM}/components",
                json={
                    "name": f"rsa-rotated-{priority}",
                    "providerId": "rsa-generated",
                    "providerType": "org.keycloak.keys.KeyProvider",
                    "parentId": realm_id,
                    "config": {"priority": [str(priority)], "algorithm": ["RS256"]},
                },
            )
        )


class Hydra:
    """Ory Hydra 2.3 (`hydra serve all --dev`, in-memory database), opaque access tokens by
    default, dynamic client registration on. The test is the login and consent app: it accepts
    the challenges on the admin API."""

    SERVICE = ("mcp-service", "mcp-service-secret-0123456789")  # client credentials, JWT tokens
    OPAQUE_SERVICE = ("opaque-service", "opaque-service-secret-0123456789")  # Hydra's default: opaque
    PUBLIC_CLIENT = "mcp-client"
    SUBJECT = "alice"

    def __init__(self, cast: Cast) -> None:
        if not HYDRA_BIN.exists():
            raise RuntimeError(f"no Hydra at {HYDRA_BIN}: run `make interop-deps`")
        self.port, admin_port = free_port(), free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.admin_url = f"http://127.0.0.1:{admin_port}"
        config = cast.logs / "hydra.json"
        config.write_text(
            json.dumps(
                {
                    "dsn": "memory",
                    "serve": {
                        "public": {"host": "127.0.0.1", "port": self.port},
                        "admin": {"host": "127.0.0.1", "port": admin_port},
                    },
                    "urls": {
                        "self": {"issuer": self.issuer},
                        "login": "http://127.0.0.1:9/login",
                        "consent": "http://127.0.0.1:9/consent",
                    },
                    "secrets": {"system": [secrets.token_hex(32)]},
                    "strategies": {"access_token": "opaque"},
                    # Registration for MCP clients (RFC 7591); Hydra advertises it only with the URL set.
                    "oidc": {"dynamic_client_registration": {"enabled": True}},
                    "webfinger": {"oidc_discovery": {"client_registration_url": f"{self.issuer}/oauth2/register"}},
                    "oauth2": {"pkce": {"enforced_for_public_clients": True}},
                    "log": {"level": "warn"},
                }
            )
        )
        self.process = cast._spawn("hydra", [str(HYDRA_BIN), "serve", "all", "--dev", "--config", str(config)])
        wait_until_up(self.process, f"{self.issuer}/.well-known/openid-configuration", HYDRA_STARTUP_SECONDS)
        wait_until_up(self.process, f"{self.admin_url}/health/ready", HYDRA_STARTUP_SECONDS)
        self.admin = httpx.Client(base_url=f"{self.admin_url}/admin", timeout=HTTP_TIMEOUT)
        audience = [RESOURCE, FOREIGN_RESOURCE]
        scope = "openid offline_access notes:read notes:write create:todos"
        # Hydra has no RFC 8707 `resource` parameter: clients ask for `audience`, from the list
        # each client is allowed.
        for (client_id, secret), strategy in ((self.SERVICE, "jwt"), (self.OPAQUE_SERVICE, "opaque")):
            ok(
                self.admin.post(
                    "/clients",
                    json={
                        "client_id": client_id,
                        "client_secret": secret,
                        "grant_types": ["client_credentials"],
                        "scope": scope,
                        "audience": audience,
                        "access_token_strategy": strategy,
                        "token_endpoint_auth_method": "client_secret_basic",
                    },
                )
            )
        for client_id, strategy in ((self.PUBLIC_CLIENT, "jwt"), (self.PUBLIC_CLIENT + "-opaque", "opaque")):
            ok(
                self.admin.post(
                    "/clients",
                    json={
                        "client_id": client_id,
                        "token_endpoint_auth_method": "none",
                        "grant_types": ["authorization_code", "refresh_token"],
                        "response_types": ["code"],
                        "redirect_uris": [REDIRECT_URI],
                        "scope": scope,
                        "audience": audience,
                        "access_token_strategy": strategy,
                    },
                )
            )

    @property
    def introspection_endpoint(self) -> str:
        return f"{self.admin_url}/admin/oauth2/introspect"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/oauth2/token"

    def client_credentials(
        self,
        credentials: tuple[str, str] = SERVICE,
        audience: Optional[str] = RESOURCE,
        scope: str = "notes:read",
        dpop_proof: Optional[str] = None,
    ) -> Tokens:
        data = {"grant_type": "client_credentials", "scope": scope}
        if audience:
            data["audience"] = audience
        headers = {"dpop": dpop_proof} if dpop_proof else {}
        answer = ok(
            httpx.post(self.token_endpoint, auth=credentials, data=data, headers=headers, timeout=HTTP_TIMEOUT)
        ).json()
        return Tokens(answer["access_token"], token_type=answer["token_type"])

    def login(
        self,
        scope: str = "openid offline_access notes:read",
        audience: str = RESOURCE,
        opaque: bool = False,
        session: Optional[Dict[str, Any]] = None,
    ) -> Tokens:
        """Authorization code + PKCE; the test accepts the login and consent challenges."""
        client_id = self.PUBLIC_CLIENT + ("-opaque" if opaque else "")
        verifier, challenge = pkce()
        browser = httpx.Client(timeout=HTTP_TIMEOUT)  # keeps Hydra's CSRF cookies between the steps
        step = browser.get(
            f"{self.issuer}/oauth2/auth",
            params={
                "client_id": client_id,
                "response_type": "code",
                "redirect_uri": REDIRECT_URI,
                "scope": scope,
                "state": secrets.token_urlsafe(12),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "audience": audience,
            },
        )
        login = query_of(step.headers["location"])["login_challenge"]
        accepted = ok(
            self.admin.put(
                "/oauth2/auth/requests/login/accept", params={"login_challenge": login}, json={"subject": self.SUBJECT}
            )
        ).json()
        step = browser.get(accepted["redirect_to"])
        consent = query_of(step.headers["location"])["consent_challenge"]
        asked = ok(self.admin.get("/oauth2/auth/requests/consent", params={"consent_challenge": consent})).json()
        accepted = ok(
            self.admin.put(
                "/oauth2/auth/requests/consent/accept",
                params={"consent_challenge": consent},
                json={
                    "grant_scope": asked["requested_scope"],
                    "grant_access_token_audience": asked["requested_access_token_audience"],
                    "session": session or {},
                },
            )
        ).json()
        step = browser.get(accepted["redirect_to"])
        code = query_of(step.headers["location"])["code"]
        answer = ok(
            httpx.post(
                f"{self.issuer}/oauth2/token",
                timeout=HTTP_TIMEOUT,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "client_id": client_id,
                    "code_verifier": verifier,
                },
            )
        ).json()
        return Tokens(answer["access_token"], answer.get("refresh_token"), answer.get("id_token"))

    def revoke(self, token: str, client_id: str) -> None:
        ok(
            httpx.post(
                f"{self.issuer}/oauth2/revoke", data={"token": token, "client_id": client_id}, timeout=HTTP_TIMEOUT
            )
        )

    def rotate_key(self) -> str:
        """A new key in the access-token key set: Hydra signs with it at once and keeps
        publishing the old ones. Returns its kid."""
        kid = f"rotated-{secrets.token_hex(4)}"
        ok(self.admin.post("/keys/hydra.jwt.access-token", json={"alg": "RS256", "use": "sig", "kid": kid}))
        return kid


if __name__ == "__main__":
    # Development: one Keycloak for many pytest runs (its start is most of a run's time), e.g.
    #   python servers.py keycloak &   then   MCP_AUTH_INTEROP_KEYCLOAK=<printed URL> pytest ...
    if sys.argv[1:] != ["keycloak"]:
        sys.exit("usage: python servers.py keycloak")
    # `kill <pid>` stops it (and Keycloak with it): a background job ignores SIGINT.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Cast() as processes:
        started = Keycloak(processes)
        print(f"MCP_AUTH_INTEROP_KEYCLOAK={started.base}", flush=True)
        try:
            started.process.popen.wait()
        except (KeyboardInterrupt, SystemExit):
            pass
