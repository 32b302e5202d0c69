"""Durable Standard executions and in-memory Express ones, driving the pure interpreter."""
