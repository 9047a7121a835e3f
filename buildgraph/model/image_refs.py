"""Image references, read as Docker reads them (distribution/reference): the one place
that knows which part of `host:5000/team/app:1.0@sha256:...` is the registry, the
repository, the tag and the digest.
"""

from __future__ import annotations

import re

_ALPHANUMERIC = r"[a-z0-9]+"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:(?:[._]|__|[-]+){_ALPHANUMERIC})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_NAME = rf"(?:{_HOST}(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"\w[\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"({_NAME})(?::{_TAG})?(?:@{_DIGEST})?", re.ASCII)
_IDENTIFIER = re.compile(r"[a-f0-9]{64}")  # an image ID, refused as a name
_LONGEST_PATH = 255
_LONGEST_REFERENCE = 2048  # far beyond any real one; bounds the regular expression's work


def is_image_reference(ref: str) -> bool:
    """Whether ref is a reference BuildKit can pull (ParseNormalizedNamed accepts it)."""
    if len(ref) > _LONGEST_REFERENCE or _IDENTIFIER.fullmatch(ref):
        return False
    domain, remainder = split_domain(ref)
    path = remainder.partition(":")[0]
    if path.lower() != path:
        return False
    match = _REFERENCE.fullmatch(f"{domain}/{remainder}")
    return match is not None and len(match.group(1)) - len(domain) - 1 <= _LONGEST_PATH


def split_domain(ref: str) -> tuple[str, str]:
    """(registry, the rest) as distribution/reference's splitDockerDomain: Docker Hub's
    official images get their library/ namespace."""
    first, slash, rest = ref.partition("/")
    if not slash:
        return "docker.io", f"library/{ref}"
    if first == "index.docker.io":
        domain, remainder = "docker.io", rest
    elif first == "localhost" or "." in first or ":" in first or first.lower() != first:
        domain, remainder = first, rest
    else:
        domain, remainder = "docker.io", ref
    if domain == "docker.io" and "/" not in remainder:
        remainder = f"library/{remainder}"
    return domain, remainder


def normalize_ref(ref: str) -> str:
    """The canonical form Docker compares references in: alpine is
    docker.io/library/alpine:latest, localhost:5000/a/b is localhost:5000/a/b:latest.

    As distribution/reference's ParseNormalizedNamed and TagNameOnly: the first path
    component is a registry only if it has a "." or ":", is "localhost" or is not
    lowercase; index.docker.io is docker.io; :latest is added only to a reference with
    neither tag nor digest. Nothing is lowercased (Docker does not either).
    """
    domain, remainder = split_domain(ref)
    name, digest_mark, _ = remainder.partition("@")
    if not digest_mark and ":" not in name:
        remainder += ":latest"
    return f"{domain}/{remainder}"


def familiar_ref(ref: str) -> str:
    """The short form BuildKit's Dockerfile frontend looks a named context up by:
    docker.io/library/alpine:latest is `alpine`, localhost:5000/x:1 stays as it is."""
    name = normalize_ref(ref)
    for prefix in ("docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name.removesuffix(":latest")


def registry_host(ref: str) -> str:
    """The registry a reference pushes to or pulls from: `docker.io` for Docker Hub."""
    return split_domain(ref)[0]


def repository(ref: str) -> str:
    """The reference without tag or digest, as written: `host:5000/a/b:1.0` is
    `host:5000/a/b` (a port is not a tag)."""
    name = ref.partition("@")[0]
    head, slash, last = name.rpartition("/")
    return f"{head}{slash}{last.partition(':')[0]}"
