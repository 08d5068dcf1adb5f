"""Shouts a message; greet signs it."""

import greet


def shout(message: str) -> str:
    return greet.sign(message.upper() + "!")
