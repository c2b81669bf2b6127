"""The chiefs domain."""
