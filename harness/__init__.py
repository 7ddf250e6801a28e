"""mteb-harness: evaluate text-embedding models on MTEB and reproduce published scores."""

__version__ = "0.1.0"
