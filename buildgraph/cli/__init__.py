"""The `buildgraph` command: one module per subcommand, `main` dispatching."""
