"""Phone timings for narration in other languages: free recognition against alignment to the script.

    .venv/bin/python benchmarks/narration_phones.py

Two tables:
- Speech made by espeak-ng (German, French, Spanish, Korean), whose own phone times are the truth. For each way of
  timing, the p/b/m count (the lip closures) and the median error of their onsets.
- Real recordings: jfk.wav and eight LJ Speech clips with their transcripts (in English, through the same
  language-independent path), and the four multilingual recordings without a script. For each, the seconds spent
  per second of speech (the issue's bounds: 0.1 with a script, 0.3 without), and for those with a script the phone
  error rate of free recognition against the script's own phones (edits over the script's phone count).
"""
from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np
import soundfile

REPO = Path(__file__).resolve().parent.parent
AUDIO = REPO.parent / "shared" / "media" / "audio"
MADE = {
    "de": "Guten Abend, meine Damen und Herren. Hier sind die Nachrichten. Die Regierung hat heute ein neues Gesetz beschlossen.",
    "fr": "Bonsoir, voici les informations. Le gouvernement a présenté aujourd'hui un nouveau projet de loi.",
    "es": "Buenas noches, estas son las noticias. El gobierno ha aprobado hoy una nueva ley.",
    "ko": "안녕하세요. 아침 뉴스입니다. 오늘 서울의 최고 기온은 십이 도로 어제보다 삼 도 높겠습니다.",
}
BILABIALS = ("p", "b", "m")


def onsets(phones) -> np.ndarray:
    return np.array([p.start for p in phones if p.label.startswith(BILABIALS)])


def onset_error_ms(truth: np.ndarray, found: np.ndarray) -> float:
    if not len(truth) or not len(found):
        return float("nan")
    return 1000 * float(np.median([np.abs(found - t).min() for t in truth]))


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def made_speech(recogniser) -> None:
    from announcer.voice.espeak_engine import EspeakEngine

    print("espeak-ng speech      p/b/m: truth  heard  script   onset error ms: heard  script   script fit  share")
    for language, text in MADE.items():
        spoken = EspeakEngine(None, language, 1.0).speak(text)
        heard = recogniser.phones(spoken.audio, spoken.sample_rate)
        aligned = recogniser.script_phones(spoken.audio, spoken.sample_rate, text, language)
        truth = onsets(spoken.phonemes)
        print(f"{language:20} {len(truth):12} {len(onsets(heard)):6} {len(onsets(aligned.phones)):7} "
              f"{onset_error_ms(truth, onsets(heard)):22.0f} {onset_error_ms(truth, onsets(aligned.phones)):7.0f} "
              f"{aligned.fit:12.2f} {aligned.share:6.2f}")


def recordings() -> list[tuple[Path, str | None, str]]:
    rows = list(csv.reader(open(AUDIO / "ljspeech" / "metadata.csv", encoding="utf-8"), delimiter="|"))
    scripted = [(AUDIO / "jfk.wav", (AUDIO / "jfk.txt").read_text().strip(), "en")]
    scripted += [(AUDIO / "ljspeech" / f"{row[0]}.wav", row[-1], "en") for row in rows[:8]]
    unscripted = [(path, None, path.name[:2]) for path in sorted((AUDIO / "multilingual").glob("*.wav"))]
    return scripted + unscripted


def edit_distance(heard: list[str], said: list[str]) -> int:
    row = list(range(len(said) + 1))
    for i, phone in enumerate(heard, 1):
        diagonal, row[0] = row[0], i
        for j, expected in enumerate(said, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (phone != expected))
    return row[-1]


def cost(recogniser) -> None:
    print("\nrecording            seconds   script: s per s  fit    share  phone error   no script: s per s")
    totals = {"script": [0.0, 0.0], "free": [0.0, 0.0]}
    errors = [0, 0]
    for path, text, language in recordings():
        audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
        audio = audio.mean(axis=1)
        seconds = len(audio) / rate
        _, free_s = timed(recogniser.phones, audio, rate)
        totals["free"][0] += free_s
        totals["free"][1] += seconds
        row = f"{path.name:20} {seconds:7.1f}"
        if text is not None:
            aligned, script_s = timed(recogniser.script_phones, audio, rate, text, language)
            totals["script"][0] += script_s
            totals["script"][1] += seconds
            said = [phone.label for phone in aligned.phones if any(c.isalpha() for c in phone.label)]
            wrong = edit_distance([phone.label for phone in aligned.heard], said)
            errors[0] += wrong
            errors[1] += len(said)
            row += f"   {script_s / seconds:15.3f} {aligned.fit:6.2f} {aligned.share:6.2f} {wrong / len(said):12.3f}"
        else:
            row += " " * 46
        print(row + f" {free_s / seconds:20.3f}")
    for name, (spent, heard) in totals.items():
        print(f"all, {name}: {spent / heard:.3f} s per s of speech")
    print(f"all, phone error rate of free recognition against the scripts: {errors[0] / errors[1]:.3f} "
          f"over {errors[1]} phones")


def main() -> None:
    from announcer.voice.phones import PhoneRecogniser

    recogniser, load_s = timed(PhoneRecogniser)
    print(f"recogniser loads in {load_s:.2f} s\n")
    made_speech(recogniser)
    cost(recogniser)


if __name__ == "__main__":
    main()
