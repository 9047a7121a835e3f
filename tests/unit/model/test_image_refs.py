"""Image references: registry, repository and the short form named contexts use."""

from __future__ import annotations

import pytest

from buildgraph.model.image_refs import familiar_ref, registry_host, repository


@pytest.mark.parametrize(
    ("ref", "host"),
    [
        ("alpine", "docker.io"),
        ("acme/app:1", "docker.io"),
        ("localhost/app", "localhost"),
        ("localhost:5000/acme/app:1", "localhost:5000"),
        ("ghcr.io/acme/app", "ghcr.io"),
        ("index.docker.io/acme/app", "docker.io"),
        ("Registry/app", "Registry"),  # not lowercase: a host, as Docker reads it
    ],
)
def test_registry_host(ref: str, host: str) -> None:
    assert registry_host(ref) == host


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("alpine", "alpine"),
        ("alpine:3.20", "alpine"),
        ("localhost:5000/acme/app", "localhost:5000/acme/app"),
        ("localhost:5000/acme/app:1.0", "localhost:5000/acme/app"),
        ("acme/app@sha256:" + "a" * 64, "acme/app"),
        ("host:5000/a/b:1@sha256:" + "b" * 64, "host:5000/a/b"),
    ],
)
def test_repository_drops_tag_and_digest_not_the_port(ref: str, name: str) -> None:
    assert repository(ref) == name


def test_familiar_ref_is_the_short_form() -> None:
    assert familiar_ref("docker.io/library/alpine:latest") == "alpine"
    assert familiar_ref("acme/app") == "acme/app"
    assert familiar_ref("localhost:5000/x/y:1") == "localhost:5000/x/y:1"
