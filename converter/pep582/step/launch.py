"""Ask a target interpreter what the PEP 582 step decides, without enabling anything.

Executed as a file by the target interpreter (``pep582 where`` and ``status`` use it), so
like ``startup`` it imports only the standard library and loads ``startup.py`` by path.
It runs isolated (``-I``); what the answer depends on comes on stdin as JSON: the
current directory and the environment variables the step reads::

    python -I launch.py describe ARGV0 < {"cwd": "...", "environ": {...}}

and it prints the decision as JSON.
"""

import importlib.util
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.realpath(__file__))


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] != "describe":
        sys.exit(__doc__)
    spec = importlib.util.spec_from_file_location("_pep582_step", os.path.join(HERE, "startup.py"))
    assert spec is not None and spec.loader is not None
    step = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(step)
    asked = json.loads(sys.stdin.read())
    environ = dict(asked["environ"])
    # The flags of a plain `python ...` in that environment (this process runs with -I).
    flags = types.SimpleNamespace(no_site=0, isolated=0, ignore_environment=0)
    if sys.version_info >= (3, 11):
        flags.safe_path = bool(environ.get("PYTHONSAFEPATH"))
    decision = step.describe(sys.argv[2], asked["cwd"], flags, environ)
    print(json.dumps(decision.as_dict()))


if __name__ == "__main__":
    main()
