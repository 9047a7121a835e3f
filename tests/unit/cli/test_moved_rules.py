"""The rules the commands' `run` leave to their layers: doctor's exit code, affected's
JSON document."""

from __future__ import annotations

from buildgraph.changes.affected import Affected, affected_document
from buildgraph.errors import EXIT_ENVIRONMENT, EXIT_OK
from buildgraph.preflight.doctor import Check, exit_code


def test_doctor_exits_3_only_for_a_failed_blocking_check() -> None:
    passed = Check("docker CLI", True, "/usr/bin/docker")
    warning = Check("emulation", False, "slow", blocking=False)
    failed = Check("buildx plugin", False, "missing", "install it")
    assert exit_code([]) == EXIT_OK
    assert exit_code([passed, warning]) == EXIT_OK
    assert exit_code([passed, warning, failed]) == EXIT_ENVIRONMENT


def test_affected_document_keeps_the_order_and_the_ref() -> None:
    found = [Affected("base", "changed: base/Dockerfile"), Affected("app", "depends on base")]
    assert affected_document("main", found) == {
        "since": "main",
        "targets": [
            {"name": "base", "reason": "changed: base/Dockerfile"},
            {"name": "app", "reason": "depends on base"},
        ],
    }
    assert affected_document("HEAD~1", []) == {"since": "HEAD~1", "targets": []}
