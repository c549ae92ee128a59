"""Simulated storms driven against a running server through its real HTTP channels."""
