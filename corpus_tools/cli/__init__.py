"""The command line: parse options, open streams, call the library. No text processing happens here."""

from corpus_tools.cli import ingest  # noqa: F401  (each import registers its commands on ``app``)
from corpus_tools.cli import credits  # noqa: F401
from corpus_tools.cli import explain  # noqa: F401
from corpus_tools.cli import check  # noqa: F401
from corpus_tools.cli import stats  # noqa: F401
from corpus_tools.cli import teasers  # noqa: F401
from corpus_tools.cli import clean  # noqa: F401
from corpus_tools.cli import normalize  # noqa: F401
from corpus_tools.cli.app import app, main

__all__ = ["app", "main"]
