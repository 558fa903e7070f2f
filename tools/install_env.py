"""Install requirements.txt into the environment of the Python that runs this (make: .venv/bin/python).

Usage: python tools/install_env.py [--torch-index URL]

Why torch gets a step of its own: on Linux, PyPI's torch wheel is the CUDA build, which pulls about 20
nvidia-*/cuda-* packages and triton (about 2.7 GB to download for torch 2.13.0). PyTorch's CPU wheel
index (https://download.pytorch.org/whl/cpu, what the install selector on pytorch.org gives for
Linux + pip + CPU) serves ``torch-2.13.0+cpu``, about 190 MB, with no CUDA dependencies. The pin
``torch==2.13.0`` in requirements.txt matches it: PEP 440 ignores a candidate's local label ("+cpu")
when the specifier has none.

So, when ``--torch-index`` is non-empty (the Makefile's TORCH_INDEX, set on Linux only):
1. one probe: GET <index>/torch/ with a hard deadline of PROBE_SECONDS (DNS included);
2. reachable: pip installs the torch wheel alone from that index (``--no-deps``); unreachable (an
   offline mirror, no network): one line says why and how long the probe took, and torch comes from
   the default index like every other package;
3. pip installs requirements.txt from the default index (pip's own configuration: PyPI, a mirror,
   find-links). torch is already installed and satisfies its pin, so only its small pure-Python
   dependencies are added.
Finally it prints which torch build is installed, and warns when that is a CUDA build.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
PROBE_SECONDS = 5.0
# pip's warning that a find-links location in the machine's pip config does not exist: noise here.
PIP_NOISE = "is ignored: it is neither"


def torch_pin(requirements: Path) -> str:
    """The ``torch==X.Y.Z`` line of requirements.txt (the single source of the version)."""
    for line in requirements.read_text().splitlines():
        if re.match(r"torch\s*==", line.strip()):
            return line.split("#")[0].strip()
    raise SystemExit(f"{requirements}: no 'torch==...' pin found")


def probe(index: str, deadline: float = PROBE_SECONDS) -> str | None:
    """None if ``<index>/torch/`` answers HTTP 200 within ``deadline`` seconds, else the reason.

    The request runs in a daemon thread so that a hanging DNS lookup (which ignores urlopen's
    timeout) cannot hold up the install; one attempt, no retries.
    """
    url = index.rstrip("/") + "/torch/"
    parts = urlsplit(url)
    if parts.scheme == "file":  # a PEP 503 index on disk, as pip accepts
        found = Path(urllib.request.url2pathname(parts.path)).is_dir()
        return None if found else "no such directory"
    result: list[str | None] = []

    def fetch() -> None:
        try:
            with urllib.request.urlopen(url, timeout=deadline) as response:  # headers only
                result.append(None if response.status == 200 else f"HTTP {response.status}")
        except urllib.error.HTTPError as err:
            result.append(f"HTTP {err.code}")
        except (urllib.error.URLError, OSError, ValueError) as err:
            result.append(str(getattr(err, "reason", err)))

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    worker.join(deadline)
    return result[0] if result else f"no answer within {deadline:g} s"


def pip_install(*args: str) -> None:
    """``python -m pip install --quiet ARGS``, its noise lines dropped; exits on failure."""
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if PIP_NOISE not in line:
            print(line, end="", flush=True)
    if proc.wait() != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")


def install_torch(index: str, pin: str) -> None:
    """Install torch alone from ``index`` if it answers; otherwise say so (torch then comes later)."""
    host = urlsplit(index).netloc or index
    start = time.monotonic()
    reason = probe(index)
    took = time.monotonic() - start
    if reason is not None:
        print(
            f">>> {host} unreachable ({reason}; probe took {took:.1f} s): "
            f"{pin} comes from the default index instead",
            flush=True,
        )
        return
    print(f">>> {pin} from {index} (answered in {took:.1f} s)", flush=True)
    try:
        pip_install("--no-deps", "--index-url", index, pin)
    except SystemExit as err:
        raise SystemExit(
            f"{err}\n{index} answered but pip could not install {pin} from it.\n"
            "Run `TORCH_INDEX= make setup` to take torch from the default index instead."
        ) from None


def report_torch() -> None:
    """Print the installed torch version; warn when CUDA packages came with it."""
    names = {(dist.metadata["Name"] or "").lower() for dist in metadata.distributions()}
    cuda = sorted(n for n in names if n.startswith(("nvidia-", "cuda-")) or n == "triton")
    print(f">>> installed torch {metadata.version('torch')}", flush=True)
    if cuda:
        print(
            f">>> note: this is the CUDA build ({len(cuda)} packages: {', '.join(cuda[:3])}, ...); "
            "the lessons use only the CPU. See README, Troubleshooting.",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-index", default="", help="index for torch alone; '' = default")
    args = parser.parse_args()
    pin = torch_pin(REQUIREMENTS)
    if args.torch_index:
        install_torch(args.torch_index, pin)
    pip_install("-r", str(REQUIREMENTS))
    report_torch()


if __name__ == "__main__":
    main()
