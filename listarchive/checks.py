"""`listarchive check`: is the store sound, and does the search index match it?

Each check gives a status (`ok`, `warning`, `error`) and a detail.  The store is opened
read-only and nothing is repaired or created; `damaged` says whether the store itself is
damaged (exit 3: restore a backup), `unusable` that its schema is newer than this program
(exit 3: nothing else is checked), as opposed to other problems (exit 1).  The `store` check
carries the verdict on the file: never `ok` when any check found it damaged, so the text
report and the JSON say the same.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from config.settings import Settings
from listarchive import app
from listarchive.cli_text import plural
from search.base import SearchError
from search.factory import SQLITE_FILENAME, open_configured
from store import faults, files, health, unindexable
from store.errors import StoreAccessError, StoreCorruptError, StoreError, StoreVersionError
from store.store import Store

logger = logging.getLogger(__name__)

RESTORE_THIS = "restore %s from a backup (README, 'Backups')"


def _pragma(quick: bool) -> str:
    return "PRAGMA quick_check" if quick else "PRAGMA integrity_check"


@dataclass
class Report:
    store: str
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    damaged: bool = False
    unusable: bool = False

    def add(self, name: str, status: str, detail: str, **extra: Any) -> None:
        self.checks[name] = {"status": status, "detail": detail, **extra}

    @property
    def status(self) -> str:
        if self.damaged:
            return "damaged"
        if self.unusable:
            return "unusable"
        if any(c["status"] == "error" for c in self.checks.values()):
            return "unhealthy"
        return "ok"

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "unhealthy": 1, "damaged": 3, "unusable": 3}[self.status]

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "store": self.store, "checks": self.checks}


def run(settings: Settings, *, quick: bool = False) -> Report:
    report = Report(str(settings.store_path))
    store = _open(settings, report)
    if store is not None:
        try:
            _store_checks(store, report, quick)
            _index_check(settings, store, report)
        except sqlite3.Error as exc:  # damage the checks themselves ran into
            found = faults.classify(exc, settings.store_path)
            if found is None:
                raise
            report.damaged = isinstance(found, StoreCorruptError)
            if not report.damaged:
                report.add("integrity", "error", str(found))
            elif "integrity" not in report.checks:
                detail = f"{_pragma(quick)} stopped: {exc}: {RESTORE_THIS % store.path}"
                report.add("integrity", "error", detail, problems=[str(exc)])
            else:
                report.add("store", "error", f"{exc}: {RESTORE_THIS % store.path}")
        finally:
            store.close()
        if report.damaged and report.checks["store"]["status"] == "ok":
            detail = f"{store.path} opens but is damaged (see above): {RESTORE_THIS % store.path}"
            report.add("store", "error", detail)
    exposed = health.exposed_files(settings.data_dir)
    if exposed:
        detail = f"open to other users: {', '.join(exposed)} (chmod 700 the directory, 600 files)"
        report.add("permissions", "error", detail, files=exposed)
    else:
        report.add("permissions", "ok", "the data directory and its files are private")
    return report


def _open(settings: Settings, report: Report) -> Store | None:
    path = settings.store_path
    try:
        app.refuse_store_over_index(settings)
        if not files.holds_data(path) and not files.data_beside(path):
            report.add("store", "warning", f"no store at {path} yet: run `listarchive sync`")
            return None
        store = Store(path, readonly=True)
    except (StoreCorruptError, StoreAccessError) as exc:
        report.add("store", "error", str(exc))
        report.damaged = isinstance(exc, StoreCorruptError)
        return None
    except StoreVersionError as exc:
        report.add("store", "error", str(exc))
        detail = f"schema {exc.version} is newer than this program's ({exc.program}): upgrade it"
        report.add("schema", "error", detail, version=exc.version)
        report.unusable = True
        return None
    except StoreError as exc:
        report.add("store", "error", str(exc))
        return None
    report.add("store", "ok", f"{path} opens")
    return store


def _store_checks(store: Store, report: Report, quick: bool) -> None:
    problems = health.integrity_problems(store.conn, quick=quick)
    if problems:
        report.damaged = True
        detail = f"{_pragma(quick)} found damage: {RESTORE_THIS % store.path}"
        report.add("integrity", "error", detail, problems=problems)
    else:
        report.add("integrity", "ok", f"{_pragma(quick)}: ok")
    orphans = health.foreign_key_problems(store.conn)
    if orphans:
        report.add("foreign_keys", "error", f"{len(orphans)} broken references", problems=orphans)
    else:
        report.add("foreign_keys", "ok", "every reference points at a row")
    version, program = health.schema_versions(store.conn)
    if version > program:
        detail = f"schema {version} is newer than this program's ({program}): upgrade it"
        report.add("schema", "error", detail, version=version)
    elif version < program:
        detail = f"schema {version}: the next `listarchive sync` upgrades it to {program}"
        report.add("schema", "warning", detail, version=version)
    else:
        report.add("schema", "ok", f"schema {version}", version=version)


def _index_check(settings: Settings, store: Store, report: Report) -> None:
    messages, seq = store.message_count(), store.change_seq()
    facts: dict[str, Any] = {"messages": messages, "change_seq": seq}
    if (
        settings["search.backend"] == "sqlite"
        and not (settings.data_dir / SQLITE_FILENAME).exists()
    ):
        status = "error" if messages else "ok"
        report.add("index", status, "no search index yet: run `listarchive reindex`", **facts)
        return
    try:
        backend = open_configured(settings)
        try:
            store_id, count, checkpoint = (
                backend.get_store_id(),
                backend.count(),
                backend.get_checkpoint(),
            )
        finally:
            backend.close()
    except SearchError as exc:
        report.add("index", "error", f"search index unavailable: {exc}", **facts)
        return
    facts |= {"indexed": count, "checkpoint": checkpoint}
    skipped = _unindexable(store)
    if skipped:  # store.unindexable: skipped by catch-up, with the reason
        facts |= {
            "not_indexable": len(skipped),
            "skipped": [{"key": s.key, "reason": s.reason, "at": s.at} for s in skipped[:20]],
        }
    if store_id and store_id != store.store_id:
        detail = "the search index was built from another store: run `listarchive reindex`"
        report.add("index", "error", detail, **facts)
    elif messages and not store_id and not count:  # emptied, or its file lost and re-made
        detail = "the search index is empty: run `listarchive reindex`"
        report.add("index", "error", detail, **facts)
    elif checkpoint < seq:
        detail = f"the search index is behind the store ({checkpoint} < {seq}): the next sync "
        report.add("index", "warning", detail + "catches it up", **facts)
    elif count + len(skipped) != messages:
        detail = (
            f"the search index holds {plural(count, 'message')}, the store {messages}: run reindex"
        )
        report.add("index", "error", detail, **facts)
    elif skipped:
        detail = (
            f"{plural(count, 'message')} indexed; {len(skipped)} could not be (see `skipped`: the "
            "reason each; `listarchive reparse` may fix them)"
        )
        report.add("index", "warning", detail, **facts)
    else:
        report.add("index", "ok", f"{plural(count, 'message')} indexed, up to date", **facts)


def _unindexable(store: Store) -> list[unindexable.Skipped]:
    try:
        return unindexable.listed(store.conn, limit=1_000_000)
    except sqlite3.OperationalError:  # a store from before the table: the next sync adds it
        return []
