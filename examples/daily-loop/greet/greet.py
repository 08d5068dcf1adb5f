"""Signs a message with this distribution's installed version (read from its metadata)."""

from importlib.metadata import version


def sign(message: str) -> str:
    return f"{message} (greet {version('greet')})"
