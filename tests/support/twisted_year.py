"""twisted-python's twelve 2018 pipermail volumes (379 messages, trac's weekly summaries among
them) synced into a store: the small real archive the bot tests share."""

from __future__ import annotations

from pathlib import Path

from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store
from tests.conftest import PIPERMAIL

MONTHS = "January February March April May June July August September October November December"


def sync_twisted_2018(store_path: Path) -> None:
    """The 2018 volumes of twisted-python as the list `twisted-python`, in `store_path`."""
    folder = PIPERMAIL / "twisted" / "twisted-python"
    volumes = [str(folder / f"2018-{m}.txt.gz") for m in MONTHS.split()]
    store = Store(store_path)
    try:
        store.add_list("twisted-python", "mbox", paths=volumes)
        assert sync_list(store, "twisted-python", MboxSource(volumes), workers=1).clean
    finally:
        store.close()
