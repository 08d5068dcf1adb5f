"""The quickstart's app: it needs greet, which its requirements.txt names."""

import greet

print(greet.greeting("__pypackages__"))
print("greet comes from", greet.__file__)
