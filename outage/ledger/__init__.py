"""Tamper-evident records: the rows that prove how the utility served, sealed into hash
chains and checked against them (`docs/tamper-evidence.md`)."""
