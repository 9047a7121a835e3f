"""The plan: what is built, in which waves and bake runs, and what becomes of each result."""
