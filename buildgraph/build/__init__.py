"""`buildgraph build`: up-to-date checks and the order of the build's steps."""
