"""The languages a script or narration may be in: ISO 639 codes, with an optional region (en-GB, pt_BR, zh-yue).

A tag is checked, never trusted: it picks voices, text normalisation and phone recognisers, and the studio keys
loaded voices by it, so an unknown one (`klingon`, a random string each time) is refused up front.
"""
from __future__ import annotations

import re

from .errors import InputError

ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es
et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj
kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv
ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti
tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())
THREE_LETTER = frozenset("cmn yue nan hak wuu ast ceb fil haw hmn kok mai mni sat shn smj tpi qya piqd".split())
"""ISO 639-3 codes of languages without a two-letter code that speech tools (espeak-ng, Whisper) know."""
_TAG = re.compile(r"([a-z]{2,4})(?:[-_]([a-z0-9]{2,8}))*")


def is_known_language(tag: str) -> bool:
    tag = str(tag).strip().lower()
    match = _TAG.fullmatch(tag)
    return bool(match) and match.group(1) in ISO_639_1 | THREE_LETTER


def checked_language(tag, where: str = "language") -> str:
    """`tag` lower-cased, or InputError saying what a language tag looks like."""
    if not is_known_language(tag):
        raise InputError(f"{where}: unknown language '{str(tag)[:40]}'",
                         fix="use an ISO 639 code, with a region if you like: en, ko, de, fr, en-gb, pt-br")
    return str(tag).strip().lower()


__all__ = ["ISO_639_1", "THREE_LETTER", "checked_language", "is_known_language"]
