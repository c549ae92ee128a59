"""Personal data's lifecycle: erasure after the retention period, and a customer's
requests to see or erase their data (Decree 13/2023, the Personal Data Protection Law)."""

ERASED = "[erased]"
"""What a required text column holds once its personal data is erased."""
