"""The only place buildgraph starts processes: probing the engine and running builds.

- process: every process started (`Running`, the `ProcessStarter` runners are handed,
  short captured commands); the only module that imports subprocess.
- probe, git: what docker, buildx, the kernel and git say.
- execute: `run_plan`, which picks one of the three ways of running:
  bake (bake runs, and the bake started before planning), per_target (`--via commands`),
  split (`--split-platforms`).
- scheduler: when each build of per_target and split starts, and what a failure skips.
- options (what a run is asked; Stop, Interrupted), results (each target's result, and
  the events), buildx_results and bake_log (what buildx's files and logs say).
"""
