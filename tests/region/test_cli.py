"""The operator's commands over a region (issue 24, item 1): placing a school, and projecting,
signing and verifying on every server."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ejournal.cli.main import cli
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.logs import SYSTEM_LOG
from tests.region.conftest import region_env, school_built_on

runner = CliRunner()


def test_place_project_sign_and_verify_a_region(
    region_urls: tuple[str, dict[str, str]], clock: ManualClock
) -> None:
    env = region_env(region_urls, "deployment secret")
    school = school_built_on(region_urls, clock, "shard1", place=False)
    s = str(school.school_id)

    placed = runner.invoke(cli, ["place-school", s, "--on", "shard1"], env=env)
    assert placed.exit_code == 0, placed.output
    assert f"school {s} placed on shard1" in placed.output
    again = runner.invoke(cli, ["place-school", s, "--on", "shard1"], env=env)
    assert "is already on shard1" in again.output
    # Its records are on shard1 now: only a move takes it elsewhere.
    refused = runner.invoke(cli, ["place-school", s, "--on", "shard2"], env=env)
    assert refused.exit_code == 2
    assert "has records on 'shard1': move it with move-school" in refused.output
    unknown = runner.invoke(cli, ["place-school", s, "--on", "shard9"], env=env)
    assert unknown.exit_code == 2
    assert "no server named 'shard9'" in unknown.output

    listed = runner.invoke(cli, ["servers"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "shard1" in listed.output and "shard2" in listed.output

    assert runner.invoke(cli, ["keys", "init"], env=env).exit_code == 0
    signed = runner.invoke(cli, ["checkpoint"], env=env)
    assert signed.exit_code == 0, signed.output
    assert f"{SYSTEM_LOG}: signed size" in signed.output
    assert f"{school.log_id}: signed size" in signed.output

    projected = runner.invoke(cli, ["project"], env=env)
    assert projected.exit_code == 0, projected.output
    assert [line.split(":")[0] for line in projected.output.splitlines()] == [
        "directory",
        "shard1",
        "shard2",
    ]

    verified = runner.invoke(cli, ["verify", "--json"], env=env)
    assert verified.exit_code == 0, verified.output
    reports = [json.loads(line) for line in verified.output.splitlines()]
    assert [(r["server"], r["ok"]) for r in reports] == [
        ("directory", True),
        ("shard1", True),
        ("shard2", True),
    ]
    one = runner.invoke(cli, ["verify", "--json", "--server", "shard1"], env=env)
    assert [json.loads(line)["server"] for line in one.output.splitlines()] == ["shard1"]
    nowhere = runner.invoke(cli, ["verify", "--server", "shard9"], env=env)
    assert nowhere.exit_code == 2
    assert "no server named 'shard9'" in nowhere.output
