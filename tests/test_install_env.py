"""tools/install_env.py: the torch pin, the one-shot index probe and the fallback decision.

Every server here listens on 127.0.0.1 only and stops with its test. pip itself is never run.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("install_env", ROOT / "tools" / "install_env.py")
install_env = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(install_env)


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    """A PEP 503 index on disk holding only a torch project page."""
    (tmp_path / "simple" / "torch").mkdir(parents=True)
    (tmp_path / "simple" / "torch" / "index.html").write_text("<html><body></body></html>\n")
    return tmp_path


@pytest.fixture
def http_index(index_dir: Path) -> Iterator[str]:
    """``index_dir`` served over HTTP on a free loopback port; yields the index URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(index_dir))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()
    server.server_close()


def test_torch_pin_is_the_torch_line_only(tmp_path: Path):
    req = tmp_path / "requirements.txt"
    req.write_text(
        "# torch==9.9 in a comment\ntorchvision==0.1\n torch == 2.13.0  # pinned\nnumpy==2\n"
    )
    assert install_env.torch_pin(req) == "torch == 2.13.0"
    req.write_text("torchvision==0.1\nnumpy==2\n")
    with pytest.raises(SystemExit, match="no 'torch==...' pin"):
        install_env.torch_pin(req)


def test_pin_without_local_label_accepts_the_cpu_build():
    # The design rests on PEP 440: a specifier without a local label ignores the candidate's one.
    pin = SpecifierSet("==2.13.0")
    assert "2.13.0+cpu" in pin and "2.13.0" in pin
    assert "2.13.1+cpu" not in pin and "2.12.0+cpu" not in pin


def test_probe_accepts_an_index_that_serves_torch(http_index: str):
    assert install_env.probe(http_index) is None
    assert install_env.probe(http_index + "/") is None


def test_probe_reports_an_index_without_torch(http_index: str):
    assert install_env.probe(http_index.removesuffix("/simple") + "/nothing") == "HTTP 404"


def test_probe_reports_a_refused_connection_at_once():
    with socket.socket() as s:  # bind, then close: nothing listens on this port afterwards
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    reason = install_env.probe(f"http://127.0.0.1:{port}/simple", deadline=5.0)
    assert reason is not None and "refused" in reason.lower()
    assert time.monotonic() - start < 2.0


def test_probe_gives_up_on_a_silent_server_at_the_deadline():
    with socket.socket() as s:  # accepts connections (kernel backlog) but never answers
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        start = time.monotonic()
        reason = install_env.probe(f"http://127.0.0.1:{s.getsockname()[1]}/simple", deadline=0.5)
        took = time.monotonic() - start
    assert reason is not None and ("timed out" in reason or "no answer" in reason)
    assert 0.4 < took < 2.0


def test_probe_deadline_holds_even_when_the_lookup_hangs(monkeypatch):
    # A DNS lookup ignores urlopen's timeout; the probe's own deadline must still end the wait.
    release = threading.Event()

    def hanging_urlopen(*args, **kwargs):
        release.wait(30)
        raise OSError("lookup failed at last")

    monkeypatch.setattr(urllib.request, "urlopen", hanging_urlopen)
    start = time.monotonic()
    try:
        reason = install_env.probe("https://index.invalid/whl/cpu", deadline=0.3)
        took = time.monotonic() - start
    finally:
        release.set()  # let the abandoned probe thread end before the next test
    assert reason == "no answer within 0.3 s"
    assert took < 1.5


def test_probe_of_a_file_index(index_dir: Path):
    assert install_env.probe((index_dir / "simple").as_uri()) is None
    assert install_env.probe((index_dir / "missing").as_uri()) == "no such directory"


def test_unreachable_index_falls_back_without_calling_pip(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(install_env, "probe", lambda index: "[Errno -2] Name or service not known")
    monkeypatch.setattr(install_env, "pip_install", lambda *args: calls.append(args))
    install_env.install_torch("https://download.pytorch.org/whl/cpu", "torch==2.13.0")
    assert calls == []
    out = capsys.readouterr().out
    assert "download.pytorch.org unreachable" in out and "probe took" in out
    assert "default index" in out


def test_reachable_index_installs_torch_alone_from_it(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(install_env, "probe", lambda index: None)
    monkeypatch.setattr(install_env, "pip_install", lambda *args: calls.append(args))
    install_env.install_torch("http://127.0.0.1:1/simple", "torch==2.13.0")
    assert calls == [("--no-deps", "--index-url", "http://127.0.0.1:1/simple", "torch==2.13.0")]
    assert "torch==2.13.0 from http://127.0.0.1:1/simple" in capsys.readouterr().out


def test_failed_install_from_a_reachable_index_says_how_to_opt_out(monkeypatch):
    def failing_pip(*args):
        raise SystemExit("failed (1): pip install ...")

    monkeypatch.setattr(install_env, "probe", lambda index: None)
    monkeypatch.setattr(install_env, "pip_install", failing_pip)
    with pytest.raises(SystemExit, match="TORCH_INDEX= make setup"):
        install_env.install_torch("http://127.0.0.1:1/simple", "torch==2.13.0")
