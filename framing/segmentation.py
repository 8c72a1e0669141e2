"""Articles -> passages.

A passage is a paragraph, or, for a paragraph longer than ``max_words``, a window of whole sentences.
Lines that are not body text (headlines, sub-headings, hashtag lines, bylines, section labels, photo
credits) are recognised and skipped. Every passage keeps its character span in the original text, so
``text[start:end]`` is the passage's source.

Sentence boundaries come from pysbd (rule-based, handles abbreviations and quotes); a second rule
splits sentences that scraping glued together without a space ("jurisdiction.This is"). pysbd's time
grows faster than linearly with the length of its input (a 100,000-character paragraph takes about ten
seconds, a 1 MB one most of an hour), so a text over ``PYSBD_MAX_CHARS`` (no real paragraph is that
long: it is a scrape that lost its line breaks, or not prose) is split by a regular expression instead:
after sentence punctuation followed by a capital, a digit or an opening quote, except after a single
letter ("J. Smith", "U.S. officials") or a common abbreviation.

The regular expressions here run on every line of arbitrary input, so none of them may backtrack
more than linearly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_MAX_WORDS = 120
DEFAULT_TARGET_WORDS = 90

_WORD = re.compile(r"\S+")
_TERMINAL = re.compile(r"""[.!?…]["'”’)\]]*$""")
_GLUED_SENTENCES = re.compile(r"""(?<=[a-z0-9%)\]"'”’])[.!?](?=[A-Z][a-z])""")
_HASHTAG_LINE = re.compile(r"^\s*(#[^\s#][^#]*)+$")
_MARKDOWN_HEADING = re.compile(r"^\s*#{1,6}\s")
_BYLINE = re.compile(
    r"^\s*(by\s+[A-Z][\w.'-]+(\s+[A-Z][\w.'-]+){0,3}(\s*(,|and|&)\s*[A-Z][\w.'-]+(\s+[A-Z][\w.'-]+){0,3})*\s*$"
    r"|(reporting|writing|editing|additional reporting)\s+by\b.{0,200}$"
    r"|(photo|image|picture)(\s+credit)?\s*:.{0,150}$"
    r"|(advertisement|read more|related:|share this|sign up\b).{0,80}$)",
    re.IGNORECASE,
)
PYSBD_MAX_CHARS = 5_000
_LONG_TEXT_SENTENCE_END = re.compile(
    r"""(?<!\b\w)(?<!\b(?:Mr|Ms|Dr|St|Jr|Sr|Mt|No|Co|vs))(?<!\b(?:Mrs|Gen|Gov|Sen|Rep|Inc|Ltd|Jan|Feb|Mar|Apr|Aug|Sep|Oct|Nov|Dec))"""
    r"""(?<!\b(?:Corp|Prof|Sept|Capt))[.!?…]["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])"""
)
_SMALL_WORDS = {"a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "of", "on", "or", "over", "the", "to", "vs", "with"}


@dataclass(frozen=True)
class Passage:
    """One passage of an article. ``start``/``end`` index the article's text; ``text`` is that slice."""

    index: int
    start: int
    end: int
    text: str

    @property
    def n_words(self) -> int:
        return len(_WORD.findall(self.text))


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


def is_heading(line: str) -> bool:
    """True for lines that are not body text: headlines, sub-headings, hashtags, bylines, section labels."""
    stripped = line.strip()
    if not stripped:
        return True
    if _HASHTAG_LINE.match(stripped) or _MARKDOWN_HEADING.match(stripped) or _BYLINE.match(stripped):
        return True
    words = stripped.split()
    if len(words) > 20:
        return False
    if not _TERMINAL.search(stripped):
        return True
    # Short lines ending in punctuation are headings when written in title case ("What Happens Next?",
    # "Peru Severs Diplomatic Ties with Mexico Over Asylum.").
    return _is_title_case(words)


def _is_title_case(words: list[str]) -> bool:
    content = [w for w in words if w.lower().strip("\"'“”‘’") not in _SMALL_WORDS and any(c.isalpha() for c in w)]
    if len(content) < 2:
        return False
    capitalised = sum(1 for w in content if w.lstrip("\"'“‘(")[:1].isupper())
    return capitalised / len(content) >= 0.75


@lru_cache(maxsize=1)
def _sentence_segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (whitespace between sentences excluded)."""
    spans = []
    for start, end in _sentences(text):
        cursor = start
        for match in _GLUED_SENTENCES.finditer(text, start, end):
            spans.append((cursor, match.end()))
            cursor = match.end()
        spans.append((cursor, end))
    return [_trim(text, s, e) for s, e in spans if text[s:e].strip()]


def _sentences(text: str) -> list[tuple[int, int]]:
    if len(text) <= PYSBD_MAX_CHARS:
        # pysbd finds its sentences' spans by searching for their text, which can overlap the previous
        # sentence ("0 . . ." gives "0 ." and ". ." from 2): each sentence starts where the last ended.
        spans: list[tuple[int, int]] = []
        for piece in _sentence_segmenter().segment(text):
            start = max(piece.start, spans[-1][1] if spans else 0)
            if piece.end > start:
                spans.append((start, piece.end))
        return spans
    ends = [match.end() for match in _LONG_TEXT_SENTENCE_END.finditer(text)]
    return list(zip([0, *ends], [*ends, len(text)]))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Paragraph spans: blocks separated by blank lines; inside a block, one paragraph per line unless the
    block is hard-wrapped prose (lines that do not end a sentence), which is joined."""
    spans: list[tuple[int, int]] = []
    # Anchored at line starts: unanchored, a long line of spaces would be rescanned from every position.
    for block in re.finditer(r"(?m)^(?:[^\n]*\S[^\n]*(?:\n|$))+", text):
        lines = [m for m in re.finditer(r"[^\n]+", block.group(0)) if m.group(0).strip()]
        offset = block.start()
        wrapped = len(lines) > 1 and all(
            not _TERMINAL.search(m.group(0).strip()) and len(m.group(0)) > 40 and not _is_title_case(m.group(0).split())
            for m in lines[:-1]
        )
        if wrapped:
            spans.append(_trim(text, offset + lines[0].start(), offset + lines[-1].end()))
        else:
            spans.extend(_trim(text, offset + m.start(), offset + m.end()) for m in lines)
    return spans


def _windows(text: str, start: int, end: int, target_words: int, max_words: int) -> list[tuple[int, int]]:
    """Split an over-long paragraph into windows of whole sentences of about ``target_words`` words
    (over ``max_words`` only for a single sentence that long)."""
    sentences = [(start + s, start + e) for s, e in sentence_spans(text[start:end])]
    windows: list[tuple[int, int]] = []
    current: list[tuple[int, int]] = []
    words = previous_words = 0
    for span in sentences:
        n = _word_count(text[span[0] : span[1]])
        if current and words + n > target_words:
            windows.append((current[0][0], current[-1][1]))
            current, previous_words, words = [], words, 0
        current.append(span)
        words += n
    if current:
        # A short tail is merged into the previous window rather than left as a fragment.
        if windows and words < target_words // 3 and previous_words + words <= max_words:
            windows[-1] = (windows[-1][0], current[-1][1])
        else:
            windows.append((current[0][0], current[-1][1]))
    return windows


def segment(text: str, max_words: int = DEFAULT_MAX_WORDS, target_words: int = DEFAULT_TARGET_WORDS) -> list[Passage]:
    """Split an article's text into passages (see the module docstring)."""
    if target_words > max_words:
        raise ValueError("target_words must not exceed max_words")
    passages: list[Passage] = []
    for start, end in _paragraph_spans(text):
        paragraph = text[start:end]
        if is_heading(paragraph):
            continue
        spans = [(start, end)] if _word_count(paragraph) <= max_words else _windows(text, start, end, target_words, max_words)
        for s, e in spans:
            passages.append(Passage(index=len(passages), start=s, end=e, text=text[s:e]))
    return passages
