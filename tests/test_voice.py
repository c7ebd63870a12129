"""Stage 2: real voices (Piper, espeak-ng, a Coqui checkpoint built here), timings, loudness, narration."""
import subprocess
from itertools import pairwise

import numpy as np
import pytest

from announcer.config import VoiceConfig
from announcer.errors import InputError
from announcer.script import parse_text
from announcer.voice import align, load_engine, load_narration, synthesize
from announcer.motion.visemes import VISEMES
from announcer.voice.loudness import integrated_loudness, normalize_loudness, true_peak_dbtp

from .conftest import MEDIA, MODELS, TALKING_VIDEOS, synthesized, write_script


def assert_timings_cover_speech(speech):
    starts = np.array([p.start for p in speech.phonemes])
    ends = np.array([p.end for p in speech.phonemes])
    assert len(starts) > 5
    assert np.all(ends >= starts) and np.all(np.diff(starts) >= -1e-6)
    assert 0 <= starts[0] and ends[-1] <= speech.duration + 1e-6
    # Loud audio sits inside phoneme spans, not in the silence after the last one.
    voiced = np.flatnonzero(np.abs(speech.audio) > 0.1 * np.abs(speech.audio).max()) / speech.sample_rate
    assert voiced[0] >= starts[0] - 0.05 and voiced[-1] <= ends[-1] + 0.1


@pytest.fixture(scope="module")
def piper_engine():
    return load_engine(VoiceConfig(engine="piper"), models_dir=MODELS)


def test_piper_speaks_with_phoneme_alignments(piper_engine):
    script = parse_text("Good evening. Here is the news at ten.")
    speech = synthesize(script, VoiceConfig(engine="piper"), piper_engine)
    assert speech.sample_rate == 22050 and speech.voice == "en_US-joe-medium"
    assert_timings_cover_speech(speech)
    assert {"ɡ", "ʊ", "d", "n"} <= {p.label for p in speech.phonemes}
    assert [c.label for c in speech.captions] == ["Good evening.", "Here is the news at ten."]
    assert speech.captions[0].end < speech.captions[1].start
    assert abs(speech.loudness_lufs - -16) < 0.5 and speech.true_peak_dbtp <= -0.9
    assert list(speech.model_files.values())[0] == "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"


@pytest.mark.slow
def test_piper_speed_changes_duration(piper_engine):
    from announcer.voice.piper_engine import PiperEngine

    # Piper draws phoneme durations with noise (one reading can run 10 % long), so compare three readings each.
    text = "This sentence is read at two speeds."
    fast_engine = PiperEngine(speed=2.0)
    normal = sum(len(piper_engine.speak(text).audio) for _ in range(3))
    fast = sum(len(fast_engine.speak(text).audio) for _ in range(3))
    assert 0.4 * normal < fast < 0.8 * normal


@pytest.mark.parametrize("language,text,expected", [("en", "Good morning, everyone.", "ɡ"), ("ko", "안녕하세요. 뉴스입니다.", "n")])
def test_espeak_speaks_english_and_korean(language, text, expected):
    speech = synthesized(parse_text(text, language), VoiceConfig(engine="espeak", language=language))
    assert speech.engine == "espeak" and speech.duration > 1.0
    assert_timings_cover_speech(speech)
    assert expected in {p.label.strip("ˈˌː") for p in speech.phonemes}


def test_unknown_espeak_voice_is_bad_input():
    with pytest.raises(InputError, match="no voice 'klingon-xx'"):
        load_engine(VoiceConfig(engine="espeak", voice="klingon-xx"), models_dir=MODELS)


def test_piper_voice_path_must_exist(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_engine(VoiceConfig(engine="piper", voice=str(tmp_path / "missing.onnx")), models_dir=MODELS)


def test_default_piper_voice_refuses_korean():
    with pytest.raises(InputError, match="speaks English"):
        load_engine(VoiceConfig(engine="piper", language="ko"), models_dir=MODELS)


@pytest.fixture(scope="module")
def tiny_glow_tts_checkpoint(tmp_path_factory):
    """A randomly initialised Glow-TTS built and saved with coqui-tts itself: the real loading path, tiny."""
    pytest.importorskip("TTS", reason="coqui-tts is an optional extra: pip install -e .[coqui]")
    import torch
    from TTS.tts.configs.glow_tts_config import GlowTTSConfig
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.models.glow_tts import GlowTTS

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("glow")
    characters = CharactersConfig(characters="abcdefghijklmnopqrstuvwxyz ", punctuations=".,!?", pad="_", eos="~", bos="^",
                                  characters_class="TTS.tts.utils.text.characters.Graphemes")
    config = GlowTTSConfig(use_phonemes=False, characters=characters, text_cleaner="basic_cleaners", hidden_channels_enc=32,
                           hidden_channels_dec=32, hidden_channels_dp=32, num_flow_blocks_dec=2, num_block_layers=2)
    torch.save({"model": GlowTTS(config).state_dict()}, folder / "model.pth")
    config.save_json(str(folder / "config.json"))
    return folder


def test_coqui_loads_a_local_checkpoint_and_times_its_tokens(tiny_glow_tts_checkpoint):
    speech = synthesized(parse_text("Hello world. Good night."), VoiceConfig(engine="coqui", voice=str(tiny_glow_tts_checkpoint)))
    assert speech.engine == "coqui" and speech.sample_rate == 22050
    assert speech.duration > 0.5 and np.isfinite(speech.audio).all()
    labels = [p.label for p in speech.phonemes]
    # Every letter of the input owns frames of the model's alignment, in order.
    assert "".join(labels).startswith("helloworld") and len(speech.captions) == 2
    assert all(path.endswith(("model.pth", "config.json")) for path in speech.model_files)


def test_coqui_folder_without_checkpoint_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="config.json and a .pth"):
        load_engine(VoiceConfig(engine="coqui", voice=str(tmp_path)), models_dir=MODELS)


@pytest.mark.parametrize("target,ceiling", [(-16.0, -1.0), (-23.0, -1.0)])
def test_loudness_reaches_target_under_the_true_peak_ceiling(target, ceiling):
    import soundfile

    audio, rate = soundfile.read(MEDIA / "audio" / "jfk.wav", dtype="float32")
    normalised, lufs, peak = normalize_loudness(audio, rate, target, ceiling)
    assert abs(integrated_loudness(normalised, rate) - target) < 0.5 and abs(lufs - target) < 0.5
    assert true_peak_dbtp(normalised) <= ceiling + 0.1 and peak <= ceiling + 0.1


@pytest.mark.slow
def test_recorded_narration_with_script_subtitles(tmp_path):
    script = parse_text((MEDIA / "audio" / "jfk.txt").read_text().strip())
    speech = load_narration(MEDIA / "audio" / "jfk.wav", VoiceConfig(loudness_lufs=-23), script)
    assert speech.engine == "narration" and 10.5 < speech.duration < 11.5
    assert_timings_cover_speech(speech)
    spoken = "".join(p.label for p in speech.phonemes)
    assert spoken.count("kʌntɹi") == 2  # "your country", twice
    assert abs(speech.loudness_lufs - -23) < 0.5
    assert speech.captions[0].start >= 0 and speech.captions[-1].end <= speech.duration
    voiced = np.flatnonzero(np.abs(speech.audio) > 0.05 * np.abs(speech.audio).max()) / speech.sample_rate
    assert abs(speech.captions[0].start - voiced[0]) < 0.15  # the first word, not the file's start
    assert " ".join(c.label for c in speech.captions) == script.text


def test_narration_must_have_sound(tmp_path):
    silent_video = tmp_path / "no_audio.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(TALKING_VIDEOS[0]), "-an", "-c:v", "copy", str(silent_video)], check=True)
    with pytest.raises(InputError, match="no audio track") as caught:
        load_narration(silent_video, VoiceConfig())
    assert caught.value.path == silent_video
    corrupt = write_script(tmp_path, "broken.wav", "RIFF but not really a wave file")
    with pytest.raises(InputError, match="cannot read media"):
        load_narration(corrupt, VoiceConfig())


BILABIALS = {"p", "b", "m"}


@pytest.fixture(scope="module")
def piper_narration(tmp_path_factory):
    """Piper speech saved as a recording: Piper knows exactly when it closed the lips and ended each sentence.
    Repeatable (no sampling noise), so the recognition in these tests hears the same speech on every run."""
    import soundfile

    from announcer.voice.piper_engine import PiperEngine

    script = parse_text("My mother bought apples. Maybe both of them will buy a map in Boston.")
    spoken = synthesize(script, VoiceConfig(engine="piper"), PiperEngine(repeatable=True))
    path = tmp_path_factory.mktemp("narration") / "piper.wav"
    soundfile.write(path, spoken.audio, spoken.sample_rate)
    return script, spoken, path


@pytest.mark.slow
@pytest.mark.parametrize("with_script", [False, True])
def test_aligned_narration_puts_lip_closures_where_the_voice_made_them(piper_narration, with_script):
    script, spoken, _ = piper_narration
    transcript = align.transcript_words(script.text) if with_script else None
    timings = align.align_narration(spoken.audio, spoken.sample_rate, transcript)
    truth = [(p.start + p.end) / 2 for p in spoken.phonemes if p.label in BILABIALS]
    found = np.array([(p.start + p.end) / 2 for p in timings.phonemes if p.label in BILABIALS])
    assert len(truth) >= 10 and len(found) >= 0.8 * len(truth)
    misses = [t for t in truth if np.abs(found - t).min() > 0.06]
    assert len(misses) <= 0.2 * len(truth), misses
    assert all(a.end >= a.start for a in timings.phonemes) and timings.phonemes[-1].end <= spoken.duration + 0.02
    assert [w.label for w in timings.words] == (transcript or [])


def test_narration_with_its_script_gets_subtitles_timed_by_the_alignment(piper_narration):
    script, spoken, path = piper_narration
    speech = load_narration(path, VoiceConfig(), script)
    assert [c.label for c in speech.captions] == [c.label for c in spoken.captions]
    for aligned, caption in zip(speech.captions, spoken.captions, strict=True):
        # Piper's caption runs on through the sentence's closing pause; its last sounded phoneme is the truth.
        sounded = [p for p in spoken.phonemes if caption.start <= p.start < caption.end and p.label in VISEMES]
        assert abs(aligned.start - sounded[0].start) < 0.1 and abs(aligned.end - sounded[-1].end) < 0.1


def test_a_script_line_with_nothing_to_align_keeps_its_subtitle_between_its_neighbours(piper_narration):
    _, spoken, path = piper_narration
    script = parse_text("My mother bought apples.\n\n* * *\n\nMaybe both of them will buy a map in Boston.")
    captions = load_narration(path, VoiceConfig(), script).captions
    assert [c.label for c in captions] == ["My mother bought apples.", "* * *", "Maybe both of them will buy a map in Boston."]
    assert captions[0].end <= captions[1].start <= captions[1].end <= captions[2].start


def test_script_words_missing_from_the_dictionary_are_aligned_by_their_espeak_pronunciation(piper_engine):
    assert align.espeak_pronunciation("country") == align.load_recogniser().lookup_word("country")  # agrees where both know
    script = parse_text("Minister Zelensky thanked the woodcutters of Kharkiv.")
    words = align.transcript_words(script.text)
    assert {"zelensky", "woodcutters", "kharkiv"} <= set(words)
    spoken = synthesize(script, VoiceConfig(engine="piper"), piper_engine)
    timings = align.align_narration(spoken.audio, spoken.sample_rate, words)
    assert [w.label for w in timings.words] == words  # aligned to the script, not recognised
    voiced = [p for p in spoken.phonemes if p.label in VISEMES]
    assert abs(timings.words[0].start - voiced[0].start) < 0.1 and abs(timings.words[-1].end - voiced[-1].end) < 0.1


def test_long_narration_is_cut_in_its_pauses(tmp_path):
    import soundfile

    audio, rate = soundfile.read(MEDIA / "audio" / "jfk.wav", dtype="float32")
    pcm = (audio * 32767).astype(np.int16)
    chunks = align.speech_chunks(pcm, rate, max_chunk_s=4.0)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(pcm) and len(chunks) >= 3
    assert all(end - start <= 4.0 * rate for start, end in chunks)
    assert all(previous[1] == following[0] for previous, following in pairwise(chunks))
    loud = np.percentile(np.abs(pcm), 99)
    for _, cut in chunks[:-1]:
        around = np.abs(pcm[cut - rate // 50:cut + rate // 50].astype(float))
        assert around.max() < 0.2 * loud  # a pause, not the middle of a word


@pytest.mark.slow
def test_long_narration_is_aligned_to_its_script_piece_by_piece(monkeypatch):
    """Narration longer than one alignment holds is cut at its pauses and each piece aligned to its
    share of the script: the words land where aligning the whole recording at once puts them."""
    import soundfile

    audio, rate = soundfile.read(MEDIA / "audio" / "jfk.wav", dtype="float32")
    words = align.transcript_words((MEDIA / "audio" / "jfk.txt").read_text())
    whole = align.align_narration(audio, rate, words)
    monkeypatch.setattr(align, "MAX_TRANSCRIPT_S", 2.0)
    monkeypatch.setattr(align, "MAX_CHUNK_S", 4.0)
    assert len(align.speech_chunks((audio * 32767).astype(np.int16), rate)) >= 3
    pieces = align.align_narration(audio, rate, words)
    assert [w.label for w in pieces.words] == words == [w.label for w in whole.words]
    drift = np.abs(np.array([w.start for w in pieces.words]) - [w.start for w in whole.words])
    assert np.median(drift) < 0.03 and drift.max() < 0.2, drift
    assert all(a.start <= b.start for a, b in pairwise(pieces.words))
    assert sum(p.label in BILABIALS for p in pieces.phonemes) == sum(p.label in BILABIALS for p in whole.phonemes)


@pytest.mark.slow
def test_a_piece_whose_share_will_not_align_keeps_its_heard_phones_and_its_words_in_order(monkeypatch):
    import soundfile

    audio, rate = soundfile.read(MEDIA / "audio" / "jfk.wav", dtype="float32")
    words = align.transcript_words((MEDIA / "audio" / "jfk.txt").read_text())
    monkeypatch.setattr(align, "MAX_TRANSCRIPT_S", 2.0)
    monkeypatch.setattr(align, "MAX_CHUNK_S", 4.0)
    aligned = align._align_to_transcript
    pieces = []

    def second_piece_fails(decoder, pcm, share):
        pieces.append(share)
        return None if len(pieces) == 2 else aligned(decoder, pcm, share)

    monkeypatch.setattr(align, "_align_to_transcript", second_piece_fails)
    timings = align.align_narration(audio, rate, words)
    assert len(pieces) >= 3 and pieces[1]
    assert [w.label for w in timings.words] == words  # every word, in order, the failed piece's spread over its speech
    assert all(a.end <= b.start + 1e-6 for a, b in pairwise(timings.words))
    assert all(a.start <= b.start for a, b in pairwise(timings.phonemes))
    failed = timings.words[len(pieces[0]):len(pieces[0]) + len(pieces[1])]
    assert [w.label for w in failed] == pieces[1]
    per_letter = [(w.end - w.start) / len(w.label) for w in failed]
    assert max(per_letter) - min(per_letter) < 1e-6  # spread by length: their own timing is not known
    voiced = [p for p in timings.phonemes if p.label.strip() and failed[0].start <= p.start < failed[-1].end]
    assert len(voiced) >= 3  # the piece still has phones (of the words heard) to move the mouth


def test_the_script_is_shared_between_pieces_by_the_words_heard_in_them():
    script = "a b c d e f g h".split()
    # Matched words pin the script; an unmatched script word goes where unmatched words were heard.
    assert align.share_transcript(script, [["a", "b", "x"], ["e", "f"], ["h"]]) == [(0, 4), (4, 7), (7, 8)]
    assert align.share_transcript(script, [["a", "b"], [], ["g", "h"]]) == [(0, 4), (4, 4), (4, 8)]
    # Nothing recognised matches: the script is shared by how many words each piece held.
    assert align.share_transcript(script, [["q", "r", "s"], ["t", "u"]]) == [(0, 5), (5, 8)]
    assert align.share_transcript(script, [["a", "b", "c", "d", "e", "f", "g", "h"]]) == [(0, 8)]


@pytest.mark.slow
def test_narration_in_other_languages_is_heard_not_aligned_and_with_alignment_off_keeps_no_phonemes():
    script = parse_text("안녕하세요. 저녁 뉴스입니다.")
    assert script.language == "ko"
    korean = load_narration(MEDIA / "audio" / "jfk.wav", VoiceConfig(), script)
    assert korean.phonemes and all(path.endswith(".hama") for path in korean.model_files)  # not PocketSphinx's English
    assert load_narration(MEDIA / "audio" / "jfk.wav", VoiceConfig(align_narration=False)).phonemes == []
    assert not align.aligns("ko") and align.aligns("en-GB") and align.aligns(None)


def test_every_voice_engine_named_in_the_config_can_be_built_and_no_other():
    from announcer import voice
    from announcer.config import VOICE_ENGINES

    assert set(voice._ENGINE_BUILDERS) == set(VOICE_ENGINES)
    with pytest.raises(InputError, match="unknown voice engine 'nosuch'"):
        load_engine(VoiceConfig(engine="nosuch"), models_dir=MODELS)
