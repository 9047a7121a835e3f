"""The live page of `buildgraph build --ui` and `buildgraph watch --ui`: the plan's graph as
Graphviz drew it, each target coloured by where it stands, its log, its steps and timings,
and in watch mode a button that rebuilds it.

`server.UiServer` serves the page on the loopback interface, under a random token, from a
`report.board.Board` the run's events keep current; the page itself is the static files of
`assets/` (no network needed, nothing loaded from elsewhere). See docs/ui.md.

Nothing here is imported by a run without `--ui`.
"""
