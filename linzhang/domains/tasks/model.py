"""Pure rules of the tasks domain: no I/O."""
