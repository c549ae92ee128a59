"""Proactive customer notifications: fanning the outbox out, delivery workers, templates."""
