"""Pure rules of the chiefs domain: no I/O."""
