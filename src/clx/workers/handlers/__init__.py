"""Job handlers: one module per job kind, each wrapping a pure processor."""
