"""The outbox: what customers must be told, written in the transaction of the change that
implies it; notifications fan it out afterwards. Below both the domains that write it
and the one that reads it."""
