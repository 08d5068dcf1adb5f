"""The quickstart's program: it imports greet from ./__pypackages__."""

import greet

print(greet.greeting("__pypackages__"))
print("greet lives in", greet.__file__)
