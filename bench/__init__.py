"""Benchmarks of the harness, run as ``python -m bench <subcommand> [--json out.json]``.

Each benchmark is one module in this package (see :mod:`bench.__main__` for the registry); they are not part of
the test suite, because timings on a shared machine are measurements, not assertions.
"""
