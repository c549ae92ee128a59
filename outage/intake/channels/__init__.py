"""Intake channels: SMS and IVR webhooks and the inbound e-mail receiver.

Each channel is a thin adapter: it reads what the customer sent, turns it into a
`ReportIn` (or a status question) and calls the intake service, then words the answer
in the customer's language. Placing, de-duplicating and storing stay in the service.
"""
