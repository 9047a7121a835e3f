"""`--since` and `--shard` on plan, render and build: the selection `affected` computes,
narrowed to the names; N shards that add up to the whole selection, each target once."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from buildgraph.cli.main import main
from tests.conftest import EXAMPLES


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "monorepo"
    shutil.copytree(
        EXAMPLES / "monorepo", project, ignore=shutil.ignore_patterns(".buildgraph", "rootfs")
    )
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "start")
    monkeypatch.chdir(project)
    monkeypatch.delenv("ACME_TAG", raising=False)
    return project


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def requested(document: dict[str, Any]) -> list[str]:
    return [t["name"] for wave in document["waves"] for t in wave if t["requested"]]


def planned(document: dict[str, Any]) -> list[str]:
    return [t["name"] for wave in document["waves"] for t in wave]


def affected_names(capsys: pytest.CaptureFixture[str], *names: str) -> list[str]:
    found = run_json(capsys, "affected", "--since", "main", "--format", "json", *names)
    return [t["name"] for t in found["targets"]]


def expanded(capsys: pytest.CaptureFixture[str], *names: str) -> list[str]:
    return requested(run_json(capsys, "plan", "--format", "json", *names))


CHANGES = {
    "nothing": {},
    "runtime": {"images/runtime/entrypoint.sh": "#!/bin/sh\necho changed\n"},
    "base": {"images/base/Dockerfile": "FROM scratch\n"},
    "shared lib": {"libs/shared/new.txt": "untracked, used by worker\n"},
    "web": {"services/web/index.html": "<p>changed</p>\n"},
}


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("names", [(), ("ci",), ("worker", "migrate")])
def test_since_selects_what_affected_lists_among_the_names(
    repo: Path, capsys: pytest.CaptureFixture[str], change: str, names: tuple[str, ...]
) -> None:
    for path, text in CHANGES[change].items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    plan = run_json(capsys, "plan", "--since", "main", "--format", "json", *names)
    reached = set(affected_names(capsys, *names))
    assert requested(plan) == [n for n in expanded(capsys, *names) if n in reached]
    assert plan["selection"]["since"] == "main"
    assert plan["selection"]["affected"] == affected_names(capsys, *names)


def test_since_plans_the_dependencies_of_what_it_selects(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "images/runtime/entrypoint.sh").write_text("#!/bin/sh\necho changed\n")
    plan = run_json(capsys, "plan", "--since", "main", "--format", "json")
    assert requested(plan) == ["worker"]
    by_name = {t["name"]: t for wave in plan["waves"] for t in wave}
    assert by_name["runtime"]["outputs"] == ["type=cacheonly"]  # built for worker only
    assert by_name["runtime"]["reason"] == "needed by worker"
    assert set(by_name) == {"base", "runtime", "worker"}
    # a narrowed plan's targets carry their fingerprints as any plan's do
    assert all(t["fingerprint"].startswith("sha256:") for t in by_name.values())


def test_nothing_affected_plans_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert planned(run_json(capsys, "plan", "--since", "main", "--format", "json")) == []
    assert main(["plan", "--since", "main"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("since main: 0 target(s) affected\n0 target(s) in 0 wave(s)")
    assert main(["render", "--since", "main"]) == 0
    assert json.loads(capsys.readouterr().out).get("target", {}) == {}


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_add_up_to_the_selection_each_target_once(
    repo: Path, capsys: pytest.CaptureFixture[str], count: int
) -> None:
    whole = expanded(capsys, "ci")
    shares = [
        run_json(capsys, "plan", "--shard", f"{k}/{count}", "--format", "json", "ci")
        for k in range(1, count + 1)
    ]
    held = [name for share in shares for name in requested(share)]
    assert sorted(held) == sorted(whole)
    for k, share in enumerate(shares, start=1):
        shard = share["selection"]["shard"]
        assert (shard["index"], shard["count"]) == (k, count)
        assert sorted(shard["targets"]) == sorted(requested(share))
        assert shard["selected"] == len(whole)


def test_plan_text_says_which_shard_and_what_it_holds(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--shard", "2/2", "ci"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "shard 2/2: 1 of 7 selected target(s), in 1 family: migrate"


def test_render_writes_only_the_shards_share(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bake = run_json(capsys, "render", "--shard", "2/2", "ci")
    assert set(bake["target"]) == {"base", "migrate"}  # base: migrate's FROM


def test_since_and_shard_together_shard_the_affected(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "images/base/Dockerfile").write_text("FROM scratch\n")
    reached = set(affected_names(capsys, "ci"))
    shares = [
        requested(
            run_json(
                capsys, "plan", "--since", "main", "--shard", f"{k}/2", "--format", "json", "ci"
            )
        )
        for k in (1, 2)
    ]
    assert sorted(shares[0] + shares[1]) == sorted(
        n for n in expanded(capsys, "ci") if n in reached
    )


@pytest.mark.parametrize("command", ["plan", "render", "build"])
@pytest.mark.parametrize("bad", ["0/2", "3/2", "two", "1/0"])
def test_a_bad_shard_exits_2_with_a_hint_before_reading_anything(
    command: str, bad: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main([command, "-f", str(tmp_path / "missing.toml"), "--shard", bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"buildgraph: --shard {bad!r}")
    assert "hint: give K/N" in err


def test_an_unknown_since_ref_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--since", "no-such-ref"]) == 2
    assert "is not a commit git knows" in capsys.readouterr().err


def imports_networkx(cwd: Path, *argv: str) -> bool:
    code = (
        "import sys\n"
        "from buildgraph.cli.main import main\n"
        f"assert main({list(argv)!r}) == 0\n"
        "print('networkx' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout.split()[-1] == "True"


def test_networkx_is_imported_for_shard_only(repo: Path) -> None:
    assert not imports_networkx(repo, "plan", "--since", "main")
    assert not imports_networkx(repo, "render", "--since", "main", "-o", "bake.json")
    assert imports_networkx(repo, "plan", "--shard", "1/2")  # the check can see it
