#!/usr/bin/env bash
# Try benchmarks/device/check.sh here before spending device time on it: a venv that sees only the
# packages the GPU machine has (linked from .venv), a kit built for this Python, a PATH without the
# system ffmpeg and ffprobe. Without a GPU the CUDA tests skip and the benchmarks run tiny on the CPU;
# what this catches is a missing package, binary, file or codec.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIM=${SIM:-/tmp/announcer-device-sim}
rm -rf "$SIM/repo" "$SIM/venv" "$SIM/bin" "$SIM/out" "$SIM/site"
# A copy of the working tree with no ../shared beside it, as the repo travels alone.
mkdir -p "$SIM/repo"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$SIM/repo"
version=$(.venv/bin/python -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
KIT=$SIM/repo/.devkit PYTHON_VERSION=$version bash benchmarks/device/make_kit.sh

# What the GPU machine's image holds, as far as announcer touches it (the device tool's KINDS.md, 2026-11).
on_gpu_machine=(torch torchgen functorch torchaudio triton nvidia numpy numpy.libs scipy scipy.libs cv2 opencv_python_headless.libs
    safetensors tqdm yaml _yaml skimage lazy_loader PIL pillow.libs imageio tifffile networkx sympy mpmath filelock fsspec
    jinja2 markupsafe typing_extensions.py pytest _pytest pluggy iniconfig packaging py.py matplotlib mpl_toolkits contourpy
    cycler kiwisolver fontTools dateutil six.py pyparsing absl attr attrs flatbuffers google onnx onnxruntime psutil
    requests certifi idna charset_normalizer urllib3 joblib threadpoolctl.py sklearn scikit_learn.libs regex pygments
    ml_dtypes)
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
python3 -m venv "$SIM/venv"
target=$("$SIM/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
for name in "${on_gpu_machine[@]}"; do
    [ -e "$site/$name" ] && ln -s "$site/$name" "$target/$name"
    for info in "$site/${name%.py}"-*.dist-info; do [ -e "$info" ] && ln -s "$info" "$target/"; done
done

# A PATH with the venv's python3 and the shell tools, but no ffmpeg or ffprobe (the GPU machine has none).
mkdir -p "$SIM/bin"
for tool in bash tee timeout head mkdir ln rm cat env dirname nproc; do ln -s "$(command -v "$tool")" "$SIM/bin/$tool"; done
cd "$SIM/repo"
OUT=$SIM/out SITE=$SIM/site PATH=$SIM/venv/bin:$SIM/bin HOME=$SIM bash benchmarks/device/check.sh
