"""Installing from indexes and locks: what to install, resolved and fetched, and wheels
unpacked once into a cache.

Requirements go to a resolver unparsed (:mod:`.resolver` chooses :mod:`.pip` or
:mod:`.uv`; ``pyproject.toml`` tables are read by :mod:`.requirements`), each chosen
distribution becoming an :mod:`.artifacts` entry; PEP 751 locks are selected for the
target (:mod:`.pylock`), and other tools' locks converted where a tool can
(:mod:`.lockfiles`); the project itself is built by pip (:mod:`.editable`); every local
file a request names is judged before any resolver reads it (:mod:`.inputs`,
:mod:`.localfiles`); wheels are checked against their RECORD while unpacked into the
content-addressed :mod:`.wheelcache`, from which the planner carries them like any
installed environment.

May import: ``errors``, ``fs``, ``proc``, ``interpreter``, ``scheme``, ``sources``,
``step.startup``; not ``plan`` (``pep582.operations`` joins the two).
"""
