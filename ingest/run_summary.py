"""What one list's sync did (`ingest.sync.sync_list` returns it; the CLI and `runs` show it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(slots=True)
class VolumeFailure:
    volume: str
    error: str


@dataclass(slots=True)
class RunSummary:
    list_name: str
    volumes_fetched: int = 0
    volumes_unchanged: int = 0
    volumes_failed: int = 0
    new_messages: int = 0
    duplicates: int = 0
    quarantined: int = 0
    removed: int = 0
    """Messages under a removal (`store.removals`): not shown, not stored again if purged."""
    requests: int = 0
    failures: list[VolumeFailure] = field(default_factory=list)
    error: str = ""
    """A run-level failure (the source itself unreachable)."""
    interrupted: bool = False
    """Stopped early on request; the volumes not reached are synced next time."""
    skipped: str = ""
    """Why the list was not synced at all (another process holds its lock)."""
    full: bool = True
    """Every volume was checked (False: only new, failed and the two newest)."""
    deadline: str = ""
    """Set when `sync.run_deadline` stopped the run: how many volumes are left."""
    warnings: list[str] = field(default_factory=list)
    """Noted about the source, not failures: index links on another origin, not fetched."""
    parser_failures: int = 0
    """Messages quarantined because a parsing step raised (a parser bug, not bad bytes)."""
    needs_attention: bool = False
    """A warning the user should act on (`sync` exits 1): a source that yielded nothing
    where messages were expected (no volume at all, a volume of bytes without a message),
    or messages a parser failure quarantined.  The run itself may still be `ok`."""

    @property
    def clean(self) -> bool:
        return not self.error and not self.failures and not self.deadline

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["clean"] = self.clean
        return data
