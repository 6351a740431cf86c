"""Real ``ejournal witness`` processes on local ports, as a district runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.api.processes import HOST, free_port, stop

# ``ejournal witness …`` entered at its own command group: the same code as the console script,
# without importing every other group (the API, PDF printing) at each start.
_CLI = [sys.executable, "-c", "from ejournal.cli.witness import app; app()"]


@dataclass
class WitnessProcess:
    directory: Path
    log_keys: Path
    vkey: str
    port: int = 0
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> WitnessProcess:
        self.port = free_port()
        self.process = subprocess.Popen(
            [*_CLI, "serve", "--dir", str(self.directory),
             "--log-key", str(self.log_keys), "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy(),
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1) as answer:
                    assert answer.read().decode().strip() == self.vkey
                    return self
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None:
                    output = self.process.stdout.read() if self.process.stdout else ""
                    raise RuntimeError(output) from None
                time.sleep(0.05)
        raise RuntimeError("the witness did not start")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None


def init_witness(directory: Path, name: str, log_keys: Path) -> WitnessProcess:
    """``ejournal witness init``: the witness's key; its verifier key as printed."""
    done = subprocess.run(
        [*_CLI, "init", "--dir", str(directory), "--name", name],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return WitnessProcess(directory, log_keys, done.stdout.strip())
