"""Proactive customer notifications: the transactional outbox, delivery workers, templates."""
