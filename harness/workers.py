"""One encoding worker process per device (``devices=[...]``, ``device=cuda:all``).

As in sentence-transformers' multi-process pool, each worker is a spawned process that loads the
model on its device once and then encodes whatever inputs it is sent. It appends their vectors to
a shard of its own in the run's vector store (the cache, or the run's temporary store), and the
run reads them back from there, so vectors never travel between processes. The inputs of one
encode call are dealt to the workers longest first, round robin, so each gets a similar share of
tokens; a vector does not depend on which worker computed it beyond float rounding.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import signal
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from harness.errors import HarnessError, HarnessRuntimeError, one_line
from harness.schema import ModelConfig, RunConfig
from harness.vectors import StoreLocation

REPORT_EVERY = 1024  # a worker reports progress after this many texts
POLL_S = 1.0  # how often a waiting run checks that its workers are alive


@dataclass(frozen=True)
class WorkerSpec:
    """How every worker encodes: the recipe and the run's encode settings."""

    model: ModelConfig
    precision: str
    batch_size: int
    max_batch_tokens: int
    precision_fallback: bool
    threads: int  # torch threads of a CPU worker
    autocast: str | None = None  # fp32 weights under torch.autocast of this dtype


class EncodePool:
    """Worker processes, one per device, started on the first encode call."""

    def __init__(self, devices: list[str], spec: WorkerSpec, show_progress: bool = True):
        self.devices = devices
        self.spec = spec
        self.show_progress = show_progress
        self._workers: list[tuple[Any, Any]] = []  # (process, its request queue)
        self._replies: Any = None
        self._interrupted = False  # a request was abandoned: stop the workers at once

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")  # CUDA cannot be used after fork
        self._replies = context.Queue()
        for number, device in enumerate(self.devices):
            requests = context.Queue()
            process = context.Process(target=serve, name=f"harness-encode-{device}", daemon=True,
                                      args=(number, device, self.spec, requests, self._replies))
            process.start()
            self._workers.append((process, requests))

    def encode(self, prompt: str, items: list[tuple[bytes, str]], location: StoreLocation,
               desc: str, max_length: int) -> None:
        """Encode ``items`` (key, text) on every device into ``location``; returns when all are
        stored. A worker's error is raised here; a worker that dies is a HarnessRuntimeError."""
        if not self._workers:
            self._start()
        order = sorted(range(len(items)), key=lambda i: -len(items[i][1]))
        count = len(self._workers)
        busy = set()
        for number, (_, requests) in enumerate(self._workers):
            part = [items[i] for i in order[number::count]]
            if part:
                requests.put((location, prompt, part, desc, max_length))
                busy.add(number)
        progress = tqdm(total=len(items), desc=f"{desc} ({count} devices)", unit="text",
                        disable=not self.show_progress, leave=False)
        try:
            while busy:
                try:
                    kind, number, value = self._replies.get(timeout=POLL_S)
                except queue.Empty:
                    self._check_alive()
                    continue
                if kind == "progress":
                    progress.update(value)
                elif kind == "done":
                    busy.discard(number)
                else:
                    raise value
        except BaseException:  # an error, Ctrl-C: the other workers' requests are abandoned
            self._interrupted = True
            raise
        finally:
            progress.close()

    def _check_alive(self) -> None:
        for (process, _), device in zip(self._workers, self.devices, strict=True):
            if not process.is_alive():
                raise HarnessRuntimeError(
                    f"the encoding worker on {device} died (exit code {process.exitcode}); "
                    "vectors it stored are kept, rerun to resume")

    def close(self) -> None:
        """Stop the workers: each closes its shard after its request, or at once after an
        error or interruption (what a worker stored is flushed batch by batch)."""
        for _, requests in self._workers:
            requests.put(None)
        for process, _ in self._workers:
            process.join(timeout=1 if self._interrupted else 60)
            if process.is_alive():
                process.terminate()
                process.join()
        self._workers = []


def encode_pool(cfg: RunConfig, devices: list[str], precision: str,
                autocast: str | None = None) -> EncodePool | None:
    """The run's pool: one worker per device when it has several (None: encode in-process)."""
    if len(devices) < 2:
        return None
    import torch

    threads = max(1, torch.get_num_threads() // len(devices))
    spec = WorkerSpec(cfg.model, precision, cfg.batch_size, cfg.max_batch_tokens,
                      cfg.precision_fallback, threads, autocast)
    return EncodePool(devices, spec, show_progress=cfg.show_progress)


def _portable(exc: BaseException, device: str) -> BaseException:
    """``exc`` if it survives pickling (the harness's own errors do), else a one-line copy."""
    if isinstance(exc, HarnessError):
        try:
            pickle.loads(pickle.dumps(exc))
            return exc
        except Exception:  # an attribute that does not pickle
            pass
    return HarnessRuntimeError(f"encoding worker on {device}: {one_line(exc)}")


def serve(number: int, device: str, spec: WorkerSpec, requests: Any, replies: Any) -> None:
    """A worker's loop: encode each request into its store location until ``None`` comes."""
    import torch

    from harness.models.device import device_kind

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # on Ctrl-C the run stops its workers itself
    if device_kind(device) == "cpu":
        torch.set_num_threads(spec.threads)

    from harness.logs import quiet_libraries
    from harness.models.encoder import HarnessEncoder
    from harness.models.heads import DimProjector
    from harness.models.loading import load_backend

    quiet_libraries()
    encoder: HarnessEncoder | None = None
    where: StoreLocation | None = None
    try:
        while (request := requests.get()) is not None:
            location, prompt, items, desc, max_length = request
            try:
                if encoder is None or location != where:
                    backend = encoder.backend if encoder is not None and encoder.backend_loaded \
                        else (lambda: load_backend(spec.model, device, spec.precision,
                                                   spec.autocast))
                    if encoder is not None:
                        encoder.close()
                    encoder = HarnessEncoder(
                        spec.model, backend, DimProjector("none", None, False),
                        batch_size=spec.batch_size, max_batch_tokens=spec.max_batch_tokens,
                        show_progress=False, cache=location.open(),
                        precision_fallback=spec.precision_fallback)
                    where = location
                for start in range(0, len(items), REPORT_EVERY):
                    part = items[start:start + REPORT_EVERY]
                    encoder.encode_to_store(prompt, [k for k, _ in part], [t for _, t in part],
                                            desc, max_length)
                    replies.put(("progress", number, len(part)))
                encoder.forget()  # the run counts hits; this worker need not remember keys
                replies.put(("done", number, None))
            except Exception as exc:  # reported to the run, which raises it
                replies.put(("error", number, _portable(exc, device)))
    finally:
        if encoder is not None:
            encoder.close()
