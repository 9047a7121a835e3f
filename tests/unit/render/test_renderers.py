from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from buildgraph.plan.load import load, plan
from buildgraph.render.formats import render_file
from tests.conftest import EXAMPLES, FIXTURES
from tests.golden import assert_golden

SHOP = FIXTURES / "shop" / "buildgraph.toml"
MONOREPO = EXAMPLES / "monorepo" / "buildgraph.toml"


def rendered(project: Path, fmt: str, base: Path, names: tuple[str, ...] = ()) -> str:
    text, _ = render_file(plan(load(project, {}, environ={}), names), fmt, base)
    return text


@pytest.mark.parametrize("fmt", ["bake", "hcl", "sh"])
@pytest.mark.parametrize("project", [SHOP, MONOREPO], ids=["shop", "monorepo"])
def test_renderers_match_golden_files(project: Path, fmt: str) -> None:
    name = project.parent.name
    assert_golden(f"{name}.{fmt}", rendered(project, fmt, project.parent))


def test_bake_json_escapes_template_markers() -> None:
    doc = json.loads(rendered(SHOP, "bake", SHOP.parent))
    assert doc["target"]["app-a1"]["args"]["SHELL_TEXT"] == "$${HOME} and %%{x} stay literal"


def test_bake_json_wires_dockerfile_references_as_named_contexts() -> None:
    doc = json.loads(rendered(SHOP, "bake", SHOP.parent))
    contexts = doc["target"]["app-a1"]["contexts"]
    assert contexts == {"lib": "app/lib", "registry.test/shop/base:1.0": "target:base"}


def test_dependency_bake_cannot_see_goes_to_a_later_stage() -> None:
    doc = json.loads(rendered(SHOP, "bake", SHOP.parent, ("e2e",)))
    groups = doc["group"]
    assert "e2e" in groups["buildgraph-stage-2"]["targets"]
    assert "base" in groups["buildgraph-stage-1"]["targets"]
    assert groups["default"]["targets"] == ["e2e"]  # what was asked: bake reaches the rest


def test_groups_keep_their_shape_naming_groups_as_written() -> None:
    # The project's default is a group of groups: so is the file's.
    groups = json.loads(rendered(MONOREPO, "bake", MONOREPO.parent))["group"]
    assert groups["default"]["targets"] == ["services", "migrate"]
    assert groups["services"]["targets"] == ["api", "worker", "web"]
    assert groups["api"]["targets"] == ["api-slim-release", "api-slim-debug", "api-full-release"]
    assert "ci" not in groups  # it holds smoke, which is not planned
    hcl = rendered(MONOREPO, "hcl", MONOREPO.parent)
    assert 'group "default" {\n  targets = [\n    "services",\n    "migrate",\n  ]\n}' in hcl


def test_names_asked_for_are_the_default_group_as_asked() -> None:
    groups = json.loads(rendered(MONOREPO, "bake", MONOREPO.parent, ("services", "migrate")))
    assert groups["group"]["default"]["targets"] == ["services", "migrate"]
    assert groups["group"]["services"]["targets"] == ["api", "worker", "web"]


def test_a_group_holding_the_projects_default_names_its_members_instead() -> None:
    # `ci` holds `default`; in the file `default` is what was asked (ci), so ci names what
    # the project's default names: no group holds itself, and ci builds the same targets.
    groups = json.loads(rendered(MONOREPO, "bake", MONOREPO.parent, ("ci",)))["group"]
    assert groups["default"]["targets"] == ["ci"]
    assert groups["ci"]["targets"] == ["services", "migrate", "smoke"]
    assert groups["services"]["targets"] == ["api", "worker", "web"]
    both = json.loads(rendered(MONOREPO, "bake", MONOREPO.parent, ("default", "smoke")))
    assert both["group"]["default"]["targets"] == ["services", "migrate", "smoke"]


def test_paths_are_relative_to_the_output_files_directory(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "er"
    doc = json.loads(rendered(SHOP, "bake", out))
    context = doc["target"]["app-a1"]["context"]
    assert (out / context).resolve() == (SHOP.parent / "app").resolve()
    dest = doc["target"]["tool"]["output"][0]
    assert dest.startswith("type=local,dest=")
    assert (out / dest.split("dest=")[1]).resolve() == (SHOP.parent / "out-of-tree/tool").resolve()


def test_shell_script_keeps_hostile_values_as_text(tmp_path: Path) -> None:
    script = rendered(SHOP, "sh", SHOP.parent)
    line = next(line for line in script.splitlines() if "tool:" in line)
    assert "'tool:$(touch pwned)'" in line
    # The shell itself must see the value as one literal word.
    words = shlex.split(line.split("| ", 1)[1])
    assert "tool:$(touch pwned)" in words
    result = subprocess.run(["sh", "-n", "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_shell_script_runs_dependencies_first_and_passes_them_as_oci_layouts() -> None:
    script = rendered(SHOP, "sh", SHOP.parent)
    base_at = script.index("==> base")
    app_at = script.index("==> app-a1")
    assert base_at < app_at
    assert "--build-context registry.test/shop/base:1.0=oci-layout://.buildgraph/oci/base" in script
    assert "type=oci,dest=.buildgraph/oci/base,tar=false" in script
    assert "--file app/Dockerfile" in script


@pytest.mark.parametrize("fmt", ["dot", "mermaid"])
def test_graph_renderers_match_golden_files(fmt: str) -> None:
    from buildgraph.render.dot import render_dot
    from buildgraph.render.mermaid import render_mermaid

    the_plan = plan(load(MONOREPO, {}, environ={}), ("ci",))
    text = render_dot(the_plan) if fmt == "dot" else render_mermaid(the_plan)
    assert_golden(f"monorepo-ci.{fmt}", text)


def test_a_dependency_nobody_asked_for_renders_cache_only_as_bake_prints_it(
    tmp_path: Path,
) -> None:
    # shop's default is app and tool; base is reached only through the apps' FROM.
    doc = json.loads(rendered(SHOP, "bake", SHOP.parent))
    assert doc["target"]["base"]["output"] == ["type=cacheonly"]
    assert "output" not in doc["target"]["app-a1"]  # asked for: the builder's default
    script = rendered(SHOP, "sh", SHOP.parent)
    base = next(line for line in script.splitlines() if "--file base/Dockerfile" in line)
    # Only the layout its dependents read: no image stored, nothing pushed or loaded.
    words = shlex.split(base)
    outputs = [words[i + 1] for i, word in enumerate(words) if word == "--output"]
    assert outputs == ["type=oci,dest=.buildgraph/oci/base,tar=false"]


def test_a_dependencys_own_output_is_not_written_nor_entitled(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "base.Dockerfile").write_text("FROM scratch\n")
    (root / "Dockerfile").write_text("FROM base\n")
    (root / "buildgraph.toml").write_text(
        '[target.base]\ndockerfile = "base.Dockerfile"\noutput = ["type=local,dest=../dist"]\n'
        '[target.app]\ncontexts = { base = "target:base" }\n'
    )
    the_plan = plan(load(root / "buildgraph.toml", {}, environ={}), ("app",))
    text, entitlements = render_file(the_plan, "bake", root)
    assert json.loads(text)["target"]["base"]["output"] == ["type=cacheonly"]
    assert entitlements == []  # ../dist is not written: bake exports nothing of base
