"""Pure rules of the jurisdictions domain: no I/O."""
