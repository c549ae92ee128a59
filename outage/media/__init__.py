"""Photos from customers and crews: checked, re-encoded and kept in the database."""
