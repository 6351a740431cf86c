from __future__ import annotations

from collections.abc import Iterator

import pytest

from ejournal.integrity.note import Ed25519Signer, generate_signer
from tests.witness.processes import WitnessProcess, init_witness

ORIGIN = "ejournal.test"


@pytest.fixture(scope="module")
def log_signer() -> Ed25519Signer:
    return generate_signer(ORIGIN)


@pytest.fixture(scope="module")
def witnesses(
    tmp_path_factory: pytest.TempPathFactory, log_signer: Ed25519Signer
) -> Iterator[list[WitnessProcess]]:
    """Two witnesses, the district's and an archive's, each its own process, key and state,
    trusting the log key named ``ejournal.test``."""
    root = tmp_path_factory.mktemp("witnesses")
    keys = root / "log-keys.txt"
    keys.write_text(f"# the deployment's key\n{log_signer.vkey}\n")
    started = [
        init_witness(root / name, f"{name}.example/w", keys).start()
        for name in ("district", "archive")
    ]
    yield started
    for witness in started:
        witness.stop()


@pytest.fixture
def fresh_origin(request: pytest.FixtureRequest) -> str:
    """A log of its own for each test: witnesses keep state across the module's tests."""
    return f"{ORIGIN}/{request.node.name.replace('[', '-').replace(']', '')}"
