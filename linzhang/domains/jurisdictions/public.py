"""Read facade of the jurisdictions domain: the one synchronous cross-domain call (DESIGN: Boundaries)."""
