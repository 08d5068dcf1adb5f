"""Counts words, leaving out stop words listed in a data file the wheel installs."""

import sys
from collections import Counter
from pathlib import Path

# A wheel's data files go to the installation prefix: a venv's root, or __pypackages__,
# which has the same layout below it (lib/pythonX.Y/site-packages/tally.py).
STOP_WORDS = Path(__file__).resolve().parents[3] / "share" / "tally" / "stopwords.txt"


def summary(text: str) -> str:
    stop = set(STOP_WORDS.read_text().split())
    counts = Counter(word for word in text.lower().split() if word not in stop)
    return ", ".join(f"{word} {n}" for word, n in counts.most_common())


def main() -> None:
    print(summary(" ".join(sys.argv[1:])))
    print("stop words from", STOP_WORDS)
