"""Ask a target interpreter what the PEP 582 step decides, without enabling anything.

Executed as a file by the target interpreter (``pep582 where`` and ``status`` use it), so
like ``startup`` it imports only the standard library and loads ``startup.py`` by path:

    python launch.py describe ARGV0      # prints the decision as JSON
"""

import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] != "describe":
        sys.exit(__doc__)
    spec = importlib.util.spec_from_file_location("_pep582_step", os.path.join(HERE, "startup.py"))
    assert spec is not None and spec.loader is not None
    step = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(step)
    print(json.dumps(step.describe(sys.argv[2]).as_dict()))


if __name__ == "__main__":
    main()
