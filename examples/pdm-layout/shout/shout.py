"""A console script that shouts its arguments, and says where it lives."""

import sys


def main() -> None:
    print(" ".join(sys.argv[1:]).upper(), "from", __file__)
