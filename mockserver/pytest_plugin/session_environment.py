"""The test session's environment: OpenAI and Azure OpenAI clients built anywhere in the session - at import time
of an application module, in a conftest, in a test - find the fake through their usual environment variables.

Before any conftest or test module is imported, the plugin reserves a loopback port (bound, not listening: a client
that calls before the fake is started is refused at once, never left waiting) and points the variables at it; the
fake starts on that port when a fixture first needs it. Each xdist worker does this for itself (the controller
runs no tests). The real values come back when the session ends.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["AZURE_API_VERSION", "FAKE_VARIABLES", "SessionEnvironment"]

#: the ``api-version`` the plugin puts in ``OPENAI_API_VERSION`` (a GA version the fake serves)
AZURE_API_VERSION = "2024-10-21"
#: the variables the plugin sets for the session
FAKE_VARIABLES = (
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "OPENAI_API_VERSION",
)
#: variables that would send a client elsewhere or with other credentials; removed for the session
_CLEARED = ("AZURE_OPENAI_AD_TOKEN",)


@dataclass(slots=True)
class SessionEnvironment:
    """A reserved loopback port and the variables that point clients at it; ``restore()`` undoes both."""

    api_key: str
    host: str = "127.0.0.1"
    #: the values the variables had before (``None``: unset)
    saved: dict[str, str | None] = field(default_factory=dict)
    _reservation: socket.socket | None = None
    _port: int = 0

    def apply(self, environ: os._Environ[str] | None = None) -> None:
        """Reserve the port and set the variables."""
        env = os.environ if environ is None else environ
        reservation = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        reservation.bind((self.host, 0))
        self._reservation, self._port = reservation, reservation.getsockname()[1]
        for name in (*FAKE_VARIABLES, *_CLEARED):
            self.saved[name] = env.get(name)
        env.update(self.variables())
        for name in _CLEARED:
            env.pop(name, None)

    @property
    def port(self) -> int:
        return self._port

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    def variables(self) -> Mapping[str, str]:
        return {
            "OPENAI_BASE_URL": f"{self.root_url}/v1",
            "OPENAI_API_KEY": self.api_key,
            "AZURE_OPENAI_ENDPOINT": self.root_url,
            "AZURE_OPENAI_API_KEY": self.api_key,
            "OPENAI_API_VERSION": AZURE_API_VERSION,
        }

    def release_port(self) -> int:
        """Give the reserved port up so the fake can listen on it; returns it."""
        if self._reservation is not None:
            self._reservation.close()
            self._reservation = None
        return self._port

    def restore(self, environ: os._Environ[str] | None = None) -> None:
        """The variables as they were, and the reservation released."""
        env = os.environ if environ is None else environ
        self.release_port()
        for name, value in self.saved.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        self.saved.clear()

    def real(self, environ: Mapping[str, str]) -> dict[str, str]:
        """``environ`` as it was before :meth:`apply` (the user's own key, say), while the variables are set."""
        real = dict(environ)
        for name, value in self.saved.items():
            if value is None:
                real.pop(name, None)
            else:
                real[name] = value
        return real

    def __repr__(self) -> str:  # never the key
        return f"<SessionEnvironment {self.root_url}>"
