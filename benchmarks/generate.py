"""Generate an N-target buildgraph project and the equivalent hand-written bake HCL.

Targets come in families of ten: a base built FROM scratch, six services whose Dockerfile
says FROM <registry>/f<k>-base:<tag> (an inferred edge, wired as a named context), and a
2x2 matrix minus one excluded combination that depends_on the first service (an edge bake
cannot see). Inheritance is two levels deep with maps merged, and every string goes
through templates (registry, TAG, target).
"""

from __future__ import annotations

import argparse
from pathlib import Path

FAMILY_SIZE = 10
SERVICES = 6


def buildgraph_toml(families: int) -> str:
    out = [
        "[project]",
        'platforms = ["linux/amd64", "linux/arm64"]',
        'registry = "localhost:5000/bench"',
        "",
        "[variables]",
        'TAG = "dev"',
        "",
        "[target._root]",
        'args = { REGISTRY = "{{ registry }}", TAG = "{{ TAG }}" }',
        'labels = { "org.opencontainers.image.vendor" = "bench", "title" = "{{ target }}" }',
        "",
        "[target._svc]",
        'inherits = ["_root"]',
        'labels = { tier = "service" }',
        "",
    ]
    for k in range(families):
        out += [
            f"[target.f{k}-base]",
            'inherits = ["_root"]',
            'context = "ctx/base"',
            f'tags = ["{{{{ registry }}}}/f{k}-base:{{{{ TAG }}}}"]',
            "",
        ]
        for j in range(SERVICES):
            out += [
                f"[target.f{k}-svc{j}]",
                'inherits = ["_svc"]',
                'context = "ctx/svc"',
                f'args = {{ FAMILY = "{k}" }}',
                f'tags = ["{{{{ registry }}}}/f{k}-svc{j}:{{{{ TAG }}}}"]',
                "",
            ]
        out += [
            f"[target.f{k}-app]",
            'inherits = ["_svc"]',
            'context = "ctx/app"',
            f'depends_on = ["f{k}-svc0"]',
            'matrix = { arch = ["x", "y"], mode = ["a", "b"] }',
            'matrix-exclude = [{ arch = "y", mode = "b" }]',
            f'name = "f{k}-app-{{{{ arch }}}}-{{{{ mode }}}}"',
            'args = { MODE = "{{ mode }}" }',
            f'tags = ["{{{{ registry }}}}/f{k}-app:{{{{ TAG }}}}-{{{{ arch }}}}{{{{ mode }}}}"]',
            "",
        ]
    return "\n".join(out)


def bake_hcl(families: int) -> str:
    names: list[str] = []
    out = [
        'variable "REGISTRY" {\n  default = "localhost:5000/bench"\n}',
        'variable "TAG" {\n  default = "dev"\n}',
        'target "_root" {\n'
        "  args = { REGISTRY = REGISTRY, TAG = TAG }\n"
        '  labels = { "org.opencontainers.image.vendor" = "bench" }\n'
        '  platforms = ["linux/amd64", "linux/arm64"]\n'
        "}",
        'target "_svc" {\n  inherits = ["_root"]\n  labels = { tier = "service" }\n}',
    ]
    for k in range(families):
        base_ref = f"localhost:5000/bench/f{k}-base:dev"
        names.append(f"f{k}-base")
        out.append(
            f'target "f{k}-base" {{\n'
            '  inherits = ["_root"]\n'
            '  context = "ctx/base"\n'
            f'  labels = {{ title = "f{k}-base" }}\n'
            f'  tags = ["${{REGISTRY}}/f{k}-base:${{TAG}}"]\n'
            "}"
        )
        for j in range(SERVICES):
            names.append(f"f{k}-svc{j}")
            out.append(
                f'target "f{k}-svc{j}" {{\n'
                '  inherits = ["_svc"]\n'
                '  context = "ctx/svc"\n'
                f'  args = {{ FAMILY = "{k}" }}\n'
                f'  labels = {{ title = "f{k}-svc{j}" }}\n'
                f'  tags = ["${{REGISTRY}}/f{k}-svc{j}:${{TAG}}"]\n'
                f'  contexts = {{ "{base_ref}" = "target:f{k}-base" }}\n'
                "}"
            )
        # bake has no matrix-exclude: the matrix is split so (y, b) is never produced.
        names += [f"f{k}-app-x-a", f"f{k}-app-x-b", f"f{k}-app-y-a"]
        out.append(
            f'target "f{k}-app-x" {{\n'
            '  inherits = ["_svc"]\n'
            '  matrix = { mode = ["a", "b"] }\n'
            f'  name = "f{k}-app-x-${{mode}}"\n'
            '  context = "ctx/app"\n'
            "  args = { MODE = mode }\n"
            f'  labels = {{ title = "f{k}-app-x-${{mode}}" }}\n'
            f'  tags = ["${{REGISTRY}}/f{k}-app:${{TAG}}-x${{mode}}"]\n'
            "}"
        )
        out.append(
            f'target "f{k}-app-y-a" {{\n'
            '  inherits = ["_svc"]\n'
            '  context = "ctx/app"\n'
            '  args = { MODE = "a" }\n'
            f'  labels = {{ title = "f{k}-app-y-a" }}\n'
            f'  tags = ["${{REGISTRY}}/f{k}-app:${{TAG}}-ya"]\n'
            "}"
        )
    quoted = ", ".join(f'"{n}"' for n in names)
    out.insert(0, f'group "default" {{\n  targets = [{quoted}]\n}}')
    return "\n\n".join(out) + "\n"


DOCKERFILES = {
    "ctx/base/Dockerfile": "FROM scratch\nCOPY . /\n",
    "ctx/svc/Dockerfile": (
        "ARG REGISTRY=localhost:5000/bench\nARG TAG=dev\nARG FAMILY=0\n"
        "FROM ${REGISTRY}/f${FAMILY}-base:${TAG}\nRUN true\n"
    ),
    "ctx/app/Dockerfile": "FROM scratch\nCOPY . /\n",
}


def generate(targets: int, folder: Path) -> int:
    """Write the project for about `targets` targets into `folder`; returns the exact count."""
    families = max(1, round(targets / FAMILY_SIZE))
    folder.mkdir(parents=True, exist_ok=True)
    for relative, text in DOCKERFILES.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    (folder / "buildgraph.toml").write_text(buildgraph_toml(families))
    (folder / "docker-bake.hcl").write_text(bake_hcl(families))
    return families * FAMILY_SIZE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("targets", type=int)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    print(generate(args.targets, args.folder))


if __name__ == "__main__":
    main()
