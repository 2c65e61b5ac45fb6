"""OPML in and out: hostile files refused whole, partly bad files imported in part, and the
`newsdigest opml` commands as a user runs them (a real process on a real SQLite file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import ROOT

from bot.channels.opml import MAX_OUTLINES, OpmlFeed, import_feeds, read_opml, write_opml
from bot.errors import InputError
from bot.store.repo import Store

GOOD = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>My feeds</title></head><body>
  <outline text="News">
    <outline type="rss" text="Coast Ledger" xmlUrl="https://ledger.example/feed.xml"/>
    <outline type="rss" text="Harbour Post" xmlUrl="http://post.example/rss"/>
    <outline type="rss" text="Twice" xmlUrl="https://ledger.example/feed.xml"/>
  </outline>
  <outline type="rss" text="Local file" xmlUrl="file:///etc/passwd"/>
  <outline type="rss" text="Script" xmlUrl="javascript:alert(1)"/>
  <outline type="rss" text="No link"/>
</body></opml>"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<opml version="2.0"><body><outline type="rss" text="&lol3;" xmlUrl="https://a.example/f"/></body></opml>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline type="rss" text="&xxe;" xmlUrl="https://a.example/f"/></body></opml>"""


def test_good_outlines_are_kept_and_bad_ones_listed_with_a_reason() -> None:
    opml = read_opml(GOOD)
    assert [f.url for f in opml.feeds] == [
        "https://ledger.example/feed.xml",
        "http://post.example/rss",
    ]
    assert opml.feeds[0].title == "Coast Ledger"
    reasons = dict(opml.rejected)
    assert reasons["file:///etc/passwd"] == "only http and https links can be followed"
    assert reasons["javascript:alert(1)"] == "only http and https links can be followed"
    assert reasons["No link"] == "no xmlUrl"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (BOMB, "declares entities or a DTD"),
        (EXTERNAL, "declares entities or a DTD"),
        (b"<opml><body><outline", "not a readable OPML file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a readable OPML file"),
        (b"<rss><channel/></rss>", "not OPML"),
        (
            b"<opml><body>"
            + b'<outline type="rss" xmlUrl="https://a.example/f"/>' * (MAX_OUTLINES + 1)
            + b"</body></opml>",
            f"more than {MAX_OUTLINES} outlines",
        ),
        (b"<opml><body>" + b" " * (3 * 2**20) + b"</body></opml>", "too large"),
    ],
)
def test_hostile_or_broken_files_are_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_opml(data)


def test_written_opml_reads_back_and_escapes_what_it_holds(store: Store) -> None:
    feeds = [
        OpmlFeed("https://a.example/feed?x=1&y=2", 'Quotes " and <tags>'),
        OpmlFeed("http://b.example/", ""),
    ]
    again = read_opml(write_opml("Mine & yours", feeds))
    assert again.feeds == [feeds[0], OpmlFeed("http://b.example/", "http://b.example/")]
    channel = store.channel("slack", "C1")
    assert channel is not None
    report = import_feeds(store, channel.id, read_opml(GOOD))
    assert (report.added, report.already, len(report.rejected)) == (2, 0, 3)
    assert import_feeds(store, channel.id, read_opml(GOOD)).already == 2  # nothing twice


def _cli(
    *args: str, database: Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NEWSDIGEST_DATABASE_URL": f"sqlite:///{database}"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "opml", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        timeout=60,
        env=env,
    )


def test_import_then_export_from_the_command_line(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    source = tmp_path / "feeds.opml"
    source.write_bytes(GOOD)
    done = _cli("import", str(source), "--channel", "slack:C42", database=database)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "Imported 2 feeds into slack:C42 (0 already followed)." in out
    assert "Rejected 3:" in out and "file:///etc/passwd: only http and https" in out
    exported = _cli("export", "--channel", "slack:C42", database=database)
    assert exported.returncode == 0
    assert [f.url for f in read_opml(exported.stdout).feeds] == [
        "https://ledger.example/feed.xml",
        "http://post.example/rss",
    ]
    refused = _cli("import", "-", "--channel", "slack:C43", database=database, stdin=BOMB)
    assert refused.returncode == 1
    assert refused.stderr.decode().count("\n") == 1  # one line, no traceback
    assert b"declares entities" in refused.stderr
    assert (
        _cli("export", "--channel", "slack:C43", database=database).returncode == 1
    )  # no such channel
    wrong = _cli("export", "--channel", "irc:x", database=database)
    assert wrong.returncode == 1 and b"PLATFORM:ID" in wrong.stderr
