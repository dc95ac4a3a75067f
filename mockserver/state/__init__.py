"""What the fake remembers between requests: stored objects, the request journal, ids, live counters, and the
one :class:`~mockserver.state.server_state.ServerState` that holds them and ``reset()`` restores."""
