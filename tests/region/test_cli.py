"""The operator's commands over a region (issue 24, item 1): placing a school, and projecting,
signing and verifying on every server."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ejournal.cli.main import cli
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import load_checkpoints
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.fences import fence_logs
from ejournal.ledger.logs import SYSTEM_LOG
from ejournal.ledger.relocation import copy_logs
from tests.region.conftest import region_env, school_built_on

runner = CliRunner()


def test_place_project_sign_and_verify_a_region(
    region_urls: tuple[str, dict[str, str]], clock: ManualClock, tmp_path: Path
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

    # The checkpoints an auditor keeps outside: every server's, each log held to them on the
    # server it lives on (the others do not hold it).
    kept = tmp_path / "checkpoints.txt"
    exported = runner.invoke(cli, ["export-checkpoints", "--out", str(kept)], env=env)
    assert exported.exit_code == 0, exported.output
    assert school.log_id in kept.read_text()
    outside = runner.invoke(cli, ["verify", "--checkpoint", str(kept)], env=env)
    assert outside.exit_code == 0, outside.output
    said = " ".join(outside.output.split())  # the console wraps long lines
    assert said.count("contains the checkpoints kept outside") == 2, said
    assert f"{SYSTEM_LOG}: contains" in said and f"{school.log_id}: contains" in said


def test_checkpoint_leaves_a_copy_being_made_to_the_server_it_lives_on(
    region_urls: tuple[str, dict[str, str]], clock: ManualClock
) -> None:
    # ADR 0017: a move copies a school's log to a server fenced for it; a checkpoint signed on
    # that copy would stand in the way of the source's, which the move copies after it.
    env = region_env(region_urls, "deployment secret")
    school = school_built_on(region_urls, clock, "shard1", place=True)
    _, servers = region_urls
    source, target = (Ledger(database_url=servers[name]) for name in ("shard1", "shard2"))
    try:
        fence_logs(target.database, [school.log_id], lives_on="shard1")
        copy_logs(source.database, target.database, [school.log_id])
        assert runner.invoke(cli, ["keys", "init"], env=env).exit_code == 0
        signed = runner.invoke(cli, ["checkpoint"], env=env)
        assert signed.exit_code == 0, signed.output
        assert signed.output.count(f"{school.log_id}: signed size") == 1  # on shard1
        assert school.log_id in load_checkpoints(source.database)
        assert school.log_id not in load_checkpoints(target.database)
        one = runner.invoke(cli, ["checkpoint", school.log_id, "--server", "shard2"], env=env)
        assert one.exit_code == 0 and "nothing to sign" in one.output, one.output
    finally:
        source.close()
        target.close()
