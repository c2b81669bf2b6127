"""Pure rules of the assessments domain: no I/O."""
