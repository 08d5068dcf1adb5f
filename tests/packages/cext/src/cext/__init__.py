"""Package with a compiled part."""
