"""How well the text analysis hears each sentence's tone (script.tone): accuracy and the confusion matrix on the
labelled news sentences in tests/data (written for the tests), English and Korean, tuned-on and held-out sets.

    .venv/bin/python benchmarks/tone.py

Targets (issue 26): at least 85% on each language's labelled set, and no grave sentence read as warm.
"""
from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from announcer.config import TONES
from announcer.script.tone import sentence_tone

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = [("tone_en.tsv", "en"), ("tone_en_heldout.tsv", "en"), ("tone_ko.tsv", "ko"), ("tone_ko_heldout.tsv", "ko")]


def main() -> None:
    for name, language in SETS:
        rows = [line.split("\t") for line in (DATA / name).read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
        started = time.perf_counter()
        counts = Counter((label, sentence_tone(text, language)) for label, text in rows)
        seconds = time.perf_counter() - started
        right = sum(n for (label, heard), n in counts.items() if label == heard)
        print(f"\n{name}: {len(rows)} sentences, accuracy {right / len(rows):.1%}, "
              f"grave read as warm {counts[('grave', 'warm')]}, {seconds / len(rows) * 1000:.2f} ms a sentence")
        print("label \\ heard " + "".join(f"{tone:>9}" for tone in TONES))
        for label in TONES:
            print(f"{label:13} " + "".join(f"{counts[(label, heard)]:9d}" for heard in TONES))


if __name__ == "__main__":
    main()
