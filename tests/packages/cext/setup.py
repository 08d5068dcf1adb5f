from setuptools import Extension, setup

setup(ext_modules=[Extension("cext._speed", ["src/cext/_speed.c"])])
