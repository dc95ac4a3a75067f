"""The HTTP core: the one path every API request takes (dispatch), how a reply goes on the wire shaped by the fault
engine (delivery), the middleware, and the ``/_mock/`` control plane."""
