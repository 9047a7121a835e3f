"""The JSON Schema of buildgraph.toml, built from the attribute table.

`schema/buildgraph.schema.json` is this schema written out (a test keeps them equal), so
editors get completion and `validate` checks exactly what the docs promise.
"""

from __future__ import annotations

import json
from typing import Any

from buildgraph.attributes import BAKE_ATTRIBUTES

SCHEMA_ID = "https://buildgraph.dev/schema/buildgraph.schema.json"
NAME_PATTERN = "^[a-zA-Z0-9_-]+$"


def _variable_schema() -> dict[str, Any]:
    scalar = {"type": ["string", "integer", "number", "boolean"]}
    return {
        "anyOf": [
            scalar,
            {
                "type": "object",
                "properties": {
                    "default": scalar,
                    "description": {"type": "string"},
                    "env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                },
                "additionalProperties": False,
            },
        ]
    }


def _target_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {
        a.name: {**a.schema, "description": a.description} for a in BAKE_ATTRIBUTES
    }
    matrix_value = {"type": ["string", "integer", "number", "boolean", "object"]}
    properties.update(
        {
            "inherits": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Targets whose attributes this one starts from, in order.",
            },
            "depends_on": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Targets or groups that must be built first.",
            },
            "matrix": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": matrix_value, "minItems": 1},
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
    """The whole JSON Schema (draft 2020-12) of a buildgraph.toml document."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
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
                    "builders": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "platform -> buildx builder, for --split-platforms.",
                    },
                },
                "additionalProperties": False,
            },
            "variables": {
                "type": "object",
                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "additionalProperties": {"$ref": "#/$defs/variable"},
            },
            "target": {
                "type": "object",
                "propertyNames": {"pattern": NAME_PATTERN},
                "additionalProperties": {"$ref": "#/$defs/target"},
            },
            "group": {
                "type": "object",
                "propertyNames": {"pattern": NAME_PATTERN},
                "additionalProperties": {"$ref": "#/$defs/group"},
            },
        },
        "additionalProperties": False,
        "$defs": {
            "variable": _variable_schema(),
            "target": _target_schema(),
            "group": {
                "type": "object",
                "properties": {
                    "targets": {"type": "array", "items": {"type": "string"}},
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
