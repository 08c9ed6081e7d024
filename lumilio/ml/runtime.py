"""onnxruntime sessions: one per model, loaded on first use, dropped when idle.

A session costs tens to hundreds of megabytes, and a library is mostly idle once its
photos are indexed, so every session is released after `idle_seconds` without use
and loaded again when next needed. A session in use is never released. The execution
provider is picked once from what this onnxruntime build offers, in the order of
`PREFERENCE`; the one onnxruntime really runs on is known once a session loads, and
a GPU provider that fails there gives way to the CPU for good. `describe()` reports
both.

onnxruntime itself is imported on first use, not at start: it holds about 20 MiB
of resident memory that a library with nothing to recognise does not need.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lumilio.ml.manifest import ModelError, ModelSpec

if TYPE_CHECKING:
    import onnxruntime as ort

log = logging.getLogger(__name__)

PREFERENCE = ("CUDAExecutionProvider", "DmlExecutionProvider",
              "CoreMLExecutionProvider", "CPUExecutionProvider")
SHORT_NAMES = {"cuda": "CUDAExecutionProvider", "directml": "DmlExecutionProvider",
               "coreml": "CoreMLExecutionProvider", "cpu": "CPUExecutionProvider"}
CPU = "CPUExecutionProvider"


def available_providers() -> list[str]:
    import onnxruntime as ort

    return ort.get_available_providers()


def choose_providers(wanted: str = "auto") -> list[str]:
    """The providers to ask for, best first, always ending with the CPU."""
    available = available_providers()
    if wanted and wanted != "auto":
        name = SHORT_NAMES.get(wanted.lower(), wanted)
        if name not in available:
            log.warning("execution provider %s is not in this onnxruntime build "
                        "(it has %s); using the best available", wanted,
                        ", ".join(available))
        else:
            return [name] + ([CPU] if name != CPU else [])
    chosen = [p for p in PREFERENCE if p in available]
    return chosen or [CPU]


@dataclass
class _Loaded:
    session: ort.InferenceSession
    last_used: float
    in_use: int = 0


class Runtime:
    def __init__(self, threads: int = 0, idle_seconds: float = 300,
                 provider: str = "auto", memory_arena: bool = False):
        self.threads = threads if threads > 0 else min(4, os.cpu_count() or 1)
        self.idle_seconds = idle_seconds
        self.wanted = provider
        self.memory_arena = memory_arena
        # What onnxruntime really ran the latest session on; None until one loads.
        self.in_use: str | None = None
        self._providers: list[str] | None = None
        self._loaded: dict[str, _Loaded] = {}
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    @property
    def providers(self) -> list[str]:
        """The providers sessions ask for, best first; the first call imports
        onnxruntime."""
        if self._providers is None:
            self._providers = choose_providers(self.wanted)
        return self._providers

    # -- sessions -------------------------------------------------------------------

    def _options(self) -> ort.SessionOptions:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # The arena keeps the peak of every run reserved for the life of the
        # session; with models that run once per photo it only raises resident
        # memory (bench/bench_recognition.py measures both).
        options.enable_cpu_mem_arena = self.memory_arena
        options.log_severity_level = 3
        return options

    def _load(self, spec: ModelSpec) -> ort.InferenceSession:
        path = spec.path("model")  # checks the file before onnxruntime reads it
        asked = self.providers
        started = time.monotonic()
        try:
            session = self._session(spec.name, path, asked)
        except ModelError as exc:
            if asked == [CPU]:
                raise
            # A GPU provider in the build whose driver or libraries are missing
            # fails here; the CPU still runs every model, only slower.
            session = self._session(spec.name, path, [CPU])
            log.warning("%s; recognition runs on the CPU from now on", exc)
            asked = [CPU]

        used = session.get_providers()[0]
        if used != asked[0]:
            # onnxruntime may also drop a provider that will not start by itself
            # (it warns and carries on): later sessions need not try it again.
            log.warning("onnxruntime could not use %s for model %s and runs it on "
                        "%s; later models will too", asked[0], spec.name, used)
        self._providers = list(session.get_providers())
        self.in_use = used
        log.info("model %s loaded in %.2fs on %s", spec.name,
                 time.monotonic() - started, used)
        return session

    def _session(self, name: str, path: Path,
                 providers: list[str]) -> ort.InferenceSession:
        import onnxruntime as ort

        try:
            return ort.InferenceSession(str(path), self._options(),
                                        providers=providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"{name}: onnxruntime cannot load {path.name} on "
                             f"{providers[0]}: {exc}") from None

    @contextmanager
    def use(self, spec: ModelSpec) -> Iterator[ort.InferenceSession]:
        """The session of a model, loaded if needed, kept while the block runs."""
        key = str(spec.folder / spec.files["model"]["path"])
        with self._lock:
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                loaded = self._loaded.get(key)
            if loaded is None:
                loaded = _Loaded(self._load(spec), time.monotonic())
                with self._lock:
                    self._loaded[key] = loaded
            with self._lock:
                loaded.in_use += 1
        self._start_reaper()
        try:
            yield loaded.session
        finally:
            with self._lock:
                loaded.in_use -= 1
                loaded.last_used = time.monotonic()

    def unload_idle(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = [k for k, v in self._loaded.items()
                    if v.in_use == 0 and now - v.last_used >= self.idle_seconds]
            for key in idle:
                del self._loaded[key]
        for key in idle:
            log.info("model %s unloaded after %.0fs idle", os.path.basename(key),
                     self.idle_seconds)
        return len(idle)

    def unload_all(self) -> None:
        with self._lock:
            self._loaded = {k: v for k, v in self._loaded.items() if v.in_use}

    def forget(self, folder_prefix: str) -> None:
        """Drop the sessions of files under a folder (a pack being removed)."""
        with self._lock:
            self._loaded = {k: v for k, v in self._loaded.items()
                            if not k.startswith(folder_prefix)}

    def loaded(self) -> list[str]:
        with self._lock:
            return sorted(os.path.basename(k) for k in self._loaded)

    def describe(self) -> dict:
        """`provider` is the one onnxruntime runs on, or, before any model has
        loaded (`provider_confirmed` false), the one it will be asked for first."""
        return {"provider": self.in_use or self.providers[0],
                "provider_confirmed": self.in_use is not None,
                "providers": list(self.providers),
                "available_providers": available_providers(),
                "threads": self.threads, "idle_unload_seconds": self.idle_seconds,
                "loaded": self.loaded()}

    # -- idle reaper ----------------------------------------------------------------

    def _start_reaper(self) -> None:
        if self._reaper is not None or self.idle_seconds <= 0:
            return
        with self._lock:
            if self._reaper is not None:
                return
            self._reaper = threading.Thread(target=self._reap, name="ml-unloader",
                                            daemon=True)
        self._reaper.start()

    def _reap(self) -> None:
        step = max(0.5, min(30.0, self.idle_seconds / 4))
        while not self._stop.wait(step):
            self.unload_idle()

    def close(self) -> None:
        self._stop.set()
        self.unload_all()
