"""A tiny test package with a console script."""


def main() -> int:
    print(f"hello from {__file__}")
    return 0
