"""What changed and what it touches: the input index, watch mode, affected targets."""
