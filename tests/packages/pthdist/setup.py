"""Ships pthdist.pth and pthdist_extra/ at the top of site-packages."""

import os

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithPth(build_py):
    def run(self) -> None:
        super().run()
        self.copy_file("pthdist.pth", os.path.join(self.build_lib, "pthdist.pth"))
        extra = os.path.join(self.build_lib, "pthdist_extra")
        self.mkpath(extra)
        self.copy_file("pthdist_extra/extra_mod.py", os.path.join(extra, "extra_mod.py"))


setup(cmdclass={"build_py": BuildWithPth})
