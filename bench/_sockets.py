"""What the kernel says about a server process (Linux ``/proc``): its open TCP connections and its memory."""

from __future__ import annotations

from pathlib import Path

__all__ = ["established_connections", "rss_bytes"]

_ESTABLISHED = "01"
_CLOSE_WAIT = "08"


def established_connections(port: int) -> int:
    """TCP connections whose local port is ``port`` and that are still open (established, or closed by the peer
    but not yet by the server), across this network namespace."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] in (_ESTABLISHED, _CLOSE_WAIT):
                count += 1
    return count


def rss_bytes(pid: int) -> int:
    """The resident set size of process ``pid``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
