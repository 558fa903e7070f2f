"""A throw-away JupyterLab server and the system Chromium, for the browser test.

* The server runs from this interpreter (the project's .venv) on 127.0.0.1, a free port and a random
  token, with ``root_dir`` = a temporary COPY of notebooks/ (Lab's autosave never touches the repo)
  and its own settings dir (no "Jupyter news" toast, every cell attached to the DOM).
* It is always stopped by its PID (SIGTERM, then SIGKILL of its process group), kernels included,
  and its temporary folder is removed (a failing test first copies the log next to its screenshots).
* Chromium is ``$CHROMIUM`` or ``chromium`` on PATH (Debian's package). Nothing is ever downloaded:
  ``playwright install`` is never run.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
INSTALL_HINT = "apt-get update && apt-get install -y chromium   (or set CHROMIUM=/path/to/chromium)"
CHROME_ARGS = [
    "--no-sandbox",  # root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Lab settings: no news toast over the page; "none" windowing keeps every cell in the DOM, so a cell's
# index in the .ipynb is its index on the page.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def find_chromium() -> str | None:
    """Path of the Chromium to drive: $CHROMIUM if set, else ``chromium`` on PATH, else None."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    return shutil.which("chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """``with LabServer() as lab:`` → ``lab.url(path)``, ``lab.api(path)``; stopped on exit."""

    def __init__(self, notebooks: Path = NOTEBOOKS, startup_timeout: float = 90.0):
        self.tmp = Path(tempfile.mkdtemp(prefix="lab-browser-test-"))
        self.root_dir = self.tmp / "notebooks"
        shutil.copytree(
            notebooks, self.root_dir, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
        )
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.log_path = self.tmp / "lab.log"
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def _env(self) -> dict:
        settings = self.tmp / "lab_settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = dict(os.environ)
        env.update(
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.tmp / "lab_workspaces"),
            JUPYTER_CONFIG_DIR=str(self.tmp / "jupyter_config"),  # ignore the user's ~/.jupyter
            JUPYTER_RUNTIME_DIR=str(self.tmp / "runtime"),
        )
        env.pop("MPLBACKEND", None)  # kernels inherit it and would lose their inline figures
        return env

    def start(self) -> LabServer:
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ip=127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
            f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={self.root_dir}",
        ]  # fmt: skip
        if os.geteuid() == 0:
            cmd.append("--allow-root")  # Lab refuses to run as root (containers) without it
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._env(),
            start_new_session=True,  # its own process group: kernels can be killed with it
        )
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"jupyter lab exited early:\n{self.log_tail()}")
            try:
                self.api("status")
                return self
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(
            f"jupyter lab not up after {self.startup_timeout:.0f} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """SIGTERM the server by its PID (it shuts its kernels down), then SIGKILL what is left."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        children = _children(proc.pid)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if not _wait_gone(children, timeout=5):
            _kill(children)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group the server led, should anything remain
        except (ProcessLookupError, PermissionError):
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)  # the notebook copies, settings, log

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- access ---------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(self.url(f"api/{path}"), method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def _sessions(self, path: str) -> list[dict]:
        return [s for s in self.api("sessions") if s["path"] == path]

    def kernel_connected(self, path: str) -> bool:
        """True when the notebook at ``path`` (relative to the root) has a running kernel, idle,
        with a browser connected to it."""
        return any(
            s["kernel"]["connections"] > 0 and s["kernel"]["execution_state"] == "idle"
            for s in self._sessions(path)
        )

    def shutdown(self, path: str) -> None:
        """End the notebook's session and its kernel (other notebooks' kernels keep running)."""
        for session in self._sessions(path):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _children(pid: int) -> list[int]:
    try:
        import psutil
    except ImportError:
        return []
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie is dead, only not yet reaped by its parent


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return not any(_alive(p) for p in pids)


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
