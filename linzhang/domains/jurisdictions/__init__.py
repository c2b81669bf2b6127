"""The jurisdictions domain."""
