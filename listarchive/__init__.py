"""Application layer: the command-line interface."""
