"""Stable ASCII ids from names in any script: Chinese through pypinyin, others by transliteration.

`一号循环泵 功率` becomes `yi_hao_xun_huan_beng_gong_lv`. pypinyin (about 50 MB of phrase
data) is imported only when a name contains Han characters, and entity ids are frozen in the
registry once created, so a hub pays for it only when new Chinese names appear.
"""

from __future__ import annotations

import re
import unicodedata

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")


def _romanise_han(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "_".join(lazy_pinyin(text, style=Style.NORMAL, v_to_u=False))


def slugify(text: str, separator: str = "_") -> str:
    """Turn a name into lowercase ASCII letters and digits joined by `separator`."""
    if _HAN_RE.search(text):
        text = _romanise_han(text)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_ALNUM_RE.sub(separator, ascii_text.lower()).strip(separator)
    return slug or "unnamed"
