"""Generate an N-target buildgraph project and the equivalent hand-written bake HCL.

    .venv/bin/python benchmarks/generate.py N FOLDER     # prints the exact target count

The project is made of families of ten concrete targets (`k` is the family number):

- `f<k>-base`: FROM scratch; inherits `_root`.
- `f<k>-svc0`, `f<k>-svc1`: their Dockerfile says `FROM ${REGISTRY}/f${FAMILY}-base:${TAG}`,
  i.e. the tag of `f<k>-base`: an inferred edge, wired as a `target:` named context.
  Inherit `_svc` -> `_root` (maps merged over two levels).
- `f<k>-app`: 2-axis matrix (arch x mode) with one combination excluded, 3 targets, a
  `name` template; `depends_on = ["f<k>-svc0"]` (an edge bake does not see and does not
  need to print). Inherits `_app` -> `_svc` -> `_root` (a chain of three abstract parents,
  each overriding or adding map keys and scalars).
- `f<k>-job`: full 2-axis matrix (os x py), 4 targets, a `name` template with a filter
  (`py | replace('.', '')`), its own dockerfile name, and a Dockerfile whose `FROM` is the
  tag of `f<k>-svc1` (a second level of inferred edges: base -> svc1 -> job).
- groups: `f<k>` (naming the family's targets, among them the matrix targets `f<k>-app`
  and `f<k>-job`, which are groups of their expansions), `all` (every family group) and
  `default = ["all"]`: groups of groups of groups.

Every string goes through templates: `{{ registry }}` (a project key), `{{ TAG }}` and
`{{ VENDOR }}` (variables), `{{ target }}` (the concrete name, also inside a parent),
matrix values. All targets share four context folders, so the disk cost does not grow.

`docker-bake.hcl` is what a person would write for the same images with bake's own
features: `variable` blocks, `inherits`, `matrix` + `name` (with the HCL `replace`
function), `target:` contexts for the FROM lines. bake has no `matrix-exclude`: the app
matrix is written as one axis whose values are the three allowed (arch, mode) objects, so
the matrix target keeps its name (and its group) and resolves to the same three targets.
bake has no `{{ target }}` either: each target spells its own title label.
"""

from __future__ import annotations

import argparse
from pathlib import Path

FAMILY_SIZE = 10  # concrete targets per family: base + 2 svc + 3 app + 4 job

# No host name in the registry: "acme/x:dev" is a plain repository reference.
REGISTRY = "acme"
TAG = "dev"
VENDOR = "bench"
PLATFORMS = ["linux/amd64", "linux/arm64"]

APP_AXES = {"arch": ["x", "y"], "mode": ["a", "b"]}
APP_EXCLUDE = {"arch": "y", "mode": "b"}
JOB_AXES = {"os": ["alpine", "debian"], "py": ["3.11", "3.12"]}


def _q(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def _family_members(k: int) -> list[str]:
    return [f"f{k}-base", f"f{k}-svc0", f"f{k}-svc1", f"f{k}-app", f"f{k}-job"]


def app_combinations() -> list[dict[str, str]]:
    """The app matrix after the exclude, in buildgraph's order (last axis fastest)."""
    return [
        {"arch": arch, "mode": mode}
        for arch in APP_AXES["arch"]
        for mode in APP_AXES["mode"]
        if {"arch": arch, "mode": mode} != APP_EXCLUDE
    ]


def _axes(matrix: dict[str, list[str]]) -> str:
    return ", ".join(f"{a} = {_q(v)}" for a, v in matrix.items())


def concrete_names(families: int) -> list[str]:
    names = []
    for k in range(families):
        names += [f"f{k}-base", f"f{k}-svc0", f"f{k}-svc1"]
        names += [f"f{k}-app-{c['arch']}-{c['mode']}" for c in app_combinations()]
        names += [
            f"f{k}-job-{os_}-py{py.replace('.', '')}"
            for os_ in JOB_AXES["os"]
            for py in JOB_AXES["py"]
        ]
    return names


def buildgraph_toml(families: int) -> str:
    out = [
        "[project]",
        'name = "bench"',
        f"platforms = {_q(PLATFORMS)}",
        f'registry = "{REGISTRY}"',
        "",
        "[variables]",
        f'TAG = "{TAG}"',
        f'VENDOR = {{ default = "{VENDOR}", description = "image vendor label" }}',
        "",
        "[target._root]",
        'args = { REGISTRY = "{{ registry }}", TAG = "{{ TAG }}" }',
        'labels = { "org.opencontainers.image.vendor" = "{{ VENDOR }}", '
        '"org.opencontainers.image.title" = "{{ target }}" }',
        "",
        "[target._svc]",
        'inherits = ["_root"]',
        'args = { TIER = "service" }',
        'labels = { tier = "service", "org.opencontainers.image.source" = "ctx/{{ target }}" }',
        "",
        "[target._app]",
        'inherits = ["_svc"]',
        'dockerfile = "app.Dockerfile"',
        'args = { TIER = "app" }',
        'labels = { tier = "app", role = "{{ arch }}-{{ mode }}" }',
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
        for j in range(2):
            out += [
                f"[target.f{k}-svc{j}]",
                'inherits = ["_svc"]',
                'context = "ctx/svc"',
                f'args = {{ FAMILY = "{k}" }}',
                'tags = ["{{ registry }}/{{ target }}:{{ TAG }}"]',
                "",
            ]
        exclude = ", ".join(f'{a} = "{v}"' for a, v in APP_EXCLUDE.items())
        out += [
            f"[target.f{k}-app]",
            'inherits = ["_app"]',
            'context = "ctx/app"',
            f'depends_on = ["f{k}-svc0"]',
            f"matrix = {{ {_axes(APP_AXES)} }}",
            f"matrix-exclude = [{{ {exclude} }}]",
            f'name = "f{k}-app-{{{{ arch }}}}-{{{{ mode }}}}"',
            'args = { MODE = "{{ mode }}", ARCH = "{{ arch }}" }',
            f'tags = ["{{{{ registry }}}}/f{k}-app:{{{{ TAG }}}}-{{{{ arch }}}}{{{{ mode }}}}"]',
            "",
            f"[target.f{k}-job]",
            'inherits = ["_svc"]',
            'context = "ctx/job"',
            'dockerfile = "job.Dockerfile"',
            f"matrix = {{ {_axes(JOB_AXES)} }}",
            f"name = \"f{k}-job-{{{{ os }}}}-py{{{{ py | replace('.', '') }}}}\"",
            f'args = {{ FAMILY = "{k}", OS = "{{{{ os }}}}", PY = "{{{{ py }}}}" }}',
            f'tags = ["{{{{ registry }}}}/f{k}-job:{{{{ TAG }}}}-{{{{ os }}}}-{{{{ py }}}}"]',
            "",
            f"[group.f{k}]",
            f"targets = {_q(_family_members(k))}",
            "",
        ]
    out += [
        "[group.all]",
        f"targets = {_q([f'f{k}' for k in range(families)])}",
        "",
        "[group.default]",
        'targets = ["all"]',
        "",
    ]
    return "\n".join(out)


def bake_hcl(families: int) -> str:
    vendor = '"org.opencontainers.image.vendor" = VENDOR'
    out = [
        f'variable "REGISTRY" {{\n  default = "{REGISTRY}"\n}}',
        f'variable "TAG" {{\n  default = "{TAG}"\n}}',
        f'variable "VENDOR" {{\n  default = "{VENDOR}"\n}}',
        'group "default" {\n  targets = ["all"]\n}',
        f'group "all" {{\n  targets = {_q([f"f{k}" for k in range(families)])}\n}}',
        'target "_root" {\n'
        "  args = { REGISTRY = REGISTRY, TAG = TAG }\n"
        f"  labels = {{ {vendor} }}\n"
        f"  platforms = {_q(PLATFORMS)}\n"
        "}",
        'target "_svc" {\n'
        '  inherits = ["_root"]\n'
        '  args = { TIER = "service" }\n'
        '  labels = { tier = "service" }\n'
        "}",
        'target "_app" {\n'
        '  inherits = ["_svc"]\n'
        '  dockerfile = "app.Dockerfile"\n'
        '  args = { TIER = "app" }\n'
        '  labels = { tier = "app" }\n'
        "}",
    ]
    combos = ", ".join(
        "{ " + ", ".join(f'{a} = "{v}"' for a, v in c.items()) + " }" for c in app_combinations()
    )
    title = '"org.opencontainers.image.title"'
    source = '"org.opencontainers.image.source"'
    for k in range(families):
        out.append(f'group "f{k}" {{\n  targets = {_q(_family_members(k))}\n}}')
        out.append(
            f'target "f{k}-base" {{\n'
            '  inherits = ["_root"]\n'
            '  context = "ctx/base"\n'
            f'  labels = {{ {title} = "f{k}-base" }}\n'
            f'  tags = ["${{REGISTRY}}/f{k}-base:${{TAG}}"]\n'
            "}"
        )
        for j in range(2):
            out.append(
                f'target "f{k}-svc{j}" {{\n'
                '  inherits = ["_svc"]\n'
                '  context = "ctx/svc"\n'
                f'  contexts = {{ "{REGISTRY}/f{k}-base:{TAG}" = "target:f{k}-base" }}\n'
                f'  args = {{ FAMILY = "{k}" }}\n'
                f'  labels = {{ {title} = "f{k}-svc{j}", {source} = "ctx/f{k}-svc{j}" }}\n'
                f'  tags = ["${{REGISTRY}}/f{k}-svc{j}:${{TAG}}"]\n'
                "}"
            )
        app = f"f{k}-app-${{c.arch}}-${{c.mode}}"
        out.append(
            f'target "f{k}-app" {{\n'
            '  inherits = ["_app"]\n'
            # matrix-exclude: the allowed combinations as one axis of objects.
            f"  matrix = {{ c = [{combos}] }}\n"
            f'  name = "{app}"\n'
            '  context = "ctx/app"\n'
            "  args = { MODE = c.mode, ARCH = c.arch }\n"
            f'  labels = {{ {title} = "{app}", {source} = "ctx/{app}",'
            ' role = "${c.arch}-${c.mode}" }\n'
            f'  tags = ["${{REGISTRY}}/f{k}-app:${{TAG}}-${{c.arch}}${{c.mode}}"]\n'
            "}"
        )
        job = f'f{k}-job-${{os}}-py${{replace(py, ".", "")}}'
        out.append(
            f'target "f{k}-job" {{\n'
            '  inherits = ["_svc"]\n'
            f"  matrix = {{ {_axes(JOB_AXES)} }}\n"
            f'  name = "{job}"\n'
            '  context = "ctx/job"\n'
            '  dockerfile = "job.Dockerfile"\n'
            f'  contexts = {{ "{REGISTRY}/f{k}-svc1:{TAG}" = "target:f{k}-svc1" }}\n'
            f'  args = {{ FAMILY = "{k}", OS = os, PY = py }}\n'
            f'  labels = {{ {title} = "{job}", {source} = "ctx/{job}" }}\n'
            f'  tags = ["${{REGISTRY}}/f{k}-job:${{TAG}}-${{os}}-${{py}}"]\n'
            "}"
        )
    return "\n\n".join(out) + "\n"


DOCKERFILES = {
    "ctx/base/Dockerfile": "FROM scratch\nCOPY . /\n",
    "ctx/svc/Dockerfile": (
        f"ARG REGISTRY={REGISTRY}\nARG TAG={TAG}\nARG FAMILY=0\n"
        "FROM ${REGISTRY}/f${FAMILY}-base:${TAG}\nCOPY . /srv/\n"
    ),
    "ctx/app/app.Dockerfile": "FROM scratch\nARG MODE\nCOPY . /app/\n",
    "ctx/job/job.Dockerfile": (
        f"ARG REGISTRY={REGISTRY}\nARG TAG={TAG}\nARG FAMILY=0\n"
        "FROM ${REGISTRY}/f${FAMILY}-svc1:${TAG} AS svc\n"
        "FROM svc\nARG PY\nCOPY . /job/\n"
    ),
}


def generate(targets: int, folder: Path) -> int:
    """Write the project for about `targets` concrete targets into `folder`.

    Returns the exact number of concrete targets (a multiple of FAMILY_SIZE)."""
    families = max(1, round(targets / FAMILY_SIZE))
    folder.mkdir(parents=True, exist_ok=True)
    for relative, text in DOCKERFILES.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    (folder / "buildgraph.toml").write_text(buildgraph_toml(families))
    (folder / "docker-bake.hcl").write_text(bake_hcl(families))
    count = families * FAMILY_SIZE
    assert len(concrete_names(families)) == count
    return count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("targets", type=int, help="about how many concrete targets")
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    print(generate(args.targets, args.folder))


if __name__ == "__main__":
    main()
