"""Requirements from a ``pyproject.toml``: dependencies, extras, dependency groups.

A requirements file is never parsed here: it goes to the resolver as ``-r`` (see
:mod:`pep582.install.resolver`), so nested files, constraints, hashes, markers, extras,
URLs, local paths and index options all mean what pip says. ``pyproject.toml`` is read
for ``[project].dependencies``, extras and PEP 735 dependency groups, each entry checked
as a PEP 508 requirement.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_name as canonical

from pep582.errors import SourceError

__all__ = ["pyproject_requirements"]


def _requirements(path: Path, where: str, values: object) -> list[str]:
    """PEP 508 requirement strings from a TOML list, each checked by packaging: anything
    else (an option for pip, a stray table) names the file and the entry."""
    from packaging.requirements import InvalidRequirement, Requirement

    if values is None:
        return []
    if not isinstance(values, list):
        raise SourceError(f"{path}: {where} is not a list of requirements")
    checked = []
    for value in values:
        try:
            checked.append(str(Requirement(str(value))))
        except InvalidRequirement as exc:
            raise SourceError(f"{path}: {where}: {value!r} is not a requirement ({exc})") from exc
    return checked


def pyproject_requirements(
    path: Path, extras: Sequence[str], groups: Sequence[str], with_project: bool
) -> list[str]:
    """pip arguments for a project's ``[project].dependencies``, the chosen optional
    extras and PEP 735 dependency groups, without the project itself unless
    ``with_project``. Groups are resolved by ``packaging.dependency_groups`` (includes
    too) rather than pip's ``--group``, so that every entry is checked as a PEP 508
    requirement before pip sees it, whatever pip's version."""
    from pep582.parse import load_toml

    path = path.absolute()  # the resolver runs elsewhere; "." or a bare name would mislead it
    data = load_toml(path)
    project = data.get("project")
    if not isinstance(project, dict):
        raise SourceError(f"{path}: no [project] table; nothing to install")
    name = project.get("name", path.parent.name)
    optional = project.get("optional-dependencies") or {}
    for extra in extras:
        if canonical(extra) not in {canonical(k) for k in optional}:
            raise SourceError(f"{path}: [project.optional-dependencies] has no extra {extra!r}")
    if with_project:
        spec = f"{path.parent}" + (f"[{','.join(extras)}]" if extras else "")
        arguments = [spec]
    else:
        arguments = _requirements(path, "[project].dependencies", project.get("dependencies"))
        for extra in extras:
            key = next(k for k in optional if canonical(k) == canonical(extra))
            arguments += _requirements(path, f"extra {key}", optional[key])
    if groups:
        declared = data.get("dependency-groups") or {}
        names = {canonical(g): g for g in declared}
        chosen = []
        for group in groups:
            if canonical(group) not in names:
                raise SourceError(f"{path}: [dependency-groups] has no group {group!r}")
            chosen.append(names[canonical(group)])
        from packaging.dependency_groups import resolve_dependency_groups

        try:
            resolved = list(resolve_dependency_groups(declared, *chosen))
        except (ValueError, LookupError, TypeError) as exc:
            raise SourceError(f"{path}: [dependency-groups]: {exc}") from exc
        arguments += _requirements(path, "[dependency-groups]", resolved)
    for argument in arguments:
        if argument.startswith("-"):  # never an option for pip, whatever the file says
            raise SourceError(f"{path}: {argument!r} is not a requirement")
    if not arguments:
        raise SourceError(f"{path}: {name} declares no dependencies to install")
    return arguments
