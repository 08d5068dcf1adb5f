"""The app's script: importing marker prints which __pypackages__ it came from."""

import marker  # noqa: F401
