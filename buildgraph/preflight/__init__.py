"""What the builder offers and what a plan needs of it: facts, gaps, doctor."""
