"""The network and the people on it, as stored in PostGIS."""
