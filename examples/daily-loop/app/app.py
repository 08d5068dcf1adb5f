"""The project's program: it uses loud, which uses greet."""

import loud

print(loud.shout("hello"))
