"""The three tools: how each is installed, invoked against the emulator, and read back.

Every tool runs as a child process with the same isolated environment: fake credentials, empty
AWS config files, the emulator as `AWS_ENDPOINT_URL`, no instance metadata, and every other HTTP
destination sent to a dead proxy on loopback (`127.0.0.1:9`) so that any attempt to reach the
internet (update checks, IP-range downloads, Lambda code downloads) fails at once and stays on
this machine. The peers live in their own virtual environments under `bench/`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.peers.findings import ToolFinding, read_ours, read_prowler, read_scoutsuite

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
PROWLER_VERSION = "5.46.0"
SCOUTSUITE_VERSION = "5.14.0"
DEAD_PROXY = "http://127.0.0.1:9"


def isolated_env(endpoint: str, work: Path, bin_dir: Path) -> dict[str, str]:
    """The environment every tool runs in (nothing inherited but the locale)."""
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    empty = work / "empty-aws-config"
    empty.touch()
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "COLUMNS": "160",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # the emulator's fake credentials
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
        "HTTP_PROXY": DEAD_PROXY,
        "HTTPS_PROXY": DEAD_PROXY,
        "http_proxy": DEAD_PROXY,
        "https_proxy": DEAD_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


@dataclass(frozen=True, slots=True)
class Tool:
    """One tool under test."""

    name: str
    version: str
    venv: Path
    package: str  # pip requirement for a peer; "" for ours (already installed)
    steps: Callable[[str, tuple[str, ...], Path], list[list[str]]]
    read: Callable[[Path], list[ToolFinding]]

    @property
    def bin_dir(self) -> Path:
        """The virtual environment's bin directory."""
        return self.venv / "bin"

    def install(self) -> None:
        """Creates the tool's own virtual environment with the pinned version (once)."""
        if not self.package:
            return
        stamp = self.venv / f".installed-{self.version}"
        if stamp.exists():
            return
        print(f"installing {self.package} into {self.venv} ...", flush=True)
        subprocess.run(["python3", "-m", "venv", str(self.venv)], check=True)
        pip = [str(self.bin_dir / "pip"), "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, self.package], check=True)
        stamp.touch()


# End-of-life files for opencwpp's Lambda runtime check (`--ours-eol`); empty: a plain scan.
OURS_EOL: list[Path] = []


def _ours_steps(endpoint: str, regions: tuple[str, ...], work: Path) -> list[list[str]]:
    lake = f"duckdb://{work / 'lake.duckdb'}"
    cwpp = str(REPO / ".venv" / "bin" / "cwpp")
    load = [[cwpp, "vuln", "db", "import", str(p), "--lake", lake] for p in OURS_EOL]
    scan = [cwpp, "scan", "aws", "--endpoint-url", endpoint, "--regions", ",".join(regions)]
    report = [cwpp, "report", "-f", "json", "-o", str(work / "findings.json"), "--lake", lake]
    return [*load, [*scan, "--lake", lake], report]


def _prowler_steps(endpoint: str, regions: tuple[str, ...], work: Path) -> list[list[str]]:
    prowler = str(BENCH / ".venv-prowler" / "bin" / "prowler")
    return [
        [prowler, "aws", "--region", *regions, "--output-formats", "json-ocsf",
         "--output-directory", str(work / "out"), "--output-filename", "prowler",
         "--no-banner", "--ignore-exit-code-3"]
    ]  # fmt: skip


def _scout_steps(endpoint: str, regions: tuple[str, ...], work: Path) -> list[list[str]]:
    scout = str(BENCH / ".venv-scoutsuite" / "bin" / "scout")
    return [
        [scout, "aws", "--access-keys", "--access-key-id", "testing",
         "--secret-access-key", "testing", "--regions", *regions, "--no-browser",
         "--report-dir", str(work / "out"), "--force", "--result-format", "json"]
    ]  # fmt: skip


def _read_ours(work: Path) -> list[ToolFinding]:
    return read_ours(work / "findings.json")


def _read_prowler(work: Path) -> list[ToolFinding]:
    return read_prowler(work / "out" / "prowler.ocsf.json")


def _read_scout(work: Path) -> list[ToolFinding]:
    found = sorted((work / "out" / "scoutsuite-results").glob("scoutsuite_results_aws-*.js"))
    if not found:
        raise FileNotFoundError(f"no ScoutSuite results under {work}")
    return read_scoutsuite(found[0])


TOOLS: dict[str, Tool] = {
    "opencwpp": Tool("opencwpp", "main", REPO / ".venv", "", _ours_steps, _read_ours),
    "prowler": Tool(
        "prowler",
        PROWLER_VERSION,
        BENCH / ".venv-prowler",
        f"prowler=={PROWLER_VERSION}",
        _prowler_steps,
        _read_prowler,
    ),
    "scoutsuite": Tool(
        "scoutsuite",
        SCOUTSUITE_VERSION,
        BENCH / ".venv-scoutsuite",
        f"scoutsuite=={SCOUTSUITE_VERSION}",
        _scout_steps,
        _read_scout,
    ),
}
