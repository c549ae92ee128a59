"""Storm operations: a declared storm's level, its phases by region, and the restoration
time it gives customers before every job has its own."""
