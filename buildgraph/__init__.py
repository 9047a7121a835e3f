"""buildgraph: declare the container images of a monorepo once, build them in order."""

__version__ = "0.1.0"
