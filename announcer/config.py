"""Typed configs, one per stage, combined into `RenderConfig`. Validated once, up front."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import InputError
from .languages import checked_language

LOUDNESS_PRESETS = {
    "web": (-16.0, -1.0),        # podcasts and social video
    "broadcast": (-23.0, -1.0),  # EBU R128
}
NARRATION_PHONES = ("auto", "recognise")
VOICE_ENGINES = ("piper", "supertonic", "coqui", "espeak")
ROLES = ("editor", "reviewer", "admin")
"""The studio's roles, each allowed what the one before it is: an editor submits, a reviewer also reviews, an admin also
manages accounts, webhooks and presenters."""
STAGES = ("script", "avatar", "face", "voice", "motion", "generate+encode", "deliver")
"""A render's stages in the order they run: what the job store records as each finishes and the studio's progress
counts (tests/test_layers.py checks that api.py times exactly these, in this order)."""
MOUTH_INTERIORS = ("real", "painted", "off")
TONES = ("warm", "neutral", "grave", "urgent")
"""The registers a newsroom reads in (script.tone): greetings and good news, the plain report, deaths and disasters,
breaking news and warnings."""


@dataclass
class VoiceConfig:
    engine: str = "piper"
    """piper (offline default) | supertonic (neural, 31 languages) | coqui (TTS library) | espeak (espeak-ng,
    always available). With piper and no voice, a script in another language than English speaks with Supertonic
    where its files are installed, else with espeak-ng (voice.choose_engine)."""
    voice: str | None = None
    """Engine-specific voice: a Piper .onnx path or catalogue name, a Supertonic style (F1-F5, M1-M5), a Coqui
    model name or checkpoint dir, an espeak voice."""
    language: str | None = None
    """Language of the script (en, ko, or any code the engine knows); None: front matter, else detected."""
    speed: float = 1.0
    """Speaking rate: 1.0 normal, 1.2 is 20% faster."""
    loudness_lufs: float = -16.0
    """Integrated loudness target (ITU-R BS.1770)."""
    true_peak_dbtp: float = -1.0
    """True-peak ceiling after loudness normalisation."""
    sentence_pause_ms: int = 300
    """Silence between sentences, on top of [pause] markers."""
    device: str = "cpu"
    """Set from RenderConfig.device; engines that run torch use it."""
    align_narration: bool = True
    """Recorded narration gets phoneme timings, which drive the mouth as a TTS engine's do: English by speech
    recognition and forced alignment (voice.align), other languages by phone recognition (voice.phones). Off, the
    speech-to-mouth model reads the audio instead."""
    narration_phones: str = "auto"
    """Who times recorded narration's phones: 'auto' (English: PocketSphinx's alignment; other languages: the
    script's own phones aligned to the recording by hama's recogniser, or the phones it hears where there is no
    script or the recording does not follow it) or 'recognise' (the phones hama hears, for every language, English
    included, script or not)."""

    def with_loudness(self, value: str | float, where: str = "loudness") -> "VoiceConfig":
        """A preset's name (web, broadcast: the target and its true-peak ceiling) or a number in LUFS, as any source
        writes it (a flag, front matter, a presenter, a spreadsheet's cell)."""
        if isinstance(value, str) and value.strip() in LOUDNESS_PRESETS:
            return self.with_loudness_preset(value.strip())
        try:
            return replace(self, loudness_lufs=float(value))
        except (TypeError, ValueError):
            raise InputError(f"{where} '{value}' is neither a number nor a preset",
                             fix=f"use e.g. -16 or one of {', '.join(LOUDNESS_PRESETS)}") from None

    def with_loudness_preset(self, preset: str) -> "VoiceConfig":
        if preset not in LOUDNESS_PRESETS:
            raise InputError(f"unknown loudness preset '{preset}'",
                             fix=f"use a number in LUFS or one of {', '.join(LOUDNESS_PRESETS)}")
        lufs, peak = LOUDNESS_PRESETS[preset]
        return replace(self, loudness_lufs=lufs, true_peak_dbtp=peak)


MAX_FACES_TO_CHOOSE = 4
MAX_AVATAR_SECONDS = 600.0
"""A video avatar's frames are held in memory: ten minutes at 1080 lines is already about 90 GB, so few need more
than the 60 s default."""


@dataclass
class FaceConfig:
    models_dir: Path | None = None
    """Where model files are looked up first (else ANNOUNCER_MODELS, else downloaded)."""
    backend: str = "mediapipe"
    """mediapipe (478 points, default) | fan (face-alignment, 68 points, batched on CUDA)."""
    min_detection_confidence: float = 0.6
    """YuNet score below which a face is not trusted."""
    max_avatar_seconds: float = 60.0
    """Video avatars are cut to this length (they loop forward-backward)."""
    smoothing_cutoff_hz: float = 4.0
    """Landmark tracks are low-pass filtered at this frequency to remove jitter."""
    face_number: int | None = None
    """With several faces in the picture: the presenter's, counted from the left (1 is the leftmost). None: the largest."""


@dataclass
class MotionConfig:
    fps: int = 25
    """Output frame rate."""
    mouth_scale: float = 1.0
    """Multiplier on mouth opening: below 1 is more restrained, above 1 more articulated."""
    blinks: bool = True
    """Natural blinks on photo avatars (video avatars keep their own)."""
    head_motion: float = 1.0
    """Gentle head sway on photo avatars; 0 disables."""
    seed: int = 0
    """Blink and sway timing are random but reproducible."""
    mouth_model: str = "auto"
    """Recorded narration: 'auto' uses the trained speech-to-mouth weights when present, else the mel heuristic;
    a path picks weights; 'heuristic' forces the heuristic."""


@dataclass
class GenerateConfig:
    batch_size: int = 16
    """Frames warped per batch on the device."""
    mouth_interior: str = "real"
    """What fills parted lips: 'real' (the presenter's own teeth and cavity from their footage or photo, or teeth
    rendered in their colours when the photo's mouth is shut), 'painted' (flat cavity, teeth and tongue: the old
    renderer, kept for comparison) or 'off'."""
    close_mouths_above: float = 0.04
    """Avatar frames whose inner-lip gap (inter-ocular units) exceeds this are closed before rendering;
    0 closes every frame (evaluation does, so none of the real mouth leaks into the result)."""


@dataclass
class EncodeConfig:
    height: int | None = None
    """Output height in pixels; None keeps the avatar's (capped at max_height). Width follows the aspect."""
    max_height: int = 1080
    """Larger avatars (up to 8K photos) are scaled down to this."""
    crf: int = 20
    """x264 quality: lower is better and bigger."""
    preset: str = "veryfast"
    """x264 speed preset."""
    audio_bitrate: str = "160k"
    thumbnail_at: float = 0.4
    """Where in the clip the thumbnail is taken, as a fraction of its length."""


ASPECTS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:5": (4, 5)}


def aspect_from_yaml(value) -> str:
    """An aspect as written in YAML: YAML 1.1 reads an unquoted 9:16 as the base-60 number 556."""
    return f"{value // 60}:{value % 60}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def aspects_named(value) -> list[str]:
    """Several layouts as written: '16:9, 9:16' on a command line or in front matter, or a YAML list (unchecked)."""
    if isinstance(value, list):
        return [aspect_from_yaml(item) for item in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


POSITIONS = ("left", "centre", "right")


@dataclass
class LayoutConfig:
    """The delivered picture: the presenter's frame on a canvas of a broadcast shape (compose stage)."""
    aspect: str | None = None
    """16:9 | 9:16 | 1:1 | 4:5; None delivers the presenter's own frame, as it is."""
    short_side: int = 1080
    """The canvas's shorter side in pixels: 1920x1080 for 16:9, 1080x1920 for 9:16, 1080x1350 for 4:5."""
    position: str = "centre"
    """left | centre | right: where the presenter stands (left or right leaves room for graphics)."""
    scale: float = 0.9
    """The presenter's frame height as a share of the canvas height."""
    margin: float = 0.05
    """Safe margin on every side, as a share of the canvas's shorter side."""
    background: str = "#102a43"
    """A colour (#rrggbb), an image (JPEG, PNG) or a video looped behind the presenter (MP4, MOV, WebM); relative
    paths start at the script's folder."""
    cutout: bool = False
    """Cut the presenter out of their frame (MediaPipe's selfie segmenter: soft edges, hair kept), standing on the
    picture's bottom edge; off: their frame in a box, a picture-in-picture."""
    border_px: int = 0
    """A frame around the presenter's box, in canvas pixels."""
    border_colour: str = "#ffffff"

    def validate(self) -> "LayoutConfig":
        if self.aspect is not None and self.aspect not in ASPECTS:
            raise InputError(f"unknown layout '{self.aspect}'", fix=f"use one of {', '.join(ASPECTS)}")
        if self.position not in POSITIONS:
            raise InputError(f"unknown presenter position '{self.position}'", fix=f"use one of {', '.join(POSITIONS)}")
        if not 0.2 <= self.scale <= 1.0:
            raise InputError(f"presenter scale {self.scale} is out of range", fix="use 0.2 to 1.0")
        if not isinstance(self.cutout, bool):
            raise InputError(f"cutout '{self.cutout}' is not a switch", fix="write cutout: true or cutout: false")
        if not 144 <= self.short_side <= 2160:
            raise InputError(f"layout size {self.short_side} is out of range", fix="use 144 to 2160 pixels")
        return self


CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")


@dataclass
class GraphicsConfig:
    """On-screen graphics over the delivered picture (compose stage)."""
    lower_third: bool = True
    """The presenter's name and title (from the presenter file), when there is a name."""
    lower_third_in_s: float = 0.5
    """When the lower third fades in."""
    lower_third_for_s: float = 6.0
    """How long it stays; 0 keeps it to the end."""
    font: str | None = None
    """A .ttf, .otf or .ttc holding every character of the text; None: NanumGothic or Noto Sans CJK, if installed."""
    text_colour: str = "#ffffff"
    title_colour: str = "#d9e2ec"
    band_colour: str = "#0b1f33"
    band_opacity: float = 0.85
    accent_colour: str = "#f0b429"
    logo: str | None = None
    """An image (PNG with transparency is best; relative paths start at the script's folder), shown throughout."""
    logo_corner: str = "top-right"
    """top-left | top-right | bottom-left | bottom-right, inside the safe margin."""
    logo_height: float = 0.08
    """The logo's height as a share of the picture's shorter side."""
    burn_captions: bool = False
    """Draw the subtitles into the picture too (the same cues as the .srt: two lines at most, on a box)."""
    caption_size: float = 0.042
    """Caption text height as a share of the picture's shorter side (smaller where a line would not fit)."""
    caption_bold: bool = False
    caption_colour: str = "#ffffff"
    caption_box_colour: str = "#000000"
    caption_box_opacity: float = 0.65

    def validate(self) -> "GraphicsConfig":
        if self.logo_corner not in CORNERS:
            raise InputError(f"unknown logo corner '{self.logo_corner}'", fix=f"use one of {', '.join(CORNERS)}")
        if not 0.02 <= self.logo_height <= 0.3:
            raise InputError(f"logo height {self.logo_height} is out of range", fix="use 0.02 to 0.3")
        if self.lower_third_in_s < 0 or self.lower_third_for_s < 0:
            raise InputError("lower third times must not be negative", fix="use seconds from the clip's start")
        return self


@dataclass
class ProgrammeConfig:
    """What goes around and under the presenter (compose stage): intro and outro clips, and a music bed."""
    intro: str | None = None
    """A video played before the presenter (its own sound, if any, kept), fitted to the picture."""
    outro: str | None = None
    """A video played after the presenter."""
    music: str | None = None
    """An audio file (or a video's sound) looped under the presenter, ducked while they speak."""
    music_level_db: float = -14.0
    """The bed's loudness against the speech's, where no one speaks."""
    music_duck_db: float = 12.0
    """How far the bed dips while someone speaks."""

    def validate(self) -> "ProgrammeConfig":
        if not -40 <= self.music_level_db <= 0:
            raise InputError(f"music level {self.music_level_db} dB is out of range",
                             fix="use -40 to 0 dB against the speech (-14 is usual)")
        if not 0 <= self.music_duck_db <= 40:
            raise InputError(f"music ducking {self.music_duck_db} dB is out of range", fix="use 0 to 40 dB")
        return self


@dataclass
class RenderConfig:
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    face: FaceConfig = field(default_factory=FaceConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    encode: EncodeConfig = field(default_factory=EncodeConfig)
    layout: LayoutConfig = field(default_factory=LayoutConfig)
    graphics: GraphicsConfig = field(default_factory=GraphicsConfig)
    programme: ProgrammeConfig = field(default_factory=ProgrammeConfig)
    device: str = "auto"
    """auto | cpu | cuda | cuda:N. One setting for every torch stage."""
    home: Path | None = None
    """Everything kept between runs; default ANNOUNCER_HOME or the user's data dir."""
    use_cache: bool = True
    """Reuse finished stage artifacts from the work dir."""
    strict: bool = False
    """Fail, rather than warn, on input that renders but is probably wrong (narration far shorter than its script)."""
    progress: bool = True
    """Progress bars on a terminal (never in --quiet or --json mode)."""

    def validate(self) -> "RenderConfig":
        if self.voice.engine not in VOICE_ENGINES:
            raise InputError(f"unknown voice engine '{self.voice.engine}'", fix=f"use one of {', '.join(VOICE_ENGINES)}")
        if self.voice.narration_phones not in NARRATION_PHONES:
            raise InputError(f"unknown narration phone source '{self.voice.narration_phones}'",
                             fix=f"use one of {', '.join(NARRATION_PHONES)}")
        if self.voice.language is not None:
            checked_language(self.voice.language)
        if not 0.5 <= self.voice.speed <= 2.0:
            raise InputError(f"speed {self.voice.speed} is out of range", fix="use a value from 0.5 to 2.0")
        if not -40 <= self.voice.loudness_lufs <= -5:
            raise InputError(f"loudness {self.voice.loudness_lufs} LUFS is out of range", fix="use -40 to -5 LUFS")
        if not 1 <= self.face.max_avatar_seconds <= MAX_AVATAR_SECONDS:
            raise InputError(f"max avatar seconds {self.face.max_avatar_seconds} is out of range",
                             fix=f"use 1 to {MAX_AVATAR_SECONDS:g}")
        if self.face.face_number is not None and not 1 <= self.face.face_number <= MAX_FACES_TO_CHOOSE:
            raise InputError(f"face {self.face.face_number} is out of range",
                             fix=f"count faces from the left, 1 to {MAX_FACES_TO_CHOOSE}")
        if self.face.backend not in ("mediapipe", "fan"):
            raise InputError(f"unknown face backend '{self.face.backend}'", fix="use mediapipe or fan")
        if not 10 <= self.motion.fps <= 60:
            raise InputError(f"fps {self.motion.fps} is out of range", fix="use 10 to 60")
        if self.encode.height is not None and not 128 <= self.encode.height <= 2160:
            raise InputError(f"height {self.encode.height} is out of range", fix="use 128 to 2160")
        if self.generate.mouth_interior not in MOUTH_INTERIORS:
            raise InputError(f"unknown mouth interior '{self.generate.mouth_interior}'", fix=f"use one of {', '.join(MOUTH_INTERIORS)}")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise InputError(f"unknown device '{self.device}'", fix="use auto, cpu, cuda or cuda:N")
        self.layout.validate()
        self.graphics.validate()
        self.programme.validate()
        return self

