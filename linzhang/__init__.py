"""linzhang: the forest-chief (林长制) responsibility system."""

__version__ = "0.1.0"
