"""Make the example templates' intro sting and music bed (examples/templates/a1-*.mp4, a1-bed.m4a) with ffmpeg alone:
the station's colour, its logo fading in over an accent bar that wipes across, a two-note chime; and a quiet
eight-second pad that loops without a seam. Everything here is generated, so the examples carry no one else's media.

    python docs/make_brand_media.py
"""
from __future__ import annotations

import subprocess
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "examples" / "templates"
STING_S = 1.6
CHIME = ("0.35*sin(2*PI*659.3*t)*exp(-4*t)*lt(t,0.8)"
         "+0.35*sin(2*PI*987.8*(t-0.25))*exp(-4*(t-0.25))*gte(t,0.25)")
PAD = ("0.12*sin(2*PI*220*t)+0.1*sin(2*PI*277.18*t)+0.09*sin(2*PI*329.63*t)"
       "+0.06*sin(2*PI*110*t)*(0.75+0.25*sin(2*PI*t/4))")
"""An A major pad whose slow swell repeats every 4 s: eight seconds loop without a seam."""


def sting(output: Path, size: tuple[int, int], colour: str, accent: str) -> None:
    width, height = size
    logo_h = round(min(size) * 0.22)
    bar_h = max(4, round(min(size) * 0.012))
    graph = (f"[1:v]scale=-1:{logo_h},format=rgba,fade=in:st=0.2:d=0.5:alpha=1[logo];"
             f"[0:v][2:v]overlay=x='-{width}+min(t/0.7\\,1)*{width}':y={height // 2 + logo_h // 2 + bar_h * 2}[bar];"
             f"[bar][logo]overlay=x=(W-w)/2:y=(H-h)/2,fade=out:st={STING_S - 0.3}:d=0.3,format=yuv420p[v]")
    subprocess.run(["ffmpeg", "-v", "error", "-y",
                    "-f", "lavfi", "-i", f"color=c={colour}:s={width}x{height}:r=25:d={STING_S}",
                    "-loop", "1", "-t", str(STING_S), "-i", str(TEMPLATES / "a1-logo.png"),
                    "-f", "lavfi", "-i", f"color=c={accent}:s={width}x{bar_h}:r=25:d={STING_S}",
                    "-f", "lavfi", "-i", f"aevalsrc='{CHIME}':s=48000:d={STING_S}",
                    "-filter_complex", graph, "-map", "[v]", "-map", "3:a", "-c:v", "libx264", "-crf", "28",
                    "-preset", "slow", "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", str(output)], check=True)


def bed(output: Path) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"aevalsrc='{PAD}':s=48000:d=8",
                    "-c:a", "aac", "-b:a", "64k", str(output)], check=True)


if __name__ == "__main__":
    sting(TEMPLATES / "a1-sting-16x9.mp4", (1920, 1080), "0x0b1f33", "0xf0b429")
    sting(TEMPLATES / "a1-sting-9x16.mp4", (1080, 1920), "0x12263a", "0x3ebd93")
    bed(TEMPLATES / "a1-bed.m4a")
    for path in sorted(TEMPLATES.glob("a1-*")):
        print(f"{path.name}: {path.stat().st_size // 1024} KiB")
