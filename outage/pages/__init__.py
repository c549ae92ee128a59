"""Customer web pages: report an outage without logging in, and follow it by ticket."""
