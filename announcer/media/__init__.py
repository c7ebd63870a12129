"""Media I/O: ffmpeg commands, probing, frame decoding and encoding, subtitles."""
