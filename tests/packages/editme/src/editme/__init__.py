"""Installed in editable mode by the tests."""


def main() -> None:
    print("editme from", __file__)
