"""Access control: staff accounts and roles, integration keys, the permission matrix."""
