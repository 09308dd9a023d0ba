"""`cwpp detect ingest` as a user reads it: problem files named, the rest in the totals."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from opencwpp.cli import detect_commands


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(detect_commands.app, name="detect")
    app.command("alerts")(detect_commands.alerts_command)
    return app


def _record(n: int) -> dict[str, str]:
    return {
        "eventVersion": "1.08",
        "eventID": f"00000000-0000-0000-0000-{n:012d}",
        "eventTime": "2024-08-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "us-east-1",
    }


def test_only_problem_files_are_listed_unless_verbose(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    trail.mkdir()
    for index in range(3):
        records = [_record(index * 1000 + n) for n in range(1000)]
        with gzip.open(trail / f"good-{index}.json.gz", "wt") as handle:
            json.dump({"Records": records}, handle)
    (trail / "broken.json.gz").write_bytes(gzip.compress(b'{"Records": [')[:-9])
    lake = ["--lake", f"duckdb://{tmp_path / 'l.duckdb'}"]
    runner = CliRunner(env={"COLUMNS": "250"})

    out = runner.invoke(_app(), ["detect", "ingest", str(trail), *lake])
    words = " ".join(out.output.split())
    assert out.exit_code == 1, words  # a file could not be read: a CI job must see it
    # The shared console may wrap a long path anywhere: paths are compared without spaces.
    flat = "".join(words.split())
    assert "broken.json.gz" in flat and "good-0" not in flat
    assert "4 file(s): 3 ingested, 0 partial, 1 failed" in words
    assert "3,000 records read, 3,000 new events" in words
    assert "the next run reads them again" in words

    again = runner.invoke(_app(), ["detect", "ingest", "-v", str(trail), *lake])
    words = " ".join(again.output.split())
    assert again.exit_code == 1 and "3 already done" in words
    assert "broken.json.gz" in "".join(words.split())

    forced = runner.invoke(_app(), ["detect", "ingest", "-v", "--force", str(trail), *lake])
    words = " ".join(forced.output.split())
    assert "good-0.json.gz:1,000read,0new,1,000duplicate" in "".join(words.split()), words
