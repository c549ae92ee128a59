"""Restoration by switching: the planner's plans for an incident, and their orders."""
