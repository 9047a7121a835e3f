"""The rules for names a project file gives: targets and groups, and variables.

bake's rule for target and group names is [a-zA-Z0-9_-]+; the schema, the resolver, the
error messages and the readers of bake's logs all take it from here.
"""

from __future__ import annotations

import re

TARGET_NAME_CHARACTERS = "[a-zA-Z0-9_-]+"
TARGET_NAME_PATTERN = f"^{TARGET_NAME_CHARACTERS}$"  # JSON Schema's form
TARGET_NAME = re.compile(TARGET_NAME_PATTERN)
TARGET_NAME_RULE = "names may hold only letters, digits, '_' and '-'"

VARIABLE_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$"  # an environment variable's name


def is_target_name(name: str) -> bool:
    return TARGET_NAME.match(name) is not None
