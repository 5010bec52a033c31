from __future__ import annotations

from ingest.incremental import volumes_to_check
from ingest.sources.base import Volume
from store.records import VolumeState


def test_recent_run_checks_new_failed_and_the_two_newest_volumes() -> None:
    volumes = [Volume(f"v{i}", f"http://h/v{i}") for i in range(6)]
    states = {
        "v0": VolumeState("v0", "u"),
        "v1": VolumeState("v1", "u", status="failed"),
        "v3": VolumeState("v3", "u"),
        "v4": VolumeState("v4", "u"),
        "v5": VolumeState("v5", "u"),
    }
    picked = [v.name for v in volumes_to_check(volumes, states, full=False)]
    assert picked == ["v1", "v2", "v4", "v5"]
    assert volumes_to_check(volumes, states, full=True) == volumes
