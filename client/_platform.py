"""The identifying headers every request carries (the SDK's ``User-Agent`` and ``X-Stainless-*`` set)."""

from __future__ import annotations

import platform
from functools import cache

__all__ = ["VERSION", "platform_headers"]

VERSION = "0.1.0"


@cache
def platform_headers() -> dict[str, str]:
    """Computed once per process: lower-case names, as sent."""
    system = platform.system()
    os_name = {"Darwin": "MacOS", "Windows": "Windows", "Linux": "Linux"}.get(system, f"Other:{system.lower()}")
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, f"other:{machine}")
    return {
        "accept": "application/json",
        "user-agent": f"AsyncOpenAI/Python {VERSION}",
        "x-stainless-lang": "python",
        "x-stainless-package-version": VERSION,
        "x-stainless-os": os_name,
        "x-stainless-arch": arch,
        "x-stainless-runtime": platform.python_implementation(),
        "x-stainless-runtime-version": platform.python_version(),
        "x-stainless-async": "async:asyncio",
    }
