"""The JSON Schema of buildgraph.toml, built from the attribute table.

`schema/buildgraph.schema.json` is this schema written out (a test keeps them equal), so
editors get completion and `validate` checks exactly what the docs promise.
"""

from __future__ import annotations

import json
from typing import Any

from buildgraph.model.names import TARGET_NAME_PATTERN, VARIABLE_NAME_PATTERN
from buildgraph.projectfile.attributes import BAKE_ATTRIBUTES

# The types a variable may declare: how a value from the environment or --var is read.
VARIABLE_TYPES = ("string", "number", "bool", "list", "map")

SCHEMA_ID = "https://buildgraph.dev/schema/buildgraph.schema.json"

# One whole `{{ expression }}` (nothing around it, no whitespace control): a value, not text,
# which a list, table or boolean attribute may be (resolve/attribute_values.py).
WHOLE_EXPRESSION_PATTERN = r"^\{\{(?![-+])((?!\{\{|\}\})[\s\S])+(?<![-+])\}\}$"

# os/arch[/variant], as BuildKit names platforms (linux/amd64, linux/arm/v7).
PLATFORM_PATTERN = r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9.]+)?$"
# A CI runner's label (ubuntu-24.04-arm, self-hosted, ARM64): plain text, so that it can
# never carry a CI expression, a quote or a line into the workflow written with it.
RUNNER_LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_RUNNER_LABEL = {"type": "string", "pattern": RUNNER_LABEL_PATTERN}


def or_expression(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or one whole `{{ expression }}` yielding such a value."""
    if schema.get("type") == "string":
        return schema  # every string is a template already
    # One schema of two types rather than anyOf or if/then/else: `pattern` applies to
    # strings only, `items` to lists, so a wrong value is still explained precisely, and
    # the compiled validator checks it without raising (if/then/else raised, and caught,
    # an exception per attribute: four times the time of validating a large project).
    return {**schema, "type": [schema["type"], "string"], "pattern": WHOLE_EXPRESSION_PATTERN}


def _variable_schema() -> dict[str, Any]:
    scalar = {"type": ["string", "integer", "number", "boolean"]}
    return {
        "anyOf": [
            scalar,
            {
                "type": "object",
                "properties": {
                    "default": {
                        "type": ["string", "integer", "number", "boolean", "array", "object"],
                        "description": "The value when nothing overrides it.",
                    },
                    "type": {
                        "enum": list(VARIABLE_TYPES),
                        "description": "How a value from the environment or --var is read "
                        "(default: the default's type).",
                    },
                    "description": {"type": "string"},
                    "env": {"type": "string", "pattern": VARIABLE_NAME_PATTERN},
                    "validation": {
                        "type": "array",
                        "description": "Conditions the value must meet, checked first.",
                        "items": {
                            "type": "object",
                            "properties": {
                                "condition": {"type": "string"},
                                "message": {"type": "string"},
                            },
                            "required": ["condition", "message"],
                            "additionalProperties": False,
                        },
                    },
                },
                "additionalProperties": False,
            },
        ]
    }


def _function_schema() -> dict[str, Any]:
    name = {"type": "string", "pattern": VARIABLE_NAME_PATTERN}
    return {
        "type": "object",
        "description": "A function every template can call, as bake's function blocks.",
        "properties": {
            "params": {
                "type": "array",
                "items": name,
                "uniqueItems": True,
                "description": "Its parameters, in order.",
            },
            "variadic": {**name, "description": "The list of any further arguments."},
            "result": {
                "type": "string",
                "description": "A template of the parameters, the variables and the other "
                "functions; one whole {{ expression }} gives its value.",
            },
            "description": {"type": "string"},
        },
        "required": ["result"],
        "additionalProperties": False,
    }


def _target_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {
        a.name: {**or_expression(a.schema), "description": a.description} for a in BAKE_ATTRIBUTES
    }
    # A value, or a table of values (item = [{ name = "a", version = "1" }], read as
    # item.name): no deeper, so that a matrix is always a few levels of plain data.
    scalar = ["string", "integer", "number", "boolean"]
    matrix_value = {"type": [*scalar, "object"], "additionalProperties": {"type": scalar}}
    properties.update(
        {
            "inherits": {
                **or_expression({"type": "array", "items": {"type": "string"}}),
                "description": "Targets whose attributes this one starts from, in order.",
            },
            "depends_on": {
                **or_expression({"type": "array", "items": {"type": "string"}}),
                "description": "Targets or groups that must be built first.",
            },
            "matrix": {
                **or_expression(
                    {
                        "type": "object",
                        "additionalProperties": or_expression(
                            {"type": "array", "items": matrix_value, "minItems": 1}
                        ),
                    }
                ),
                "description": "Axis -> values; one target per combination.",
            },
            "matrix-include": {
                "type": "array",
                "items": {"type": "object", "additionalProperties": matrix_value},
                "description": "Combinations added to the matrix product.",
            },
            "matrix-exclude": {
                "type": "array",
                "items": {"type": "object", "additionalProperties": matrix_value},
                "description": "Combinations removed from the matrix product.",
            },
            "name": {
                "type": "string",
                "description": "Template naming each matrix combination.",
            },
            "watch": {
                "type": "object",
                "properties": {
                    "paths": {"type": "array", "items": {"type": "string"}},
                    "ignore": {"type": "array", "items": {"type": "string"}},
                },
                "additionalProperties": False,
                "description": "Extra inputs of this target and globs to ignore in watch mode.",
            },
        }
    )
    return {"type": "object", "properties": properties, "additionalProperties": False}


def project_schema() -> dict[str, Any]:
    """The JSON Schema of a buildgraph.toml document (draft-07: editors support it widely)."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "buildgraph.toml",
        "type": "object",
        "properties": {
            "project": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "platforms": {"type": "array", "items": {"type": "string"}},
                    "registry": {"type": "string"},
                    "cache": {
                        "enum": ["registry", "gha", "none"],
                        "description": "The build cache every tagged target without its own "
                        "cache-from/cache-to reads and writes: <repo>:buildcache in the "
                        "registry, or GitHub Actions' cache; none by default.",
                    },
                    "builders": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "platform -> buildx builder, for --split-platforms.",
                    },
                    "runners": {
                        "type": "object",
                        "propertyNames": {"pattern": PLATFORM_PATTERN},
                        "additionalProperties": {
                            "oneOf": [
                                _RUNNER_LABEL,
                                {"type": "array", "items": _RUNNER_LABEL, "minItems": 1},
                            ]
                        },
                        "description": "platform -> the CI runner label(s) native to it, "
                        'for `buildgraph ci` (e.g. "linux/arm64" = "ubuntu-24.04-arm").',
                    },
                },
                "additionalProperties": False,
            },
            "variables": {
                "type": "object",
                "propertyNames": {"pattern": VARIABLE_NAME_PATTERN},
                "additionalProperties": {"$ref": "#/definitions/variable"},
            },
            "functions": {
                "type": "object",
                "propertyNames": {"pattern": VARIABLE_NAME_PATTERN},
                "additionalProperties": {"$ref": "#/definitions/function"},
            },
            "target": {
                "type": "object",
                "propertyNames": {"pattern": TARGET_NAME_PATTERN},
                "additionalProperties": {"$ref": "#/definitions/target"},
            },
            "group": {
                "type": "object",
                "propertyNames": {"pattern": TARGET_NAME_PATTERN},
                "additionalProperties": {"$ref": "#/definitions/group"},
            },
        },
        "additionalProperties": False,
        "definitions": {
            "variable": _variable_schema(),
            "function": _function_schema(),
            "target": _target_schema(),
            "group": {
                "type": "object",
                "properties": {
                    "targets": or_expression({"type": "array", "items": {"type": "string"}}),
                    "description": {"type": "string"},
                },
                "required": ["targets"],
                "additionalProperties": False,
            },
        },
    }


def schema_json() -> str:
    """The schema as the text shipped in schema/buildgraph.schema.json."""
    return json.dumps(project_schema(), indent=2) + "\n"


def validator_schemas() -> dict[str, dict[str, Any]]:
    """The schemas `validate` checks, one per table kind.

    Validation stops at a table's first error, so each target and group table is checked
    on its own (all problems at once), and the document check looks only at the shape of
    the tables, not inside them."""
    schema = project_schema()
    definitions = schema["definitions"]
    properties = schema["properties"]
    shallow = {
        **{k: v for k, v in schema.items() if k != "$id"},  # the $id would name the function
        "properties": {
            **properties,
            "target": {**properties["target"], "additionalProperties": {"type": "object"}},
            "group": {**properties["group"], "additionalProperties": {"type": "object"}},
        },
    }
    return {
        "document": shallow,
        "target": {"definitions": definitions, **definitions["target"]},
        "group": {"definitions": definitions, **definitions["group"]},
    }


GENERATED_HEADER = (
    "# Generated by scripts/generate_validators.py from buildgraph/projectfile/schema.py.\n"
    "# Do not edit. fastjsonschema's compiled validator, shipped so that a run does not spend\n"
    "# ~90 ms compiling it; the generator's version is pinned in the test extra.\n"
    "# ruff: noqa\n"
    "# mypy: ignore-errors\n"
)


def generated_files() -> dict[str, str]:
    """Repository path -> text of every file generated from the schema."""
    import fastjsonschema

    files = {"schema/buildgraph.schema.json": schema_json()}
    for name, schema in validator_schemas().items():
        code = fastjsonschema.compile_to_code(schema)
        # The generator's version line would make the files differ by version alone.
        code = "".join(line for line in code.splitlines(True) if not line.startswith("VERSION ="))
        files[f"buildgraph/projectfile/validators/{name}.py"] = GENERATED_HEADER + code
    files["buildgraph/projectfile/validators/__init__.py"] = (
        '"""Compiled schema validators: see buildgraph/projectfile/schema.py."""\n'
    )
    return files
