"""Open311 GeoReport v2: the standard interface for third-party reporting apps."""
