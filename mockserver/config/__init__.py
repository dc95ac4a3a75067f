"""How a run is set up: the validated server configuration (JSON or YAML, or built in code), the embedded default,
and scenario files that layer a run's faults on top."""
