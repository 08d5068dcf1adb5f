"""The project being worked on: installed editable, so src/ is what runs."""

import tally

TEXT = "the notes of the day and the words of the night"


def main() -> None:
    print("notes from", __file__)
    print(tally.summary(TEXT))
