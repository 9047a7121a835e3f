"""What build and watch tell people and programs as they go: events, style, summary."""
