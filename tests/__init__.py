"""gilbench tests."""
