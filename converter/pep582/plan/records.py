"""New RECORDs for carried distributions: every row resolves from the new place, and
what an installer adds (INSTALLER, REQUESTED, ``direct_url.json``) is listed."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from pep582.plan.index import under
from pep582.sources.distribution import Distribution
from pep582.sources.records import RecordEntry, entry_for, render_record

if TYPE_CHECKING:
    from pep582.sources import Source

INSTALLER_NAME = b"pep582-toolkit\n"


class Records:
    """The part of :class:`pep582.plan.carry.SourcePlanner` that rewrites RECORD."""

    source: Source
    target_scripts: str
    moved: dict[str, str]
    written: dict[str, bytes]
    dropped: set[str]

    if TYPE_CHECKING:  # provided by the source planner

        def target_of(self, path: str) -> str | None: ...

        def write(self, target: str, data: bytes, mode: int, owner: str) -> None: ...

    def plan_record(self, dist: Distribution) -> None:
        """A new RECORD whose every row resolves from the dist's new place; wheels from
        the cache also get INSTALLER, REQUESTED and direct_url.json."""
        if dist.kind != "dist-info" or dist.record is None:
            return
        site_target = self.target_of(str(dist.site_dir))
        assert site_target is not None
        meta_target = os.path.join(site_target, dist.meta_dir.name)
        record_target = os.path.join(meta_target, "RECORD")
        entries: list[RecordEntry] = []
        seen: set[str] = set()
        site_source = str(dist.site_dir)
        if self.source.kind == "wheel":
            for name, data in install_metadata(dist).items():
                self.write(os.path.join(meta_target, name), data, 0o644, dist.label)
        for entry, path in zip(dist.record, dist.owned_files):
            if path in self.dropped or path.endswith(".pyc"):
                continue
            if under(path, site_source) and path not in self.moved:
                same_place = site_target + path[len(site_source) :]
                if same_place == record_target or same_place in seen:
                    continue
                seen.add(same_place)
                rewritten = self.written.get(same_place)
                relative = path[len(site_source) + 1 :].replace(os.sep, "/")  # as it was
                entries.append(
                    entry_for(relative, rewritten)
                    if rewritten is not None
                    else RecordEntry(relative, entry.hash_, entry.size)
                )
                continue
            new_path = self.moved.get(path) or self.target_of(path)
            if new_path is None or new_path == record_target or new_path in seen:
                continue
            seen.add(new_path)
            relative = os.path.relpath(new_path, site_target).replace(os.sep, "/")
            rewritten = self.written.get(new_path)
            entries.append(
                entry_for(relative, rewritten)
                if rewritten is not None
                else RecordEntry(relative, entry.hash_, entry.size)
            )
        extra = [os.path.join(self.target_scripts, ep.name) for ep in dist.entry_points]
        extra += [os.path.join(meta_target, n) for n in install_metadata(dist)]
        for path in extra:  # files RECORD did not list (scripts of legacy tools, metadata)
            if path not in seen and path in self.written:
                seen.add(path)
                relative = os.path.relpath(path, site_target).replace(os.sep, "/")
                entries.append(entry_for(relative, self.written[path]))
        relative = os.path.relpath(record_target, site_target).replace(os.sep, "/")
        entries.append(RecordEntry(relative, None, None))
        self.write(record_target, render_record(entries), 0o644, dist.label)


def install_metadata(dist: Distribution) -> dict[str, bytes]:
    """INSTALLER, REQUESTED and direct_url.json for a distribution we install."""
    if not dist.origin:
        return {}
    files = {"INSTALLER": INSTALLER_NAME}
    if dist.requested:
        files["REQUESTED"] = b""
    if dist.direct_url is not None:
        files["direct_url.json"] = json.dumps(dist.direct_url, sort_keys=True).encode()
    return files
