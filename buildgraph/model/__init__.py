"""The resolved project: targets, groups and the values they hold (pure data)."""
