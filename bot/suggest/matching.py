"""Turning a title or a bug-channel message into the words BM25 compares: markup, tags and chat filler out,
English stems in (PyStemmer's Snowball stemmer), so that "crashes" meets "crash" and "loading" meets "load".
"""

from __future__ import annotations

import html
import re

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

# Words a bug-channel post uses that say nothing about WHICH bug it is.
CHAT_WORDS = frozenset(
    [
        "anyone",
        "else",
        "seeing",
        "same",
        "again",
        "still",
        "keep",
        "keeps",
        "customer",
        "customers",
        "user",
        "users",
        "says",
        "said",
        "report",
        "reports",
        "reported",
        "issue",
        "issues",
        "problem",
        "problems",
        "bug",
        "bugs",
        "hi",
        "hey",
        "please",
        "thanks",
        "ok",
        "today",
        "yesterday",
        "morning",
    ]
)
STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | CHAT_WORDS

# Linear time: a span never holds `<`, so an unclosed `<@` or `<http:`
# is read up to the next `<` at most, and the label after `|` is one unambiguous group (`[^|>]*\|?[^>]*`
# split one run two ways at every length: cubic on 40,000 chars of `<http:`).
_MARKUP = re.compile(r"<(?:[@#!][^<>]*|(?:https?|mailto):[^|<>]*(?:\|([^<>]*))?)>|https?://\S+")
_TAG = re.compile(r"(?i)\b(?:ticket[ _-]?id|priority)\s*[=:]\s*\S*")
_WORD = re.compile(r"[^\W_]+")
_stemmer = Stemmer.Stemmer("english")


def words_of(text: str | None) -> list[str]:
    """The stemmed content words of a title or message, in order (duplicates kept)."""
    text = html.unescape(text or "")
    text = _TAG.sub(" ", text)
    text = _MARKUP.sub(lambda match: f" {match.group(1) or ''} ", text)
    words = [word for word in _WORD.findall(text.lower()) if word not in STOPWORDS and len(word) > 1]
    return _stemmer.stemWords(words)
