"""corpus-tools: turn scraped news text into a clean, auditable JSONL corpus."""

__version__ = "0.4.0"
