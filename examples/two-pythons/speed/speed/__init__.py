"""A package with a compiled extension: each Python needs a build of its own."""

import sys

from speed._speed import built_for


def main() -> None:
    running = "{}.{}".format(*sys.version_info[:2])
    print("speed on", running, "with", built_for(), "from", __file__)
