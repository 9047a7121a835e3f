"""runner.registry against real registries where one can make the case: the engine kit's
on 127.0.0.1:5000 (anonymous) and one started here with htpasswd (Basic) auth; the
Bearer token flow, which distribution only speaks with a token server, against a fake."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
import warnings
from collections.abc import Iterator, Mapping

import pytest

from buildgraph.runner.registry import (
    Answer,
    Credentials,
    Registries,
    RegistryError,
    api_base,
    credentials_for,
    look_up_all,
    parse_challenge,
)
from tests.conftest import engine_part_missing

LOCAL = "127.0.0.1:5000"
INDEX = "application/vnd.oci.image.index.v1+json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # 401: up, asking for a login
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the registry did not come up")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def local_registry() -> str:
    try:
        urllib.request.urlopen(f"http://{LOCAL}/v2/", timeout=5).close()
    except OSError as exc:
        engine_part_missing(f"no registry on {LOCAL}: {exc}")
    return LOCAL


@pytest.fixture(scope="module")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """distribution with htpasswd auth (user bg, password s3cret) on a port of its own."""
    if shutil.which("docker-registry") is None:
        engine_part_missing("docker-registry is not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        hashed = crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    root = tmp_path_factory.mktemp("auth-registry")
    (root / "htpasswd").write_text(f"bg:{hashed}\n")
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        f"auth:\n  htpasswd:\n    realm: test\n    path: {root / 'htpasswd'}\n"
    )
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/v2/", process)
        yield f"127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


def push_index(client: Registries, repo: str, tag: str) -> tuple[bytes, str]:
    """An empty OCI index under `repo:tag` (distribution accepts one with no manifests)."""
    body = json.dumps(
        {"schemaVersion": 2, "mediaType": INDEX, "manifests": []}, sort_keys=True
    ).encode()
    client.put_manifest(repo, tag, body, INDEX)
    return body, "sha256:" + hashlib.sha256(body).hexdigest()


def no_helpers(helper: str, server: str) -> str | None:
    raise AssertionError("no helper is configured")


def test_head_get_and_put_on_the_local_registry(local_registry: str) -> None:
    client = Registries(config={}, helper=no_helpers)
    repo = f"{local_registry}/reg{uuid.uuid4().hex[:8]}/img"
    assert client.head_digest(repo, "bg-missing") is None
    assert client.get_manifest_or_none(repo, "bg-missing") is None
    body, digest = push_index(client, repo, "one")
    assert client.head_digest(repo, "one") == digest
    got, media, got_digest = client.get_manifest(repo, digest)
    assert (got, media, got_digest) == (body, INDEX, digest)
    client.put_manifest(repo, "two", got, media)  # a tag copy keeps the digest
    assert client.head_digest(repo, "two") == digest


def test_basic_auth_with_the_users_credentials(auth_registry: str) -> None:
    auth = base64.b64encode(b"bg:s3cret").decode()
    client = Registries(config={"auths": {auth_registry: {"auth": auth}}}, helper=no_helpers)
    repo = f"{auth_registry}/team/img"
    _, digest = push_index(client, repo, "dev")
    assert client.head_digest(repo, "dev") == digest
    assert client.head_digest(repo, "nope") is None


def test_a_refused_login_is_an_error_naming_the_registry_never_the_secret(
    auth_registry: str,
) -> None:
    wrong = base64.b64encode(b"bg:not-the-password").decode()
    for config in ({}, {"auths": {f"http://{auth_registry}": {"auth": wrong}}}):
        client = Registries(config=config, helper=no_helpers)
        with pytest.raises(RegistryError) as raised:
            client.head_digest(f"{auth_registry}/team/img", "dev")
        message = str(raised.value)
        assert auth_registry in message and "401" in message
        assert "not-the-password" not in message and wrong not in message
        [held] = look_up_all(client, {"img": (f"{auth_registry}/team/img", "dev")}).values()
        assert held.digest is None and held.problem is not None


def test_a_registry_that_is_down_is_a_problem_not_a_miss() -> None:
    client = Registries(config={}, helper=no_helpers)
    port = free_port()  # nothing listens there
    held = look_up_all(client, {"a": (f"127.0.0.1:{port}/x/a", "bg-1")})["a"]
    assert held.digest is None
    assert held.problem == f"registry 127.0.0.1:{port} does not answer (Connection refused)" or (
        held.problem is not None and f"127.0.0.1:{port}" in held.problem
    )


def test_credentials_come_from_a_helper_first_then_the_store_then_auths() -> None:
    asked: list[tuple[str, str]] = []

    def helper(name: str, server: str) -> str | None:
        asked.append((name, server))
        return json.dumps({"Username": f"{name}-user", "Secret": "pw"}) if name != "none" else None

    auths = {"https://index.docker.io/v1/": {"auth": base64.b64encode(b"hub:pw").decode()}}
    config = {"credHelpers": {"ghcr.io": "gh"}, "credsStore": "desktop", "auths": auths}
    assert credentials_for("ghcr.io", config, helper) == Credentials("gh-user", "pw")
    assert credentials_for("quay.io", config, helper) == Credentials("desktop-user", "pw")
    assert asked == [("gh", "ghcr.io"), ("desktop", "quay.io")]
    assert credentials_for("docker.io", {"auths": auths}, helper) == Credentials("hub", "pw")
    assert credentials_for("docker.io", {"credsStore": "none", "auths": auths}, helper) == (
        Credentials("hub", "pw")
    )
    assert "pw" not in repr(Credentials("u", "pw"))


def test_challenges_are_parsed_as_registries_send_them() -> None:
    challenge = parse_challenge(
        'Bearer realm="https://auth.example/token",service="reg.example",'
        'scope="repository:a/b:pull,push"'
    )
    assert challenge is not None and challenge.scheme == "bearer"
    assert dict(challenge.params) == {
        "realm": "https://auth.example/token",
        "service": "reg.example",
        "scope": "repository:a/b:pull,push",
    }
    basic = parse_challenge('Basic realm="test"')
    assert basic is not None and basic.scheme == "basic"
    assert parse_challenge("") is None


def test_api_base_is_http_only_on_this_machine() -> None:
    assert api_base("127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert api_base("localhost:5000") == "http://localhost:5000"
    assert api_base("localhost") == "http://localhost"
    assert api_base("reg.example:5000") == "https://reg.example:5000"
    assert api_base("docker.io") == "https://registry-1.docker.io"


class TokenRegistry:
    """A registry that asks for a Bearer token from its realm, as Docker Hub, GHCR and
    distribution behind a token server do."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    def __call__(
        self, url: str, method: str, headers: Mapping[str, str], body: bytes | None
    ) -> Answer:
        self.seen.append((method, url, dict(headers)))
        if url.startswith("https://auth.example/token"):
            if headers.get("Authorization") != Credentials("u", "pw").basic():
                return Answer(401, {}, b"")
            return Answer(200, {}, json.dumps({"token": "tok-123"}).encode())
        if headers.get("Authorization") != "Bearer tok-123":
            challenge = (
                'Bearer realm="https://auth.example/token",service="reg.example",'
                'scope="repository:team/app:pull"'
            )
            return Answer(401, {"www-authenticate": challenge}, b"")
        return Answer(200, {"docker-content-digest": "sha256:" + "a" * 64}, b"")


def test_the_bearer_flow_asks_the_realm_once_per_scope_with_the_credentials() -> None:
    fake = TokenRegistry()
    auths = {"reg.example": {"auth": base64.b64encode(b"u:pw").decode()}}
    client = Registries(config={"auths": auths}, opener=fake, helper=no_helpers)
    assert client.head_digest("reg.example/team/app", "bg-1") == "sha256:" + "a" * 64
    assert client.head_digest("reg.example/team/app", "bg-2") == "sha256:" + "a" * 64
    urls = [url for _, url, _ in fake.seen]
    assert urls[0] == "https://reg.example/v2/team/app/manifests/bg-1"
    assert urls[1] == (
        "https://auth.example/token?scope=repository%3Ateam%2Fapp%3Apull&service=reg.example"
    )
    assert len(urls) == 4  # the token is kept: bg-2 goes once, with it
    assert "Accept" in fake.seen[0][2] and "oci.image.index" in fake.seen[0][2]["Accept"]


def test_a_token_refused_is_an_error_without_the_secret() -> None:
    fake = TokenRegistry()
    auths = {"reg.example": {"auth": base64.b64encode(b"u:wrong").decode()}}
    client = Registries(config={"auths": auths}, opener=fake, helper=no_helpers)
    with pytest.raises(RegistryError) as raised:
        client.head_digest("reg.example/team/app", "bg-1")
    assert "reg.example" in str(raised.value) and "wrong" not in str(raised.value)
