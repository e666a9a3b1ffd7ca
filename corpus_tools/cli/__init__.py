"""The command line: parse options, open streams, call the library. No text processing happens here."""

# Each import registers its commands on ``app``, in the order ``--help`` lists them: the pipeline's order.
from corpus_tools.cli import ingest, normalize, credits, teasers, explain, clean, check, stats  # noqa: F401, I001
from corpus_tools.cli.app import app, main

__all__ = ["app", "main"]
