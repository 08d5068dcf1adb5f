"""Planning and carrying out a change to a ``__pypackages__``.

The existing tree is read once (:mod:`.index`); each source's distributions are planned
into actions (:mod:`.carry`, with :mod:`.editables`, :mod:`.leftovers` and
:mod:`.records`); what goes is decided by :mod:`.removal`; :mod:`.planner` merges it all
into one :class:`~.model.Plan` — plain data that ``--dry-run`` prints and ``--json``
serialises — and chooses how it is published. :mod:`.executor` builds what the plan adds
through directory descriptors, and publishes it as a whole new tree swapped in
(:mod:`.staging`: migrations, ``--replace``, first installs) or, for daily changes, unit by
unit under a journal (:mod:`.journal`); :mod:`.compile` makes byte code. Execution never
decides anything the plan did not say, and never changes the plan (what it finds goes
into the :class:`~.model.Report`).

May import: ``errors``, ``fs``, ``names``, ``proc``, ``scheme``, ``sources``, ``step``.
"""
