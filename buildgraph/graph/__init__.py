"""The dependency graph of the targets, and selecting from it."""
