"""A small client of the registry API (distribution's /v2/), for reusing what a registry
already holds: look a manifest up (HEAD), read it (GET) and put it under another tag of
the same repository (PUT), with the user's docker credentials.

The standard library's urllib, not a new dependency: four requests of one shape, and the
two auth schemes registries use (Basic, and the Bearer token flow of the registry's
`WWW-Authenticate` challenge) are a few dozen lines; a library (requests, httpx) would add
start-up time and a dependency for nothing we need. Connections are not kept alive: the
requests go out concurrently, one per image, each on its own connection.

Credentials come from the docker config (`$DOCKER_CONFIG/config.json`, else
`~/.docker/config.json`): `credHelpers[host]`, else `credsStore` (asked through
`docker-credential-<helper> get`, a process, so through runner.process), else
`auths[host].auth` (base64 `user:password`). They are sent only to the registry they
belong to and to the token realm it names, and never appear in an error: errors name the
registry and the status, never a header.

Plain HTTP for `localhost` and `127.*` registries (docker treats them as insecure by
default), HTTPS otherwise; Docker Hub's API is `registry-1.docker.io`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from buildgraph.model.image_refs import repository as _repository_of
from buildgraph.model.image_refs import split_domain

if TYPE_CHECKING:
    from buildgraph.runner.process import ProcessStarter

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
ACCEPT = ", ".join(MANIFEST_TYPES)
TIMEOUT = 10.0
HELPER_TIMEOUT = 20.0
_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]*))')


class RegistryError(Exception):
    """A registry that did not answer a request as it should: said by registry and
    status, never with a credential."""


class _Missing(RegistryError):
    """404: the registry has no such manifest."""


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    secret: str = ""  # the password, or an identity token when username is "<token>"

    def basic(self) -> str:
        raw = f"{self.username}:{self.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def __repr__(self) -> str:  # never the secret, whatever prints it
        return f"Credentials(username={self.username!r}, secret=***)"


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # "basic" or "bearer", lowercase
    params: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # lowercased names
    body: bytes


class Opener(Protocol):
    """Sends one request (tests hand a fake where a real registry cannot make the case)."""

    def __call__(
        self, url: str, method: str, headers: Mapping[str, str], body: bytes | None
    ) -> Answer: ...


HelperRunner = Callable[[str, str], "str | None"]  # (helper, server) -> its JSON, or None


def parse_challenge(header: str) -> Challenge | None:
    """`Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"` or
    `Basic realm="x"`, as registries send it in `WWW-Authenticate`."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {
        m[1].lower(): m[2] if m[2] is not None else m[3] for m in _CHALLENGE_PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


def api_base(host: str) -> str:
    """The API's scheme and host: HTTP for a registry on this machine, as docker's
    default insecure registries; Docker Hub's API host for docker.io."""
    if host == "docker.io":
        return "https://registry-1.docker.io"
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.partition("]")[0] + "]"
    local = name in ("localhost", "[::1]") or name.startswith("127.")
    return f"{'http' if local else 'https'}://{host}"


def docker_config_dir(environ: Mapping[str, str]) -> Path:
    explicit = environ.get("DOCKER_CONFIG")
    return Path(explicit) if explicit else Path(environ.get("HOME", "~")).expanduser() / ".docker"


def read_docker_config(folder: Path) -> dict[str, Any]:
    """The docker config's JSON, or {} when it is missing or unreadable (no credentials:
    anonymous requests, which a public or local registry answers)."""
    try:
        data = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _auth_key_host(key: str) -> str:
    """An `auths` key as the host it names: `https://index.docker.io/v1/` is docker.io."""
    text = key.split("://", 1)[-1].split("/", 1)[0]
    return "docker.io" if text in ("index.docker.io", "registry-1.docker.io") else text


def credentials_for(
    host: str, config: Mapping[str, Any], helper: HelperRunner
) -> Credentials | None:
    """The user's credentials for `host`, as docker finds them: a credential helper named
    for the host, else the credentials store, else `auths`."""
    server = "https://index.docker.io/v1/" if host == "docker.io" else host
    helpers = config.get("credHelpers")
    named = helpers.get(host) if isinstance(helpers, dict) else None
    store = config.get("credsStore")
    for name in (named, store):
        if isinstance(name, str) and name:
            found = _from_helper(helper(name, server))
            if found is not None:
                return found
    auths = config.get("auths")
    if not isinstance(auths, dict):
        return None
    for key, entry in auths.items():
        if _auth_key_host(str(key)) != host or not isinstance(entry, dict):
            continue
        if isinstance(entry.get("identitytoken"), str) and entry["identitytoken"]:
            return Credentials("<token>", entry["identitytoken"])
        auth = entry.get("auth")
        if isinstance(auth, str) and auth:
            try:
                user, _, password = base64.b64decode(auth).decode().partition(":")
            except ValueError:
                return None
            return Credentials(user, password)
        if isinstance(entry.get("username"), str):
            return Credentials(entry["username"], str(entry.get("password", "")))
    return None


def _from_helper(output: str | None) -> Credentials | None:
    if not output:
        return None
    try:
        data = json.loads(output)
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.get("Username"):
        return None
    return Credentials(str(data["Username"]), str(data.get("Secret", "")))


def run_credential_helper(helper: str, server: str) -> str | None:
    """`docker-credential-<helper> get`, the server on its standard input; its JSON, or
    None when it has nothing (it prints "credentials not found" and exits 1)."""
    from buildgraph.runner.process import run_captured

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", helper):
        return None  # a helper name is a program's suffix, never a path
    done = run_captured(
        [f"docker-credential-{helper}", "get"], timeout=HELPER_TIMEOUT, stdin_text=server
    )
    return done.stdout if done.code == 0 else None


def urllib_opener(timeout: float = TIMEOUT) -> Opener:
    def send(url: str, method: str, headers: Mapping[str, str], body: bytes | None) -> Answer:
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, _lower(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return Answer(
                    exc.code, _lower(exc.headers), exc.read() if method != "HEAD" else b""
                )

    return send


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


class Registries:
    """Requests to any registry, each with the credentials and token its host needs.
    Safe to share between threads: tokens are kept per (host, scope) under a lock."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        opener: Opener | None = None,
        helper: HelperRunner = run_credential_helper,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.config = read_docker_config(docker_config_dir(environ)) if config is None else config
        self.opener = opener or urllib_opener()
        self.helper = helper
        self.lock = threading.Lock()
        self.credentials: dict[str, Credentials | None] = {}
        self.authorization: dict[tuple[str, str], str] = {}  # (host, scope) -> header value
        self.requests = 0  # every request sent, token requests included (for the figures)

    def head_digest(self, ref: str, reference: str) -> str | None:
        """The digest `<repo>:<reference>` names, or None when the registry has no such
        manifest (404). RegistryError for any other answer: the caller builds then."""
        host, name = split_domain(ref)
        answer = self.request(host, name, "HEAD", f"manifests/{reference}", {"Accept": ACCEPT})
        if answer.status == 404:
            return None
        self.check(answer, host, "HEAD", 200)
        digest = answer.headers.get("docker-content-digest")
        if not digest:  # a registry that does not say: ask for the bytes
            _, _, digest = self.get_manifest(ref, reference)
        return digest

    def get_manifest_or_none(self, ref: str, reference: str) -> tuple[bytes, str, str] | None:
        """get_manifest, or None when the registry has no such manifest (404)."""
        try:
            return self.get_manifest(ref, reference)
        except _Missing:
            return None

    def get_manifest(self, ref: str, reference: str) -> tuple[bytes, str, str]:
        """The manifest's bytes, media type and digest (the sha256 of those bytes)."""
        import hashlib

        host, name = split_domain(ref)
        answer = self.request(host, name, "GET", f"manifests/{reference}", {"Accept": ACCEPT})
        if answer.status == 404:
            raise _Missing
        self.check(answer, host, "GET", 200)
        media = answer.headers.get("content-type", "").split(";")[0].strip()
        if not media:
            media = str(json.loads(answer.body).get("mediaType", ""))
        return answer.body, media, "sha256:" + hashlib.sha256(answer.body).hexdigest()

    def put_manifest(self, ref: str, tag: str, body: bytes, media_type: str) -> None:
        """The manifest `body` under `<repo>:<tag>`: a tag of a manifest (or index) the
        repository holds already, so its blobs and child manifests are there."""
        host, name = split_domain(ref)
        answer = self.request(
            host, name, "PUT", f"manifests/{tag}", {"Content-Type": media_type}, body, push=True
        )
        self.check(answer, host, "PUT", 201)

    def check(self, answer: Answer, host: str, method: str, wanted: int) -> None:
        if answer.status != wanted:
            raise RegistryError(f"registry {host} answered {method} with {answer.status}")

    def request(
        self,
        host: str,
        name: str,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        push: bool = False,
    ) -> Answer:
        """One API request, authorised: with the header kept for its scope, else sent
        bare and, on 401, again with what the challenge asks for."""
        url = f"{api_base(host)}/v2/{name}/{path}"
        scope = f"repository:{name}:{'pull,push' if push else 'pull'}"
        kept = self.authorization.get((host, scope))
        answer = self.send(host, url, method, {**headers, **_auth(kept)}, body)
        if answer.status != 401:
            return answer
        challenge = parse_challenge(answer.headers.get("www-authenticate", ""))
        if challenge is None:
            return answer
        authorization = self.authorize(host, challenge, scope)
        if authorization is None:
            return answer
        with self.lock:
            self.authorization[(host, scope)] = authorization
        return self.send(host, url, method, {**headers, "Authorization": authorization}, body)

    def send(
        self, host: str, url: str, method: str, headers: Mapping[str, str], body: bytes | None
    ) -> Answer:
        with self.lock:
            self.requests += 1
        try:
            return self.opener(url, method, headers, body)
        except (OSError, ValueError) as exc:  # refused, reset, timed out, no such host
            reason = getattr(exc, "reason", None) or exc.__class__.__name__
            raise RegistryError(f"registry {host} does not answer ({reason})") from None

    def credentials_of(self, host: str) -> Credentials | None:
        with self.lock:
            if host in self.credentials:
                return self.credentials[host]
        found = credentials_for(host, self.config, self.helper)
        with self.lock:
            self.credentials[host] = found
        return found

    def authorize(self, host: str, challenge: Challenge, scope: str) -> str | None:
        """The Authorization header a challenge asks for: the user's credentials for
        Basic; for Bearer, a token from the realm (with those credentials, if any)."""
        credentials = self.credentials_of(host)
        if challenge.scheme == "basic":
            return credentials.basic() if credentials is not None else None
        if challenge.scheme != "bearer" or not challenge.params.get("realm"):
            return None
        return self.token(host, challenge, scope, credentials)

    def token(
        self,
        host: str,
        challenge: Challenge,
        scope: str,
        credentials: Credentials | None,
    ) -> str | None:
        realm = challenge.params["realm"]
        if not realm.startswith(("https://", "http://")):
            return None
        query = {"scope": challenge.params.get("scope") or scope}
        if challenge.params.get("service"):
            query["service"] = challenge.params["service"]
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        headers = {} if credentials is None else {"Authorization": credentials.basic()}
        answer = self.send(host, url, "GET", headers, None)
        if answer.status != 200:
            raise RegistryError(
                f"registry {host}'s token service refused a token ({answer.status})"
            )
        try:
            data = json.loads(answer.body)
            token = data.get("token") or data.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"registry {host}'s token service answered without a token")
        return f"Bearer {token}"


def _auth(value: str | None) -> dict[str, str]:
    return {"Authorization": value} if value else {}


# How many requests go out at once: one per image, and a registry answers each in
# milliseconds, so the limit is what a CI runner's registry (or its rate limit) likes.
CONCURRENT_REQUESTS = 16


@dataclass(frozen=True, slots=True)
class Held:
    """What the registry answered for one look-up: the manifest under the fingerprint
    tag (`digest`, its bytes and media type), nothing (all None), or why it could not
    say (`problem`: the caller builds)."""

    digest: str | None = None
    body: bytes = b""
    media_type: str = ""
    problem: str | None = None


def look_up_all(
    registries: Registries, wanted: Mapping[str, tuple[str, str]], *, body: bool = True
) -> dict[str, Held]:
    """name -> what `repo:tag` holds, one request per name, concurrently. With `body`
    (build) a GET, whose bytes a tag copy needs; without (plan) a HEAD."""
    from concurrent.futures import ThreadPoolExecutor

    def one(item: tuple[str, tuple[str, str]]) -> tuple[str, Held]:
        name, (repo, tag) = item
        try:
            if not body:
                return name, Held(registries.head_digest(repo, tag))
            got = registries.get_manifest_or_none(repo, tag)
            return name, Held() if got is None else Held(got[2], got[0], got[1])
        except RegistryError as exc:
            return name, Held(problem=str(exc))

    if not wanted:
        return {}
    with ThreadPoolExecutor(max_workers=min(CONCURRENT_REQUESTS, len(wanted))) as pool:
        return dict(pool.map(one, wanted.items()))


def run_all(jobs: Mapping[str, Callable[[], None]]) -> dict[str, str]:
    """Run each job concurrently; name -> the RegistryError of each that failed."""
    from concurrent.futures import ThreadPoolExecutor

    def one(item: tuple[str, Callable[[], None]]) -> tuple[str, str | None]:
        try:
            item[1]()
        except RegistryError as exc:
            return item[0], str(exc)
        return item[0], None

    if not jobs:
        return {}
    with ThreadPoolExecutor(max_workers=min(CONCURRENT_REQUESTS, len(jobs))) as pool:
        return {name: problem for name, problem in pool.map(one, jobs.items()) if problem}


IMAGETOOLS_TIMEOUT = 120.0


def point_refs(
    registries: Registries,
    source: str,
    held: Held,
    refs: Mapping[str, str],
    starter: ProcessStarter | None = None,
) -> None:
    """Point each reference (ref -> its tag) at the manifest `held` of repository
    `source`. In the same repository, a manifest PUT of the same bytes under the tag: the
    digest stays the manifest's (an index's too: its child manifests and blobs are in
    the repository already), one request. In another repository, `docker buildx
    imagetools create`, which mounts or copies the blobs there first."""
    assert held.digest is not None
    elsewhere = []
    for ref, tag in refs.items():
        if split_domain(_repository_of(ref)) == split_domain(source):
            registries.put_manifest(source, tag, held.body, held.media_type)
        else:
            elsewhere.append(ref)
    if not elsewhere:
        return
    from buildgraph.runner.process import REAL_STARTER

    argv = ["docker", "buildx", "imagetools", "create"]
    argv += [part for ref in elsewhere for part in ("--tag", ref)]
    done = (starter or REAL_STARTER).capture(
        [*argv, f"{source}@{held.digest}"], timeout=IMAGETOOLS_TIMEOUT
    )
    if done.code != 0:
        last = (done.output.strip().splitlines() or ["no output"])[-1][:300]
        raise RegistryError(f"imagetools create of {', '.join(elsewhere)} failed: {last}")
