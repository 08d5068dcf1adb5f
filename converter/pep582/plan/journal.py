"""Daily changes at the cost of the change: stage what a plan adds, then move it into the
live tree under a journal.

Nothing of the rest of the tree is copied, read or judged beyond its top level. The
changes are grouped into *units*, each moved into place with one ``rename`` (or an atomic
exchange): a new top-level package or module, a whole directory whose every file the
plan replaces (an upgraded package), a single file whose directory stays, a removal. So
an interpreter that starts during the change sees each package either old or new, never
half-written. Metadata goes first on the way out and last on the way in.

The transaction lives inside the tree (``__pypackages__/.txn-*``, on the same filesystem,
where no site directory is): ``new/`` holds the staged units, ``old/`` what they replace
and what is removed, and ``journal.json``, written atomically once everything is staged,
lists the moves in order with the inode each staged unit has. A kill before the journal
leaves the old tree (the transaction is deleted by the next run); after it, the next run
finishes the moves (each one is recognised as done by its inode, or by its absence).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pep582 import fs
from pep582.errors import DestinationError
from pep582.fs import Dir, Tree, walk
from pep582.plan.executor import Builder, Progress, site_dirs_in
from pep582.plan.model import FileAction, Plan, Report
from pep582.step import startup
from pep582.step.startup import DIRNAME

TXN_PREFIX = ".txn-"
JOURNAL = "journal.json"
METADATA_SUFFIXES = (".dist-info", ".egg-info", ".egg-link")


@dataclass
class Unit:
    """One entry of the live tree that a single move changes."""

    target: str  # relative to the tree root
    replace: bool  # an existing entry is swapped out (a directory) or renamed over (a file)
    actions: list[tuple[FileAction, str]] = field(default_factory=list)  # (action, place)
    stage: str = ""  # "new/N"


def execute(
    plan: Plan,
    txn: Any,
    report: Report,
    progress: Progress | None,
    cache_root: str | None,
) -> None:
    """Stage ``plan``'s changes, write the journal, move them into the live tree."""
    live = Tree.open(plan.target)
    try:
        present = [d for d in site_dirs_in(plan, Path(live.path)) if os.path.isdir(d)]
        _, refused = startup.judge(live.path, present)
        if refused:
            raise DestinationError(
                f"{plan.target} is refused at startup: {refused}; fix it (pep582 audit) "
                "before changing it"
            )
        work = tempfile.mkdtemp(prefix=TXN_PREFIX, dir=live.path)
        journaled = False
        try:
            with Tree.open(work) as transaction:
                transaction.root.mkdir("new", 0o700)
                transaction.root.mkdir("old", 0o700)
                units, implied, whole = plan_units(plan, live)
                staged = Tree(transaction.dir("new"), os.path.join(work, "new"))
                builder = Builder(plan, staged, report, cache_root)
                done = 0
                for number, unit in enumerate(units):
                    unit.stage = f"new/{number}"
                    for action, place in unit.actions:
                        builder.build(action, f"{number}/{place}" if place else str(number))
                        done += 1
                        if progress is not None and done % 256 == 0:
                            progress(done, len(plan.actions))
                if progress is not None:
                    progress(len(plan.actions), len(plan.actions))
                from pep582.plan.staging import write_hygiene

                write_hygiene(live)
                ops = ordered_ops(plan, units, implied, whole, transaction)
                _write_journal(transaction, ops)
                journaled = True
                try:
                    report.removed += apply(live, transaction, ops)
                except KeyboardInterrupt:
                    # the moves are few and quick: finish them now (a kill leaves the
                    # journal, and the next run finishes them)
                    apply(live, transaction, ops)
                    report.published = True
                    raise
                report.published = True
                prune_after(live, ops, plan)
        except BaseException:
            # Before the journal nothing was moved, after publishing nothing is needed:
            # the stage goes (a failure between the two leaves the journal to finish).
            if not journaled or report.published:
                with contextlib.suppress(OSError):
                    live.root.remove_tree(os.path.basename(work))
            raise
        live.root.remove_tree(os.path.basename(work))
        if plan.compile:
            from pep582.plan.compile import compile_published

            files = [
                os.path.join(live.path, *a.target.split("/"))
                for a in plan.actions
                if a.target.endswith(".py") and a.kind in ("carry", "write")
            ]
            report.compiled = compile_published(plan, files, report)
    finally:
        live.close()


def plan_units(plan: Plan, live: Tree) -> tuple[list[Unit], set[str], list[str]]:
    """Group the plan's actions into units; return them, the removals a replaced
    directory (or a file renamed over, or a directory removed whole) takes care of, and
    the directories removed whole."""
    removed = {r.target for r in plan.removals}
    units: dict[str, Unit] = {}
    exists: dict[str, os.stat_result | None] = {}
    replaced_dirs: dict[str, bool] = {}

    def lstat(relative: str) -> os.stat_result | None:
        if relative not in exists:
            try:
                exists[relative] = live.lstat(relative)
            except (FileNotFoundError, NotADirectoryError):
                exists[relative] = None
        return exists[relative]

    def wholly_removed(relative: str) -> bool:
        """Whether every file below the live directory ``relative`` is removed."""
        if relative not in replaced_dirs:
            if relative in removed:
                replaced_dirs[relative] = True
            elif not any(r.startswith(relative + "/") for r in removed):
                replaced_dirs[relative] = False
            else:
                replaced_dirs[relative] = all(
                    _covered("/".join(p for p in (relative, inner, name) if p), removed)
                    for _, inner, items in walk(live.dir(relative))
                    for name, info in items
                    if not stat.S_ISDIR(info.st_mode)
                )
        return replaced_dirs[relative]

    for action in sorted(plan.actions, key=lambda a: a.target):
        parts = action.target.split("/")
        root = action.target
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            if prefix in units:
                root = prefix
                break
            info = lstat(prefix)
            if info is None or (stat.S_ISDIR(info.st_mode) and wholly_removed(prefix)):
                root = prefix
                break
        unit = units.get(root)
        if unit is None:
            unit = units[root] = Unit(root, replace=lstat(root) is not None)
        unit.actions.append((action, action.target[len(root) + 1 :]))
    implied = {r for r in removed if any(r == u or r.startswith(u + "/") for u in units)}
    # a directory whose every file goes (an uninstalled package) goes in one move
    skeleton = _skeleton(plan)
    whole: set[str] = set()
    for target in removed - implied:
        top = None
        parent = target.rsplit("/", 1)[0] if "/" in target else ""
        while parent and parent not in skeleton and parent not in units:
            info = lstat(parent)
            if info is None or not stat.S_ISDIR(info.st_mode) or not wholly_removed(parent):
                break
            top = parent
            parent = parent.rsplit("/", 1)[0] if "/" in parent else ""
        if top is not None:
            whole.add(top)
    tops = [w for w in sorted(whole) if not _covered(w, whole - {w})]
    for top in tops:
        implied.update(r for r in removed if r.startswith(top + "/"))
    return list(units.values()), implied, tops


def _skeleton(plan: Plan) -> set[str]:
    """The tree's own directories (site, scripts, include, data, and those above them):
    never removed, even when empty."""
    found = {""}
    for scheme in plan.schemes:
        for place in (*scheme.site_dirs, scheme.scripts, scheme.include, scheme.data):
            relative = Path(place).relative_to(plan.target).as_posix().strip(".")
            while relative:
                found.add(relative)
                relative = relative.rsplit("/", 1)[0] if "/" in relative else ""
    return found


def _covered(relative: str, removed: set[str]) -> bool:
    path = relative
    while True:
        if path in removed:
            return True
        if "/" not in path:
            return False
        path = path.rsplit("/", 1)[0]


def _is_metadata(target: str) -> bool:
    return target.endswith(METADATA_SUFFIXES)


def ordered_ops(
    plan: Plan, units: list[Unit], implied: set[str], whole: list[str], transaction: Tree
) -> list[dict[str, Any]]:
    """The moves in the order that keeps a starting interpreter safe: metadata out,
    packages in, the rest out, metadata in. Each staged unit's inode is recorded."""
    places: list[dict[str, Any]] = []
    for unit in units:
        parent, name = transaction.split(unit.stage)
        places.append(
            {
                "op": "place",
                "stage": unit.stage,
                "target": unit.target,
                "replace": unit.replace,
                "ino": parent.lstat(name).st_ino,
            }
        )
    gone = [r.target for r in plan.removals if r.target not in implied] + whole
    removals: list[dict[str, Any]] = [
        {"op": "remove", "target": target, "old": f"old/{number}"}
        for number, target in enumerate(gone)
    ]
    for number, place in enumerate(places):
        place["old"] = f"old/p{number}"
    return [
        *[r for r in removals if _is_metadata(r["target"])],
        *[p for p in places if not _is_metadata(p["target"])],
        *[r for r in removals if not _is_metadata(r["target"])],
        *[p for p in places if _is_metadata(p["target"])],
    ]


def _write_journal(transaction: Tree, ops: list[dict[str, Any]]) -> None:
    data = json.dumps({"version": 1, "ops": ops}).encode()
    transaction.root.create(f"{JOURNAL}.new", data, 0o600)
    os.fsync(transaction.root.fd)
    transaction.root.rename(f"{JOURNAL}.new", transaction.root, JOURNAL)


def apply(live: Tree, transaction: Tree, ops: list[dict[str, Any]]) -> int:
    """Carry out every move not done yet (each is recognised as done by the staged inode
    now at its target, or by the removed entry's absence); return the files removed."""
    removed = 0
    for op in ops:
        target_dir, target_name = live.split(op["target"])
        info = _lstat(target_dir, target_name)
        if op["op"] == "remove":
            if info is None:
                continue
            old_dir, old_name = transaction.split(op["old"])
            removed += _count(target_dir, target_name, info)
            _move(target_dir, target_name, old_dir, old_name)
            live.forget(op["target"])
            continue
        if info is not None and info.st_ino == op["ino"]:
            continue  # done
        stage_dir, stage_name = transaction.split(op["stage"])
        staged = _lstat(stage_dir, stage_name)
        if staged is None or staged.st_ino != op["ino"]:
            raise DestinationError(
                f"{live.path}: an interrupted change cannot be finished ({op['stage']} is "
                f"missing); its transaction is kept in {transaction.path}"
            )
        if info is not None and stat.S_ISDIR(info.st_mode):
            removed += _count(target_dir, target_name, info)
            if not fs.exchange(
                stage_dir.fd, stage_name, target_dir.fd, target_name, target_dir.join(target_name)
            ):
                old_dir, old_name = transaction.split(op["old"])
                _move(target_dir, target_name, old_dir, old_name)
                _move(stage_dir, stage_name, target_dir, target_name)
        else:
            removed += info is not None
            _move(stage_dir, stage_name, target_dir, target_name)  # a file: renamed over
        live.forget(op["target"])
    return removed


def _lstat(directory: Dir, name: str) -> os.stat_result | None:
    try:
        return directory.lstat(name)
    except FileNotFoundError:
        return None


def _count(directory: Dir, name: str, info: os.stat_result) -> int:
    """How many files (not directories) ``name`` is or holds."""
    if not stat.S_ISDIR(info.st_mode):
        return 1
    with directory.sub(name) as inner:
        return sum(
            1 for _, _, items in walk(inner) for _, i in items if not stat.S_ISDIR(i.st_mode)
        )


def _move(source: Dir, name: str, target: Dir, target_name: str) -> None:
    source.rename(name, target, target_name)


def prune_after(live: Tree, ops: list[dict[str, Any]], plan: Plan) -> None:
    """Remove directories the removals left empty (never the tree's own skeleton)."""
    from pep582.plan.staging import prune

    prune(live, {op["target"] for op in ops if op["op"] == "remove"}, plan)


def recover(project: Path, transaction_path: Path) -> bool:
    """Finish (journal written) or drop (no journal) an interrupted transaction; True
    when it had begun to change the tree."""
    target = project / DIRNAME
    with Tree.open(target) as live:
        name = transaction_path.name
        with Tree.open(transaction_path) as transaction:
            try:
                data = json.loads(transaction.read(JOURNAL, 1 << 26))
            except FileNotFoundError:
                data = None
            if data is not None:
                apply(live, transaction, data["ops"])
        live.root.remove_tree(name)
    return data is not None


def transactions(project: Path) -> list[Path]:
    """Interrupted transactions of ``project``'s tree."""
    target = project / DIRNAME
    if not target.is_dir() or target.is_symlink():
        return []
    return sorted(target.glob(f"{TXN_PREFIX}*"))
