from __future__ import annotations

from pathlib import Path

from ingest.sources.pipermail import parse_index, volume_sort_key


def test_twisted_index_lists_every_month(corpus: Path) -> None:
    folder = corpus / "pipermail/twisted/twisted-python"
    html = (folder / "index.html").read_text("utf-8", "replace")
    volumes = parse_index(html, "http://h/pipermail/twisted-python/")
    on_disk = {p.name[: -len(".txt.gz")] for p in folder.glob("*.txt.gz")}
    assert {v.name for v in volumes} == on_disk
    assert volumes[0].name == "1945-February"
    first_real = volumes[1]
    assert first_real.url == "http://h/pipermail/twisted-python/2001-February.txt"
    assert first_real.fallback_url == "http://h/pipermail/twisted-python/2001-February.txt.gz"


def test_plain_and_gz_links(corpus: Path) -> None:
    html = (corpus / "pipermail/perceval-testdata/pipermail_index.html").read_text()
    volumes = {v.name: v for v in parse_index(html, "http://h/archives/")}
    assert volumes["2016-April"].url == "http://h/archives/2016-April.txt"
    assert volumes["2016-April"].fallback_url == "http://h/archives/2016-April.txt.gz"
    assert volumes["2015-November"].fallback_url == "http://h/archives/2015-November.txt.gz"


def test_quarterly_yearly_weekly_names_sort_oldest_first() -> None:
    html = "".join(
        f'<a href="{n}">x</a>'
        for n in [
            "2017q1.txt.gz",
            "2016q4.txt.gz",
            "1997.txt.gz",
            "Week-of-Mon-20080505.txt.gz",
            "2008-May.txt",
            "thread.html",
            "2008-Foo.txt",
        ]
    )
    names = [v.name for v in parse_index(html, "http://h/")]
    assert names == ["1997", "2008-May", "Week-of-Mon-20080505", "2016q4", "2017q1"]
    assert volume_sort_key("2016q2") == (2016, 4, 1)
