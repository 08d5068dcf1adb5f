"""pep582-toolkit: PEP 582 ``__pypackages__`` as a spec, a startup hook and a converter."""

from __future__ import annotations

import sys
from typing import Any

__version__ = "0.1.0"

# For the dataclasses made once per file of a tree (100,000 in a large one): no
# per-instance __dict__ where Python has ``slots=`` (3.10+).
SLOTS: dict[str, Any] = {"slots": True} if sys.version_info >= (3, 10) else {}
