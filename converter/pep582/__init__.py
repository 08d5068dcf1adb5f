"""pep582-toolkit: PEP 582 ``__pypackages__`` as a spec, a startup hook and a converter."""

from __future__ import annotations

__version__ = "0.1.0"
