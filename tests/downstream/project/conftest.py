"""The project's own conftest: imports the application (its client is built now), and records, below every Python
wrapper, each name lookup and connection the process makes (the interpreter's audit events)."""

import json
import os
import sys

from shopbot import app

LOOKUPS = []
CONNECTS = []


def _audit(event, args):
    if event == "socket.getaddrinfo":
        LOOKUPS.append(str(args[0]))
    elif event == "socket.connect":
        address = args[1]
        CONNECTS.append(str(address[0]) if isinstance(address, tuple) else str(address))


sys.addaudithook(_audit)


def pytest_sessionfinish(session):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.path.join(str(session.config.rootpath), f"network-{worker}.json"), "w") as out:
        json.dump({"lookups": LOOKUPS, "connects": CONNECTS, "base_url": str(app.client.base_url)}, out)
