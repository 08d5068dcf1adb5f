"""A tiny library with a console script; the quickstart builds its wheel on the fly."""


def greeting(name: str = "world") -> str:
    return f"hello, {name}"


def main() -> None:
    print(greeting(), "from", __file__)
