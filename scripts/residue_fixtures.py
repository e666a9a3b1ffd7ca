#!/usr/bin/env python3
"""Rebuild (or check) tests/data/residue/lines.jsonl from the labelled window list and the shared real pages.

tests/data/residue/windows.txt names each window by page, rendering and line range of the page's text in
``../shared/realworld/docs-<rendering>.jsonl.zst`` (trafilatura's evaluation set), with its language and one letter
per line for its kind (see that file's header). This script copies those lines out, leaves out the lines marked
``.``, blank ones and any longer than 320 characters, and writes one JSON object per window, sorted by page and
rendering: ``{"page", "rendering", "part", "lang", "lines": [{"text", "kind"}, ...]}``.

    python scripts/residue_fixtures.py --check            # is lines.jsonl what windows.txt says? (exit 1 if not)
    python scripts/residue_fixtures.py                    # rewrite lines.jsonl from windows.txt
    python scripts/residue_fixtures.py --data /path/to/realworld

To add windows: find the lines (``labels.jsonl`` there names keep and cut snippets per page), append a line to
windows.txt, rebuild, and read the result. Prints the counts per kind, part, rendering and language.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parent.parent
RESIDUE = ROOT / "tests" / "data" / "residue"
MAX_LINE = 320
CODES = {
    "b": "body",
    "p": "preview",
    "l": "link_block",
    "a": "cta",
    "f": "furniture",
    "d": "date",
    "c": "contact",
    "k": "caption",
    "h": "photo_credit",
    "y": "byline",
    "o": "bio",
    "t": "translator",
    "r": "contributor",
}


def default_data() -> Path:
    """``../shared/realworld`` next to the repository (or next to the worktree folder that holds it)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "realworld").is_dir():
            return base / "shared" / "realworld"
    return ROOT.parent / "shared" / "realworld"


def load_pages(data: Path, rendering: str) -> dict[str, list[str]]:
    with open(data / f"docs-{rendering}.jsonl.zst", "rb") as f:
        text = zstandard.ZstdDecompressor().stream_reader(f).read().decode("utf-8")
    return {d["id"]: d["text"].split("\n") for d in map(json.loads, text.splitlines())}


def build(spec: Path, data: Path) -> list[dict]:
    pages = {r: load_pages(data, r) for r in ("extracted", "plain")}
    windows = []
    for n, raw in enumerate(spec.read_text(encoding="utf-8").splitlines(), 1):
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        page, rendering, start, end, lang, codes = raw.split()
        lines = pages[rendering][page][int(start) : int(end)]
        if len(codes) != len(lines) or any(c != "." and c not in CODES for c in codes):
            raise SystemExit(f"{spec.name}:{n}: {len(codes)} letters for {len(lines)} lines, or an unknown letter")
        kept = [
            {"text": t.strip(), "kind": CODES[c]}
            for t, c in zip(lines, codes, strict=True)
            if c != "." and t.strip() and len(t.strip()) <= MAX_LINE
        ]
        if kept:
            part = "tune" if int(page[-1]) % 2 == 0 else "report"
            windows.append({"page": page, "rendering": rendering, "part": part, "lang": lang, "lines": kept})
    windows.sort(key=lambda w: (w["page"], w["rendering"]))  # stable: a page's windows keep their order
    return windows


def dumps(windows: list[dict]) -> str:
    return "".join(json.dumps(w, ensure_ascii=False) + "\n" for w in windows)


def summary(windows: list[dict]) -> str:
    kinds: Counter[str] = Counter()
    split: Counter[tuple[str, str, str]] = Counter()
    langs: Counter[str] = Counter()
    for w in windows:
        for x in w["lines"]:
            kinds[x["kind"]] += 1
            split[w["part"], w["rendering"], "body" if x["kind"] == "body" else "residue"] += 1
            langs[w["lang"]] += 1
    out = [f"{len(windows)} windows, {sum(kinds.values())} lines, {len({w['page'] for w in windows})} pages"]
    out.append("kinds: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    out.append("part/rendering: " + ", ".join(f"{'/'.join(k)} {n}" for k, n in sorted(split.items())))
    out.append("languages: " + ", ".join(f"{k} {n}" for k, n in langs.most_common()))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None, help="the realworld folder (default: ../shared/realworld)")
    ap.add_argument("--spec", type=Path, default=RESIDUE / "windows.txt")
    ap.add_argument("--out", type=Path, default=RESIDUE / "lines.jsonl")
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    a = ap.parse_args(argv)
    windows = build(a.spec, a.data or default_data())
    text = dumps(windows)
    if a.check:
        same = a.out.is_file() and a.out.read_text(encoding="utf-8") == text
        print(f"{a.out}: {'matches' if same else 'DIFFERS FROM'} {a.spec.name}")
        print(summary(windows))
        return 0 if same else 1
    a.out.write_text(text, encoding="utf-8")
    print(f"wrote {a.out}")
    print(summary(windows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
