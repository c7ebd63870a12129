"""Stage 1, script: text, Markdown with front matter, or SRT in; typed segments out."""
from .parse import Script, Segment, parse_text, read_script
from .sentences import split_sentences

__all__ = ["Script", "Segment", "read_script", "parse_text", "split_sentences"]
