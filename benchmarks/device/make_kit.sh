#!/usr/bin/env bash
# Build .devkit/: what the CUDA checks need on a lent GPU machine (benchmarks/device/README.md).
#
# That machine has Python 3.12 with torch, OpenCV, SciPy, scikit-image and safetensors, but no
# internet, no ffmpeg and none of announcer's lighter dependencies, and only the repo travels
# (64 MiB at most). So, here, where the package registries answer:
#   - wheels for Python 3.12 of the dependencies it lacks (MediaPipe the largest);
#   - a minimal static ffmpeg built from Debian's source: MP4 (H.264, MPEG-4), AAC and image decoding,
#     FFV1 for benchmarks/prepare.py's looped video, raw output; no libx264 (clips are not encoded
#     there);
#   - the face models and the few shared videos the checks read.
# The packages and ffmpeg travel as one xz archive (check.sh unpacks it into a site folder).
# Needs apt (deb-src from deb.debian.org), nasm and a C compiler; the ffmpeg build takes about
# 3 minutes on 2 cores and is kept between runs, the archive about 2.
set -euo pipefail
cd "$(dirname "$0")/../.."
KIT=${KIT:-.devkit}
SHARED=${SHARED:-../shared}
PYTHON_VERSION=${PYTHON_VERSION:-3.12}  # the GPU machine's; benchmarks/device/simulate.sh builds one for this machine's
PYTHON=${PYTHON:-.venv/bin/python}
FFMPEG_BUILD=${FFMPEG_BUILD:-/tmp/announcer-ffmpeg-build}
BUILD=${BUILD:-/tmp/announcer-kit-build-$PYTHON_VERSION}
rm -rf "$KIT" "$BUILD/site"
mkdir -p "$KIT/shared/models" "$KIT/shared/media/videos" "$BUILD/wheels"

mediapipe_version=$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("mediapipe"))')
wheels=(mediapipe=="$mediapipe_version" ffmpeg-python future num2words pyloudnorm soundfile cffi pycparser sounddevice platformdirs)
for_gpu_machine=(--no-deps --only-binary=:all: --python-version "$PYTHON_VERSION" --implementation cp
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any)
"$PYTHON" -m pip download -q "${for_gpu_machine[@]}" -d "$BUILD/wheels" "${wheels[@]}"
"$PYTHON" -m pip install -q --no-compile "${for_gpu_machine[@]}" --no-index --find-links "$BUILD/wheels" --target "$BUILD/site" "${wheels[@]}"

ffmpeg_configure=(--disable-everything --disable-autodetect --disable-doc --disable-ffplay --disable-ffprobe
    --disable-network --disable-debug --enable-static --disable-shared --extra-ldflags=-static
    --enable-protocol=file,pipe
    --enable-demuxer=mov,wav,image2,matroska,mp3,aac,rawvideo,pcm_f32le,pcm_s16le,mjpeg,png_pipe,jpeg_pipe
    --enable-decoder=h264,mpeg4,aac,mp3,mp3float,pcm_s16le,pcm_s24le,pcm_f32le,mjpeg,png,rawvideo,ffv1
    --enable-parser=h264,mpeg4video,aac,mpegaudio,mjpeg,png
    --enable-encoder=rawvideo,pcm_f32le,pcm_s16le,png,ffv1
    --enable-muxer=rawvideo,pcm_f32le,pcm_s16le,wav,null,image2,matroska
    --enable-filter=fps,scale,format,aresample,aformat,null,anull,split,reverse,concat,setpts,trim
    --enable-swscale --enable-swresample --enable-zlib)
if [ ! -x "$FFMPEG_BUILD/ffmpeg" ] || [ "$(cat "$FFMPEG_BUILD/configured-with" 2>/dev/null)" != "${ffmpeg_configure[*]}" ]; then
    apt-get install -y -q nasm build-essential zlib1g-dev >/dev/null
    sources="$FFMPEG_BUILD-apt"
    rm -rf "$FFMPEG_BUILD"
    mkdir -p "$sources/parts" "$sources/lists/partial" "$FFMPEG_BUILD"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        >"$sources/parts/src.sources"
    apt_options=(-oDir::Etc::SourceList=/dev/null -oDir::Etc::SourceParts="$sources/parts" -oDir::State::Lists="$sources/lists")
    apt-get "${apt_options[@]}" update -q >/dev/null
    (cd "$sources" && apt-get "${apt_options[@]}" source --download-only -q ffmpeg >/dev/null)
    tar -xf "$sources"/ffmpeg_*.orig.tar.xz -C "$FFMPEG_BUILD" --strip-components=1
    (cd "$FFMPEG_BUILD" && ./configure "${ffmpeg_configure[@]}" >/dev/null && make -j"$(nproc)" >/dev/null 2>&1)
    echo "${ffmpeg_configure[*]}" >"$FFMPEG_BUILD/configured-with"
fi
install -D -m 755 "$FFMPEG_BUILD/ffmpeg" "$BUILD/site/bin/ffmpeg"
strip "$BUILD/site/bin/ffmpeg"
# xz: MediaPipe's one library is 128 MB, 43 MB as a wheel and 28 MB here.
tar -C "$BUILD/site" -cf - . | xz -9e -T"$(nproc)" >"$KIT/site.tar.xz"

cp "$SHARED"/models/* "$KIT/shared/models/"
for video in talk_face5.mp4 talk_480.mp4 talk_hdtf_512.mp4; do
    cp "$SHARED/media/videos/$video" "$KIT/shared/media/videos/"
done
chmod -R u+w "$KIT"

size=$(du -sm --apparent-size "$KIT" | cut -f1)
echo "$KIT: ${size} MiB (the repo and the kit travel together: 64 MiB at most)"
[ "$size" -le 58 ] || { echo "the kit is too large to travel with the repo" >&2; exit 1; }
