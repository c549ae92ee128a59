"""IEEE 1366 reliability: interruption records from incidents, indices, Major Event Days."""
