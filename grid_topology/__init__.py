"""The network model: importers, the connectivity graph, switching state and tracing.

Everything here is plain data in, plain answers out: no SQL, no HTTP.
"""
