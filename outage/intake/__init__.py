"""Reports from every channel, matched onto the network."""
