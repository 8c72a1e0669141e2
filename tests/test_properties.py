"""Properties that must hold for any input: the segmenter on arbitrary Unicode, and the mix arithmetic."""

from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from framing import segmentation
from framing.scoring import mix, passage_weights
from framing.segmentation import segment, sentence_spans

FAST = settings(max_examples=150, deadline=None)

# Prose-like text: words (some capitalised, some abbreviations), sentence punctuation, quotes, blank
# lines and line breaks, so that paragraphs, headings and over-long paragraphs all occur.
_TOKENS = st.sampled_from(["the", "ministry", "said", "Peru", "Mexico", "asylum", "U.S.", "Mr.", "trade", "“quoted”", "it's", "2024",
                           ".", ".", "!", "?", "…", ",", " ", " ", "\n", "\n\n", "#Peru", "By Ana Ruiz", "\t", "é", "\u00a0", "\u2028"])
PROSE = st.lists(_TOKENS, max_size=400).map(lambda tokens: " ".join(tokens))
ANY_TEXT = st.one_of(st.text(max_size=600), PROSE)
LIMITS = st.integers(min_value=3, max_value=60).flatmap(lambda m: st.tuples(st.just(m), st.integers(min_value=1, max_value=m)))


def _assert_segmentation_properties(text: str, max_words: int, target_words: int) -> None:
    passages = segment(text, max_words=max_words, target_words=target_words)
    end = 0
    for i, passage in enumerate(passages):
        assert passage.index == i
        assert text[passage.start : passage.end] == passage.text
        assert passage.text and passage.text == passage.text.strip()
        assert passage.start >= end  # in order, never overlapping
        end = passage.end
        if passage.n_words > max_words:  # only a single sentence may be longer
            assert len(sentence_spans(passage.text)) == 1, passage.text


@FAST
@given(ANY_TEXT, LIMITS)
def test_segmenter_properties(text, limits):
    _assert_segmentation_properties(text, *limits)


@FAST
@given(ANY_TEXT, LIMITS)
def test_segmenter_properties_hold_on_the_path_for_giant_paragraphs(text, limits):
    # Every text takes the regular-expression splitter, the passages and the check alike: pysbd and the
    # splitter may disagree on where a sentence ends ("0. 00" is one sentence to one, two to the other).
    with mock.patch.object(segmentation, "PYSBD_MAX_CHARS", 0):
        _assert_segmentation_properties(text, *limits)


@FAST
@given(st.text(max_size=300))
def test_sentence_spans_index_the_text_and_are_stripped(text):
    for start, end in sentence_spans(text):
        assert 0 <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()


def _probabilities(n_frames=st.integers(1, 6)):
    return n_frames.flatmap(lambda f: st.integers(1, 25).flatmap(
        lambda n: hnp.arrays(float, (n, f), elements=st.floats(0, 1, allow_nan=False))))


@FAST
@given(_probabilities())
def test_passage_weights_are_a_distribution_over_frames_and_none(probabilities):
    weights = passage_weights(probabilities)
    assert weights.shape == (probabilities.shape[0], probabilities.shape[1] + 1)
    assert ((weights >= 0) & (weights <= 1)).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)


@FAST
@given(_probabilities(), st.data())
def test_mix_is_a_distribution_invariant_to_order_and_length_scale(probabilities, data):
    n = probabilities.shape[0]
    lengths = data.draw(hnp.arrays(int, n, elements=st.integers(1, 500)))  # word counts
    shares = mix(probabilities, lengths)
    assert ((shares >= 0) & (shares <= 1)).all()
    assert abs(shares.sum() - 1) < 1e-9
    order = data.draw(st.permutations(range(n)))
    np.testing.assert_allclose(mix(probabilities[order], lengths[order]), shares, atol=1e-12)
    scale = data.draw(st.integers(2, 1000))
    np.testing.assert_allclose(mix(probabilities, lengths * scale), shares, atol=1e-12)
    # each share lies between the smallest and largest weight the passages give it
    weights = passage_weights(probabilities)
    assert (weights.min(axis=0) - 1e-12 <= shares).all() and (shares <= weights.max(axis=0) + 1e-12).all()
