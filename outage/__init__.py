"""Outage reporting and geospatial dispatch for electricity distribution utilities."""
