from buildgraph.cli import run

run()
