#!/usr/bin/env bash
# Installs everything announcer needs on a fresh Debian/Ubuntu machine: ffmpeg from the system,
# then a virtual environment (.venv) with the package, its voices and its test tools.
set -euo pipefail
cd "$(dirname "$0")"

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # fonts-nanum: on-screen text in Hangul and Latin; tesseract: the tests read that text back from frames;
  # chromium and its driver: the studio's browser test.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg fonts-nanum \
    tesseract-ocr tesseract-ocr-eng tesseract-ocr-kor chromium chromium-driver >/dev/null
else
  echo "install.sh: no apt-get here; install ffmpeg (with ffprobe), a Hangul font (NanumGothic), tesseract and chromium yourself" >&2
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip "setuptools>=77" wheel  # the tests build a wheel offline
# torch and torchaudio first, pinned, so nothing later pulls in a different build.
.venv/bin/python -m pip install --quiet "torch==2.9.1" "torchaudio==2.9.*"
.venv/bin/python -m pip install --quiet -e ".[coqui,ray,test]"
.venv/bin/announcer --version
