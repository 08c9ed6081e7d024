"""onnxruntime sessions: one per model, loaded on first use, dropped when idle.

A session costs tens to hundreds of megabytes, and a library is mostly idle once its
photos are indexed, so every session is released after `idle_seconds` without use
and loaded again when next needed. A session in use is never released. The execution
provider is picked once from what this onnxruntime build offers, in the order of
`PREFERENCE`, and reported by `describe()`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import onnxruntime as ort

from lumilio.ml.manifest import ModelError, ModelSpec

log = logging.getLogger(__name__)

PREFERENCE = ("CUDAExecutionProvider", "DmlExecutionProvider",
              "CoreMLExecutionProvider", "CPUExecutionProvider")
SHORT_NAMES = {"cuda": "CUDAExecutionProvider", "directml": "DmlExecutionProvider",
               "coreml": "CoreMLExecutionProvider", "cpu": "CPUExecutionProvider"}


def choose_providers(wanted: str = "auto") -> list[str]:
    """The providers to ask for, best first, always ending with the CPU."""
    available = ort.get_available_providers()
    if wanted and wanted != "auto":
        name = SHORT_NAMES.get(wanted.lower(), wanted)
        if name not in available:
            log.warning("execution provider %s is not in this onnxruntime build "
                        "(it has %s); using the best available", wanted,
                        ", ".join(available))
        else:
            return [name] + (["CPUExecutionProvider"] if name !=
                             "CPUExecutionProvider" else [])
    chosen = [p for p in PREFERENCE if p in available]
    return chosen or ["CPUExecutionProvider"]


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
        self.providers = choose_providers(provider)
        self.memory_arena = memory_arena
        self._loaded: dict[str, _Loaded] = {}
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    # -- sessions -------------------------------------------------------------------

    def _options(self) -> ort.SessionOptions:
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
        path = spec.path("model")
        started = time.monotonic()
        try:
            session = ort.InferenceSession(str(path), self._options(),
                                           providers=self.providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"{spec.name}: onnxruntime cannot load "
                             f"{path.name}: {exc}") from None
        log.info("model %s loaded in %.2fs on %s", spec.name,
                 time.monotonic() - started, session.get_providers()[0])
        return session

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
        return {"provider": self.providers[0], "providers": list(self.providers),
                "available_providers": ort.get_available_providers(),
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
