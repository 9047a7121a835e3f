"""Compiled schema validators: see buildgraph/projectfile/schema.py."""
