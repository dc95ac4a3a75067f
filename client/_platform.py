"""The identifying headers every request carries (the SDK's ``User-Agent`` and ``X-Stainless-*`` set)."""

from __future__ import annotations

import platform
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["PLATFORM_HEADERS", "VERSION"]

VERSION: Final = "0.1.0"

_OS_NAMES: Final = {"Darwin": "MacOS", "Windows": "Windows", "Linux": "Linux"}
_ARCH_NAMES: Final = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}


def _platform_headers() -> Mapping[str, str]:
    system = platform.system()
    machine = platform.machine().lower()
    return MappingProxyType(
        {
            "accept": "application/json",
            "user-agent": f"AsyncOpenAI/Python {VERSION}",
            "x-stainless-lang": "python",
            "x-stainless-package-version": VERSION,
            "x-stainless-os": _OS_NAMES.get(system, f"Other:{system.lower()}"),
            "x-stainless-arch": _ARCH_NAMES.get(machine, f"other:{machine}"),
            "x-stainless-runtime": platform.python_implementation(),
            "x-stainless-runtime-version": platform.python_version(),
            "x-stainless-async": "async:asyncio",
        }
    )


#: computed once, at import; lower-case names, as sent
PLATFORM_HEADERS: Final = _platform_headers()
