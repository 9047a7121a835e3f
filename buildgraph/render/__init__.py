"""Renderers: one module per output format, each a pure function of a plan.

The formats `render --format` writes are named here, where the CLI can read them without
importing a renderer.
"""

FORMATS = ("bake", "json", "hcl", "sh")  # "json" is "bake": bake's JSON file
