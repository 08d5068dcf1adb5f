"""Has an extra and dependencies behind markers."""
