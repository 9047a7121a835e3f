"""Compiled schema validators: see buildgraph/schema.py."""
