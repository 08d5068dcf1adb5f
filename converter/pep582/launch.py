"""Run one program under the PEP 582 rules in any interpreter, without enabling the hook.

Executed as a file by the target interpreter (``pep582 run`` and ``pep582 where`` use it),
so like ``startup`` it imports only the standard library and loads ``startup.py`` by path.

    python launch.py run (SCRIPT | -m MODULE | -c CODE) [ARGS...]
    python launch.py describe ARGV0      # prints the decision as JSON
"""

from __future__ import annotations

import importlib.util
import json
import os
import runpy
import sys
import types
from typing import Any

HERE = os.path.dirname(os.path.realpath(__file__))


def _load_startup() -> Any:
    spec = importlib.util.spec_from_file_location(
        "_pep582_startup_launch", os.path.join(HERE, "startup.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(args: list[str]) -> None:
    step = _load_startup()
    # Python put this file's directory first; the program's own entry replaces it.
    if sys.path and os.path.realpath(sys.path[0] or os.curdir) == HERE:
        del sys.path[0]
    safe_path = bool(getattr(sys.flags, "safe_path", False) or sys.flags.isolated)
    if args[0] in ("-c", "-m"):
        if len(args) < 2:
            sys.exit(f"pep582 run: {args[0]} needs an argument")
        option, target, rest = args[0], args[1], args[2:]
        if not safe_path:
            sys.path.insert(0, "" if option == "-c" else os.getcwd())
        step.activate(option)
        if option == "-m":
            sys.argv = [option, *rest]
            runpy.run_module(target, run_name="__main__", alter_sys=True)
            return
        sys.argv = ["-c", *rest]
        main = types.ModuleType("__main__")
        main.__dict__["__builtins__"] = __builtins__
        sys.modules["__main__"] = main
        exec(compile(target, "<string>", "exec"), main.__dict__)
        return
    script = args[0]
    sys.argv = list(args)
    is_file = os.path.isfile(script) and not step._is_zip(script)
    if is_file and not safe_path:
        sys.path.insert(0, os.path.dirname(os.path.realpath(script)))
    step.activate(script)
    runpy.run_path(script, run_name="__main__")


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] not in ("run", "describe"):
        sys.exit(__doc__)
    if sys.argv[1] == "describe":
        print(json.dumps(_load_startup().describe(sys.argv[2]).as_dict()))
        return
    _run(sys.argv[2:])


if __name__ == "__main__":
    main()
