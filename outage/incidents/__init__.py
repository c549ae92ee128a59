"""Incidents: predicted and confirmed outages and hazards, their lifecycle and audit trail."""
