"""A tiny library the quickstart installs into a venv and then migrates."""


def greeting(name: str = "world") -> str:
    return f"hello, {name}"


def main() -> None:
    print(greeting(), "from", __file__)
