"""Query fingerprints with pglast (libpg_query): the same statement shape gets the same id everywhere.

queryid differs between servers, versions and even parameter types (``$1`` sent as int2 vs int8
gives two queryids for one statement); a fingerprint of the parse tree does not. Texts that do not
parse (cut short, ``<insufficient privilege>``, other dialects) are kept, get a ``text:`` fingerprint
of their whitespace-folded text, and are marked ``fingerprint_ok = False`` — never dropped.

>>> fingerprint("SELECT a FROM t WHERE id = $1") == fingerprint("select a from t where id=42")
True
>>> fingerprint("SELECT a FROM t WHERE")[:5]
'text:'
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import pandas as pd

_QMARK = re.compile(r"(?<![?\w])\?(?![?|&\w])")  # pre-10 '?' placeholders, not jsonb ?| ?& operators
_COMMENT = re.compile(r"/\*.*?\*/|--[^\n]*", re.S)
_FIRST_WORD = re.compile(r"\s*\(?\s*([A-Za-z]+)")


@lru_cache(maxsize=65536)
def _fingerprint(text: str) -> tuple[str, bool]:
    from pglast import parser

    for candidate in (text, _number_placeholders(text) if "?" in text else None):
        if candidate is None:
            continue
        try:
            return parser.fingerprint(candidate), True
        except (parser.ParseError, ValueError, RecursionError):
            continue
        except Exception:  # libpg_query errors we do not know by name: fall back to the text
            break
    folded = " ".join(text.split()).lower()
    return "text:" + hashlib.sha1(folded.encode("utf-8", "replace")).hexdigest()[:16], False


def _number_placeholders(text: str) -> str:
    n = iter(range(1, 1 << 30))
    return _QMARK.sub(lambda m: f"${next(n)}", text)


def fingerprint(text) -> str:
    """The libpg_query fingerprint of ``text`` (hex), or ``text:<sha1>`` when it does not parse."""
    if text is None or (isinstance(text, float)) or text is pd.NA:
        return "text:none"
    return _fingerprint(str(text))[0]


def add_fingerprints(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with ``fingerprint`` and ``fingerprint_ok`` columns (cut-short texts count as not ok)."""
    out = df.copy()
    texts = out["query"].fillna("")
    uniq = {t: _fingerprint(t) if t else ("text:none", False) for t in texts.unique()}
    out["fingerprint"] = pd.Series([uniq[t][0] for t in texts], index=out.index, dtype="str")
    ok = pd.Series([uniq[t][1] for t in texts], index=out.index, dtype=bool)
    if "query_truncated" in out:
        ok &= ~out["query_truncated"].astype(bool)
    out["fingerprint_ok"] = ok
    return out


def statement_kind(text) -> str:
    """``select``, ``insert``, ``update``, ``delete``, ``with`` … (first keyword, comments skipped), or ``unknown``."""
    if not isinstance(text, str):
        return "unknown"
    m = _FIRST_WORD.match(_COMMENT.sub(" ", text))
    return m.group(1).lower() if m else "unknown"


_KEYED = re.compile(r"\bwhere\s+(?:\w+\.)?\w+\s*=\s*\$\d+\s*(?:limit\s+\$?\d+\s*)?;?\s*$", re.I | re.S)


def is_keyed_lookup(text) -> bool:
    """A single-table ``SELECT ... WHERE col = $1`` (what an ORM issues once per row in an N+1 loop)."""
    if statement_kind(text) != "select":
        return False
    body = _COMMENT.sub(" ", text)
    return bool(_KEYED.search(body)) and not re.search(r"\bjoin\b|,\s*\w+\s+\w+\s+where", body, re.I)
