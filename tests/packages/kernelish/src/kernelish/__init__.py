"""A stand-in for jupyter_core: finds kernels the way jupyter_core.paths.jupyter_path()
looks for data (JUPYTER_PATH entries first, then sys.prefix/share/jupyter), and starts a
"kernel" the way Jupyter does: sys.executable -m MODULE, from another directory."""

import json
import os
import subprocess
import sys


def jupyter_path(*subdirs):
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    paths.append(os.path.join(sys.prefix, "share", "jupyter"))
    return [os.path.join(p, *subdirs) for p in paths]


def kernels():
    found = {}
    for place in jupyter_path("kernels"):
        if os.path.isdir(place):
            for name in sorted(os.listdir(place)):
                found.setdefault(name, os.path.join(place, name, "kernel.json"))
    return found


def main():
    names = kernels()
    print("kernels:", ", ".join(sorted(names)) or "none")
    child = subprocess.run(
        [sys.executable, "-c", "import kernelish; print('child sees', kernelish.__file__)"],
        cwd="/",
        capture_output=True,
        text=True,
    )
    print(child.stdout.strip() or "child failed: " + child.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
