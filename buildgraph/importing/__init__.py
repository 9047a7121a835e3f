"""`buildgraph import`: bake files (HCL, JSON) and Compose files translated into a
buildgraph.toml that resolves as bake resolves them, with a report of every decision.

`hcl_source` reads HCL and bake JSON into a small model with lines (`syntax`),
`expressions` translates an HCL expression or template to Jinja, `bake_import` turns
blocks into buildgraph tables, `compose_import` does the same for Compose services,
`toml_writer` writes the result, `report` says what was decided.
"""
