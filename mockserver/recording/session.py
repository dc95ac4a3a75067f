"""One run of recording and replaying: the recorded exchanges waiting to answer, and the cassette that new
exchanges are written to. Made from :class:`RecordingSettings` each time the server state is reset."""

from __future__ import annotations

import threading
from pathlib import Path

from .cassette import (
    CassetteError,
    Interaction,
    cassette_text,
    dump_interaction,
    load_cassette,
    load_cassettes,
    write_atomically,
)
from .matching import IncomingRequest, Match, Miss, RequestPool
from .settings import RecordingSettings

__all__ = ["RecordingSession"]


class RecordingSession:
    """The replay pool and the recorder. ``take`` runs on the server's loop; ``record`` writes the file and may
    run in a worker thread (writes are serialised, each one the whole cassette, atomically)."""

    def __init__(self, settings: RecordingSettings) -> None:
        self.settings = settings
        self.pool = RequestPool(ignored=settings.ignored_paths)
        for path, cassette in load_cassettes(settings.cassettes):
            for index, interaction in enumerate(cassette.interactions):
                self.pool.add(interaction, f"{path.name}, interaction {index}")
        self._lock = threading.Lock()
        upstream = settings.upstream
        self._secrets = [upstream.key.get_secret_value()] if upstream is not None and upstream.key is not None else []
        #: the recorded interactions' texts, each dumped once (the file is their join, rewritten whole)
        self._recorded: list[str] = []
        target = settings.record_to
        if target is not None and settings.record_mode == "append" and target.exists():
            existing = load_cassette(target).interactions
            self._recorded = [dump_interaction(item, secrets=self._secrets) for item in existing]
        #: exchanges written by this session
        self.recorded_count = 0

    @property
    def record_to(self) -> Path | None:
        return self.settings.record_to

    def take(self, request: IncomingRequest) -> Match | Miss:
        return self.pool.take(request)

    def record(self, interaction: Interaction) -> None:
        """Add ``interaction`` to the cassette and write the cassette (blocking: call it from a worker thread)."""
        target = self.settings.record_to
        if target is None:
            raise CassetteError("nothing is recorded: no cassette to record to was configured")
        text = dump_interaction(interaction, secrets=self._secrets)
        with self._lock:
            self._recorded.append(text)
            self.recorded_count += 1
            write_atomically(target, cassette_text(self._recorded))
