"""Benchmarks: each measures this system against a baseline in the same run.

`outage bench [SECTION ...] [--quick]` runs them and prints one JSON object.
"""
