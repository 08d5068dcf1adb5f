"""The quickstart, end to end and offline: ``python examples/quickstart/demo.py``.

Plays README.rst, this folder's walk-through, checked as the test suite checks it: a
throwaway venv whose interpreter has the PEP 582 hook, a wheel built from ``greet/``,
``pep582-migrate requirements.txt``, then the app and its console script. Each step is
printed with its output; the exit status is 1 if any output differs from the README.
Everything is made in one temporary directory, removed at exit.
"""

from __future__ import annotations

import doctest
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]  # transcript.py, the examples' shared helper

# The flags conf.py gives Sphinx's doctest builder.
FLAGS = (
    doctest.ELLIPSIS
    | doctest.IGNORE_EXCEPTION_DETAIL
    | doctest.DONT_ACCEPT_TRUE_FOR_1
    | doctest.NORMALIZE_WHITESPACE
)


class Player(doctest.DocTestRunner):
    """Prints every step as it passes: the code, then what it printed."""

    def report_success(
        self,
        out: Callable[[str], object],
        test: doctest.DocTest,
        example: doctest.Example,
        got: str,
    ) -> None:
        code = example.source.rstrip("\n").replace("\n", "\n... ")
        out(f">>> {code}\n{got}")


def main() -> int:
    readme = HERE / "README.rst"
    text = readme.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, "quickstart", str(readme), 0)
    result = Player(optionflags=FLAGS).run(test)
    print(f"{result.attempted - result.failed} of {result.attempted} steps as in {readme}")
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
