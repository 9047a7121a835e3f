"""The project file: finding it, reading it, its schema and validation."""
