"""Orchestration: one function per command, end to end (read, plan inside the project's
lock, execute), returning data the command layer renders.

:mod:`.migrate` carries a venv or a ``__pypackages__``; :mod:`.install` installs from
requirements, projects and locks; :mod:`.uninstall` removes and reads what a tree holds;
:mod:`.run` holds the lock for a plan and executes it; :mod:`.step` answers ``where`` and
prepares ``run``; :mod:`.ide` (with :mod:`.ide_mypy` and :mod:`.editing`) edits editor
and type-checker settings through one directory descriptor.

May import everything below it (``plan``, ``install``, ``sources``, ``step``, ...);
never ``commands``. Nothing here prints.
"""
