"""A toy step from outside the package: drop records shorter than N words, record each record's word count.

It registers through the entry-point group ``corpus_tools.steps`` (see the dist-info folder beside it) and uses
only the public step interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from corpus_tools.errors import ConfigError
from corpus_tools.step import Doc, Drop, Labels, Step, option


@dataclass(frozen=True)
class ShortDocsOptions:
    min_words: int = option(5, "Drop a record with fewer words than this.", flag="--min-doc-words", low=1)

    def __post_init__(self) -> None:
        if self.min_words < 1:
            raise ConfigError(f"shortdocs: min_words must be at least 1, got {self.min_words}")


class ShortDocs(Step):
    name = "shortdocs"
    Options = ShortDocsOptions
    summary = "Drop records shorter than --min-doc-words words."
    metadata = {"word_count": "integer"}
    reasons = {"too_short": "fewer words than min_words"}
    order = 450

    def label(self, doc: Doc) -> Labels:
        words = len(doc.text.split())
        drop = Drop("too_short", {"words": words}) if words < self.options.min_words else None
        return Labels(doc, drop=drop, found=words)

    def record_found(self, metadata: dict[str, Any], labels: Labels) -> None:
        metadata["word_count"] = labels.found
