"""``python -m notes``."""

from notes import main

main()
