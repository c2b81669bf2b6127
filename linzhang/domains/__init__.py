"""Bounded domain modules; they talk to each other only through linzhang.contracts events."""
