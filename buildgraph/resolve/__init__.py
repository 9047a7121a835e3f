"""From the parsed file to the resolved model: variables, templates, inheritance, matrices."""
