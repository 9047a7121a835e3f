from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from buildgraph.errors import ConfigError
from buildgraph.model.project import Project, thaw
from buildgraph.projectfile.document import parse_document
from buildgraph.resolve.inheritance import merge_tables
from buildgraph.resolve.project import resolve_project

FILE = Path("/project/buildgraph.toml")


def resolve(
    toml: str, overrides: dict[str, str] | None = None, env: dict[str, str] | None = None
) -> Project:
    return resolve_project(parse_document(toml, FILE), overrides or {}, env or {})


def attrs(project: Project, name: str) -> dict:  # type: ignore[type-arg]
    return thaw(project.targets[name].attrs)  # type: ignore[no-any-return]


def test_inherits_merges_maps_by_key_and_replaces_the_rest() -> None:
    project = resolve("""
[target._a]
args = { A = "1", B = "a" }
tags = ["a"]
platforms = ["linux/amd64"]
[target._b]
args = { B = "b", C = "b" }
tags = ["b"]
[target.app]
inherits = ["_a", "_b"]
args = { C = "own" }
""")
    got = attrs(project, "app")
    assert got["args"] == {"A": "1", "B": "b", "C": "own"}
    assert got["tags"] == ["b"]  # later parent wins
    assert got["platforms"] == ["linux/amd64"]
    assert "_a" not in project.targets and "_b" not in project.targets


def test_inherits_chains_and_appends_the_lists_bake_appends() -> None:
    project = resolve("""
[target._root]
annotations = ["index:a=1"]
cache-from = ["type=registry,ref=r/cache"]
[target._mid]
inherits = ["_root"]
annotations = ["index:b=2"]
[target.app]
inherits = ["_mid"]
""")
    got = attrs(project, "app")
    assert got["annotations"] == ["index:a=1", "index:b=2"]
    assert got["cache-from"] == ["type=registry,ref=r/cache"]


def test_templates_render_after_inheritance_in_the_childs_scope() -> None:
    project = resolve("""
[project]
registry = "r.example/acme"
[variables]
TAG = "dev"
[target._common]
tags = ["{{ registry }}/{{ target }}:{{ TAG }}"]
[target.api]
inherits = ["_common"]
[target.web]
inherits = ["_common"]
""")
    assert attrs(project, "api")["tags"] == ["r.example/acme/api:dev"]
    assert attrs(project, "web")["tags"] == ["r.example/acme/web:dev"]


def test_variables_default_then_env_then_var() -> None:
    toml = """
[variables]
TAG = "dev"
PY = { default = "3.12", env = "APP_PY" }
[target.t]
args = { TAG = "{{ TAG }}", PY = "{{ PY }}" }
"""
    assert attrs(resolve(toml), "t")["args"] == {"TAG": "dev", "PY": "3.12"}
    env = {"TAG": "env", "APP_PY": "3.13", "PY": "ignored"}
    assert attrs(resolve(toml, env=env), "t")["args"] == {"TAG": "env", "PY": "3.13"}
    assert attrs(resolve(toml, {"TAG": "cli"}, env), "t")["args"]["TAG"] == "cli"


def test_unknown_var_is_an_error_with_a_hint() -> None:
    with pytest.raises(ConfigError) as info:
        resolve("[variables]\nTAG = 'x'\n[target.t]\n", {"TAGG": "1"})
    assert "did you mean 'TAG'" in str(info.value)


def test_matrix_expands_names_groups_and_includes() -> None:
    project = resolve("""
[project]
platforms = ["linux/amd64"]
[target.api]
matrix = { py = ["3.11", "3.12"], flavor = ["slim", "full"] }
matrix-exclude = [{ py = "3.11", flavor = "full" }]
matrix-include = [{ py = "3.13", flavor = "slim" }]
name = "api-py{{ py | replace('.', '') }}-{{ flavor }}"
args = { PYTHON = "{{ py }}" }
tags = ["api:{{ target }}"]
""")
    assert list(project.targets) == [
        "api-py311-slim",
        "api-py312-slim",
        "api-py312-full",
        "api-py313-slim",
    ]
    assert project.groups["api"].targets == tuple(project.targets)
    assert attrs(project, "api-py313-slim")["args"] == {"PYTHON": "3.13"}
    assert attrs(project, "api-py313-slim")["tags"] == ["api:api-py313-slim"]
    assert attrs(project, "api-py311-slim")["platforms"] == ["linux/amd64"]


def test_platforms_come_from_target_then_parents_then_project() -> None:
    project = resolve("""
[project]
platforms = ["linux/amd64", "linux/arm64"]
[target._p]
platforms = ["linux/arm64"]
[target.a]
inherits = ["_p"]
[target.b]
platforms = ["linux/riscv64"]
[target.c]
""")
    assert project.targets["a"].platforms == ("linux/arm64",)
    assert project.targets["b"].platforms == ("linux/riscv64",)
    assert project.targets["c"].platforms == ("linux/amd64", "linux/arm64")
    assert resolve("[target.d]\n").targets["d"].platforms == ()


def test_default_group_and_groups_of_groups() -> None:
    project = resolve("""
[target.a]
[target.b]
[group.g1]
targets = ["a"]
[group.default]
targets = ["g1", "b"]
""")
    assert project.groups["default"].targets == ("g1", "b")


@pytest.mark.parametrize(
    ("toml", "fragment", "key"),
    [
        ("[target.a]\ninherits = ['_missing']\n", "inherits unknown target '_missing'", "inherits"),
        (
            "[target._x]\ninherits=['_y']\n[target._y]\ninherits=['_x']\n[target.a]\ninherits=['_x']\n",
            "inherits cycle",
            "inherits",
        ),
        ("[target.a]\ndepends_on = ['bb']\n[target.b]\n", "unknown target 'bb'", "depends_on"),
        (
            "[target.a]\nmatrix = { x = ['1', '2'] }\n",
            "several combinations needs a `name` template",
            "matrix",
        ),
        ("[target.a]\nmatrix = { x = ['1', '2'] }\nname = 'same'\n", "produced twice", "name"),
        (
            "[target.a]\nmatrix = { x = ['1.0'] }\nname = 'a-{{ x }}'\n",
            "not a valid target name",
            "name",
        ),
        ("[target.a]\ntags = ['{{ nope }}']\n", "'nope' is undefined", "tags"),
        ("[target.a]\ntags = ['{{ ().__class__.__bases__ }}']\n", "sandbox", "tags"),
        ("[target.a]\nplatforms = ['linux-amd64']\n", "malformed platform", "platforms"),
        ("[target.a]\ncontexts = { x = 'target:nope' }\n", "unknown target 'nope'", "contexts"),
        ("[target.a]\nname = 'x'\n", "only for matrix targets", "name"),
    ],
)
def test_semantic_errors_name_file_target_and_key(toml: str, fragment: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(toml)
    problem = info.value.problems[0]
    assert fragment in str(problem)
    assert problem.file == FILE
    assert problem.key == key
    assert problem.target is not None


def test_a_group_naming_an_unknown_target_resolves_as_written() -> None:
    # bake fails only when such a group is built: graph.selection refuses it then.
    project = resolve("[target.api]\n[group.default]\ntargets = ['apl', 'api', '_x']\n")
    assert project.groups["default"].targets == ("apl", "api", "_x")
    assert list(project.targets) == ["api"]


maps = st.dictionaries(st.sampled_from("abc"), st.text("xyz", max_size=2), max_size=3)
tables = st.fixed_dictionaries(
    {},
    optional={
        "args": maps,
        "labels": maps,
        "tags": st.lists(st.text("tuv", max_size=2), max_size=3),
        "target": st.text("pq", max_size=2),
        "annotations": st.lists(st.text("kl", max_size=2), max_size=2),
    },
)


@given(a=tables, b=tables, c=tables)
def test_inheritance_merge_is_associative_so_chains_and_lists_agree(a, b, c) -> None:  # type: ignore[no-untyped-def]
    # inherits = [a, b] then own c must equal a chain c <- b <- a: order-stable resolution.
    assert merge_tables(merge_tables(a, b), c) == merge_tables(a, merge_tables(b, c))


@given(a=tables)
def test_inheriting_nothing_changes_nothing(a) -> None:  # type: ignore[no-untyped-def]
    assert merge_tables({}, a) == a
    assert merge_tables(a, {}) == a


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ TAG }}", "dev"),
        ("{{TAG}}-{{ n }}", "dev-3"),
        ("{{ flag }}", "True"),
        ("{{ TAG | upper }}", "DEV"),
        ("{% if n > 2 %}big{% endif %}", "big"),
        ("{{ items }}", "['a', 'b']"),
        ("a {{ '{{' }} b", "a {{ b"),
        ("{ {{ TAG }} }{{n}}}", "{ dev }3}"),
        ("{{ nothing }}/{{ table }}/{{ ratio }}", "None/{'k': 1}/0.5"),
        ("{{ TAG | replace('e', 'x') }}-{{ TAG ~ n }}", "dxv-dev3"),
    ],
)
def test_fast_substitution_agrees_with_jinja(template: str, expected: str) -> None:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from buildgraph.resolve.templates import render_string

    scope = {
        "TAG": "dev",
        "n": 3,
        "flag": True,
        "items": ["a", "b"],
        "nothing": None,
        "table": {"k": 1},
        "ratio": 0.5,
    }
    jinja = ImmutableSandboxedEnvironment(undefined=StrictUndefined).from_string(template)
    assert render_string(template, scope) == jinja.render(scope) == expected


def test_an_expression_evaluated_once_per_set_of_values_still_follows_each_scope() -> None:
    from buildgraph.resolve.templates import render_string

    template = "{{ py | replace('.', '') }}-{{ os | upper }}"
    assert render_string(template, {"py": "3.11", "os": "alpine"}) == "311-ALPINE"
    assert render_string(template, {"py": "3.12", "os": "alpine"}) == "312-ALPINE"
    assert render_string(template, {"py": "3.11", "os": "debian"}) == "311-DEBIAN"


@pytest.mark.parametrize(
    ("source", "reads"),
    [
        (" py | replace('.', '') ", ("py",)),
        (" a ~ b if c is defined else 'x' ", ("a", "b", "c")),
        (" py | random ", None),  # a different value each time
        (" py | upper | random ", None),
        (" lipsum() ", None),
        (" py.upper() ", None),
    ],
)
def test_only_expressions_that_are_functions_of_their_names_are_evaluated_once(
    source: str, reads: tuple[str, ...] | None
) -> None:
    from buildgraph.resolve.templates import _expression

    expression = _expression(source)
    assert expression is not None
    assert expression.reads == reads


# -- compiled tables (buildgraph/compiled.py) ------------------------------------------------

COMPILED = """
[project]
registry = "acme"
[variables]
TAG = "dev"
[target._base]
args = { REGISTRY = "{{ registry }}", PLAIN = "p", WHO = "{{ target }}" }
labels = { "org.title" = "{{ target }}", "{{ registry }}.key" = "{{ TAG }}" }
tags = ["{{ registry }}/x:{{ TAG }}", "{{ registry }}/x:{{ TAG }}", "{{ registry }}/{{ target }}"]
cache-from = [{ type = "registry", ref = "{{ registry }}/{{ target }}:cache" }]
[target.one]
inherits = ["_base"]
[target.many]
inherits = ["_base"]
matrix = { TAG = ["a", "b"] }
name = "many-{{ TAG }}"
"""


def test_compiled_tables_render_like_each_value_rendered_per_target() -> None:
    project = resolve(COMPILED)
    assert attrs(project, "one") == {
        "args": {"REGISTRY": "acme", "PLAIN": "p", "WHO": "one"},
        "labels": {"org.title": "one", "acme.key": "dev"},
        "tags": ["acme/x:dev", "acme/one"],  # duplicates dropped after rendering
        "cache-from": [{"type": "registry", "ref": "acme/one:cache"}],
    }
    # A matrix axis shadowing a variable: the value templates see is the target's own.
    for tag in ("a", "b"):
        got = attrs(project, f"many-{tag}")
        assert got["labels"] == {"org.title": f"many-{tag}", "acme.key": tag}
        assert got["tags"] == [f"acme/x:{tag}", f"acme/many-{tag}"]
        assert got["args"]["WHO"] == f"many-{tag}"


def test_values_the_same_for_every_target_are_shared_not_copied() -> None:
    project = resolve(COMPILED.replace('"{{ registry }}.key" = "{{ TAG }}"', "x = 'y'"))
    one, many = project.targets["one"], project.targets["many-a"]
    assert one.attrs["labels"] is not many.attrs["labels"]  # holds {{ target }}
    assert thaw(many.attrs["labels"]) == {"org.title": "many-a", "x": "y"}
    plain = resolve(
        "[target._p]\nlabels = { a = '{{ TAG }}' }\n[variables]\nTAG = 'v'\n"
        "[target.x]\ninherits = ['_p']\n[target.y]\ninherits = ['_p']\n"
    )
    assert plain.targets["x"].attrs["labels"] is plain.targets["y"].attrs["labels"]


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("args = { A = 'ok', B = '{{ nope }}' }", "args"),
        ("labels = { '{{ nope }}' = 'x' }", "labels"),
        ("tags = ['{{ target }}', '{{ nope }}']", "tags"),
        ("dockerfile = '{{ nope }}'", "dockerfile"),
        ("cache-from = [{ ref = '{{ nope }}' }]", "cache-from"),
        ("tags = ['{{ ().__class__ }}']", "tags"),
    ],
)
def test_a_template_error_inside_a_compiled_table_names_target_and_key(
    value: str, key: str
) -> None:
    toml = f"[target._p]\n{value}\n[target.app]\ninherits = ['_p']\n"
    toml += "matrix = { v = ['1', '2'] }\nname = 'app-{{ v }}'\n"
    with pytest.raises(ConfigError) as info:
        resolve(toml)
    problems = info.value.problems
    assert len(problems) == 1  # once for the table, not once per concrete target
    assert all((p.target, p.key) == ("app", key) for p in problems)
    assert "undefined" in str(problems[0]) or "sandbox" in str(problems[0])


@given(st.text(alphabet="{} ab-%#", max_size=14))
def test_substitution_of_any_braces_agrees_with_jinja(text: str) -> None:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from buildgraph.resolve.template_values import TemplateProblem
    from buildgraph.resolve.templates import render_string

    scope = {"a": "1", "ab": "2", "b": "3"}
    try:
        expected = (
            ImmutableSandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True)
            .from_string(text)
            .render(scope)
        )
    except Exception:
        with pytest.raises(TemplateProblem):
            render_string(text, scope)
        return
    assert render_string(text, scope) == expected


def test_depends_on_an_abstract_target_says_it_is_abstract() -> None:
    with pytest.raises(ConfigError) as info:
        resolve('[target._base]\ncontext = "."\n[target.app]\ndepends_on = ["_base"]\n')
    (problem,) = info.value.problems
    assert problem.message == "depends_on names abstract target '_base'"
    assert (problem.target, problem.key) == ("app", "depends_on")
    assert "never built" in (problem.hint or "")


def test_a_matrix_tables_problem_is_reported_once_not_once_per_combination() -> None:
    with pytest.raises(ConfigError) as info:
        resolve("""
[target.api]
matrix = { a = ["1", "2", "3"], b = ["x", "y"] }
name = "api-{{ a }}-{{ b }}"
platforms = ["bad platform {{ a }}"]
[target.web]
matrix = { a = ["1", "2", "3"] }
name = "web-{{ a }}"
tags = ["{{ nope }}"]
""")
    problems = info.value.problems
    assert [(p.target, p.key) for p in problems] == [("api", "platforms"), ("web", "tags")]


def test_a_matrix_larger_than_the_limit_names_the_table_and_the_limit() -> None:
    axes = ", ".join(
        f'a{i} = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]' for i in range(10)
    )
    names = "-".join(f"{{{{ a{i} }}}}" for i in range(10))
    with pytest.raises(ConfigError) as info:
        resolve(f'[target.big]\nmatrix = {{ {axes} }}\nname = "big-{names}"\n')
    (problem,) = info.value.problems
    assert (problem.target, problem.key) == ("big", "matrix")
    assert "at most 10,000 combinations" in (problem.hint or "")


def test_a_cycle_of_groups_is_refused_naming_it() -> None:
    text = (
        "[target.a]\ncontext = '.'\n"
        "[group.g1]\ntargets = ['a', 'g2']\n[group.g2]\ntargets = ['g1']\n"
        "[group.self]\ntargets = ['self']\n"
    )
    with pytest.raises(ConfigError) as caught:
        resolve_project(parse_document(text, Path("/p/buildgraph.toml")))
    message = str(caught.value)
    assert "group cycle through 2 group(s): g1 -> g2 -> g1" in message
    assert "group cycle through 1 group(s): self -> self" in message


def test_groups_nested_thousands_deep_without_a_cycle_resolve() -> None:
    depth = 5000
    text = "[target.a]\ncontext = '.'\n[group.g0]\ntargets = ['a']\n" + "".join(
        f"[group.g{i}]\ntargets = ['g{i - 1}']\n" for i in range(1, depth)
    )
    project = resolve_project(parse_document(text, Path("/p/buildgraph.toml")))
    assert len(project.groups) == depth


def test_a_long_group_cycle_is_said_by_its_ends() -> None:
    depth = 3000
    text = "".join(f"[group.g{i}]\ntargets = ['g{(i + 1) % depth}']\n" for i in range(depth))
    with pytest.raises(ConfigError) as caught:
        resolve_project(parse_document("[target.a]\ncontext = '.'\n" + text, Path("/p/x.toml")))
    message = str(caught.value)
    assert f"through {depth} group(s): g0 -> g1 -> g2 -> g3 -> g4 -> ..." in message
    assert len(message) < 500


def test_an_empty_entry_is_no_entry_as_in_bake() -> None:
    # bake skips "" in every entry list; `output = [""]` exports nothing of its own.
    project = resolve("""
[target.a]
output = [""]
cache-to = ["", "type=inline"]
cache-from = ["type=registry,ref=example.test/cache", ""]
secret = [""]
[target.b]
output = ["type=local,dest=out"]
""")
    assert attrs(project, "a") == {
        "output": [],
        "cache-to": ["type=inline"],
        "cache-from": ["type=registry,ref=example.test/cache"],
        "secret": [],
    }
    assert project.targets["a"].outputs == ()
    assert project.targets["b"].outputs == ("type=local,dest=out",)


def test_a_matrix_of_one_combination_needs_no_name(tmp_path: Path) -> None:
    """As in bake: the target keeps the table's name, and no group is made of it."""
    (tmp_path / "buildgraph.toml").write_text(
        '[target.app]\ndockerfile-inline = "FROM scratch"\n'
        'matrix = { v = ["1"] }\nargs = { V = "{{ v }}", T = "{{ target }}" }\n'
    )
    from buildgraph.plan.load import load

    project = load(tmp_path / "buildgraph.toml", {}, environ={}).project
    assert list(project.targets) == ["app"] and "app" not in project.groups
    assert project.targets["app"].args == {"V": "1", "T": "app"}


def test_inherits_and_group_members_may_be_templates_of_the_variables(tmp_path: Path) -> None:
    from buildgraph.plan.load import load

    (tmp_path / "buildgraph.toml").write_text(
        '[variables]\nFLAVOUR = "slim"\nEXTRA = ""\n'
        '[target._slim]\nargs = { SIZE = "small" }\n'
        '[target._full]\nargs = { SIZE = "large" }\n'
        '[target.app]\ndockerfile-inline = "FROM scratch"\ninherits = ["_{{ FLAVOUR }}"]\n'
        '[group.default]\ntargets = ["app", "{{ EXTRA }}"]\n'
    )
    slim = load(tmp_path / "buildgraph.toml", {}, environ={}).project
    assert slim.targets["app"].args == {"SIZE": "small"}
    assert slim.groups["default"].targets == ("app",)  # one rendered empty is none
    full = load(tmp_path / "buildgraph.toml", {"FLAVOUR": "full"}, environ={}).project
    assert full.targets["app"].args == {"SIZE": "large"}
    with pytest.raises(ConfigError, match="inherits"):
        load(tmp_path / "buildgraph.toml", {"FLAVOUR": "none"}, environ={})


@pytest.mark.parametrize(
    ("kind", "expected_from", "expected_to"),
    [
        (
            "registry",
            "type=registry,ref=127.0.0.1:5000/x/app:buildcache",
            "type=registry,ref=127.0.0.1:5000/x/app:buildcache,mode=max",
        ),
        ("gha", "type=gha,scope=app", "type=gha,scope=app,mode=max"),
    ],
)
def test_project_cache_gives_each_tagged_target_its_cache(
    tmp_path: Path, kind: str, expected_from: str, expected_to: str
) -> None:
    toml = f"""
[project]
cache = "{kind}"
[target.app]
tags = ["127.0.0.1:5000/x/app:1"]
[target.own]
tags = ["127.0.0.1:5000/x/own:1"]
cache-from = ["type=local,src=c"]
[target.untagged]
"""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "buildgraph.toml").write_text(toml)
    from buildgraph.plan.load import load

    targets = load(tmp_path / "buildgraph.toml", {}, environ={}).project.targets
    assert targets["app"].attrs["cache-from"] == (expected_from,)
    assert targets["app"].attrs["cache-to"] == (expected_to,)
    assert targets["own"].attrs["cache-from"] == ("type=local,src=c",)
    assert "cache-to" not in targets["own"].attrs  # a target that says how it caches
    if kind == "registry":
        assert "cache-from" not in targets["untagged"].attrs
