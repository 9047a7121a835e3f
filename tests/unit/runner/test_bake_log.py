from __future__ import annotations

from buildgraph.runner.bake_log import attribute_failures, exported_targets, failed_steps

LOG = """\
#21 [base] exporting to image
#21 exporting layers done
#21 DONE 0.3s

#24 [independent] exporting to image
#24 pushing layer 19420a86c141 0.0s done

#22 [after-broken linux/amd64 1/2] RUN echo "fails" && exit 3
#22 ERROR: process "/bin/sh -c echo \\"fails\\" && exit 3" did not complete successfully: exit code: 3
------
 > [after-broken linux/amd64 1/2] RUN echo "fails" && exit 3:
0.577 fails
------
ERROR: failed to solve: process did not complete successfully: exit code: 3
""".splitlines()


def test_exported_targets_are_those_whose_export_finished() -> None:
    assert exported_targets(LOG) == {"base"}


def test_a_shared_failing_step_is_blamed_on_the_target_whose_dockerfile_holds_it() -> None:
    steps = failed_steps(LOG)
    assert steps == [("after-broken", 'RUN echo "fails" && exit 3')]
    dockerfiles = {
        "base": "FROM scratch\n",
        "broken": 'FROM base\nRUN echo "fails" && exit 3\n',
        "after-broken": "FROM broken\nRUN true\n",
    }
    order = ["base", "broken", "after-broken"]
    assert attribute_failures(steps, dockerfiles, order) == {"broken"}
    assert attribute_failures(steps, {}, order) == {"after-broken"}
