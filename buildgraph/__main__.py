from buildgraph.cli.main import run

run()
