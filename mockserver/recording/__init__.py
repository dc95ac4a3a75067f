"""Record, replay and proxy: real exchanges captured in cassettes and answered again, with faults on top.

- :mod:`.settings`: ``RecordingSettings`` (``ServerConfig.recording``) and ``Upstream``.
- :mod:`.cassette`: the cassette format, loaded and checked, written atomically without secrets.
- :mod:`.matching`: which recorded exchange answers a request, and the closest one when none does.
- :mod:`.replay`: recorded exchanges as replies, at their recorded pace.
- :mod:`.proxy`: forwarding to the upstream, relaying streams event by event, recording.
- :mod:`.route`: the route that plugs all of it into the request path.
"""

from __future__ import annotations

from .cassette import Cassette, CassetteError, Interaction, load_cassette, save_cassette
from .session import RecordingSession
from .settings import RecordingSettings, Upstream

__all__ = [
    "Cassette",
    "CassetteError",
    "Interaction",
    "RecordingSession",
    "RecordingSettings",
    "Upstream",
    "load_cassette",
    "save_cassette",
]

for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
