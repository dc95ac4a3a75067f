"""The downstream project under ``project/`` is a separate test suite, run in a subprocess by
``test_downstream_project.py``; it is never collected as part of this one."""

collect_ignore = ["project"]
