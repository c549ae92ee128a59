"""The HTTP plumbing routes and pages share: dependencies, middleware, error answers."""
