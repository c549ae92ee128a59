"""Customer-care service requests: types and SLAs, back-office queues, ratings."""
