"""Switching orders: planned sequences of device operations, checked by simulating them on
the live network, approved by a second person, then executed step by step."""
