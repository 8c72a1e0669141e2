
import pytest

from framing.segmentation import is_heading, segment, sentence_spans

from .conftest import EXAMPLES


def _passages(name: str):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    return text, segment(text)


@pytest.mark.parametrize("name", ["editorial.txt", "wire-a.txt", "wire-b.txt"])
def test_spans_index_the_original_text(name):
    text, passages = _passages(name)
    assert passages, name
    for i, p in enumerate(passages):
        assert p.index == i
        assert text[p.start : p.end] == p.text
        assert p.text == p.text.strip()


def test_editorial_section_label_headline_and_hashtags_are_not_passages():
    text, passages = _passages("editorial.txt")
    joined = " ".join(p.text for p in passages)
    assert "PoliticsdiplomacyBilateral Relations" not in joined
    assert "Peru Severs Diplomatic Ties with Mexico Over Asylum." not in joined
    assert "#" not in joined
    assert passages[0].text.startswith("The diplomatic rupture between Peru and Mexico")
    assert passages[-1].text.endswith("Latin America's political soul.")


def test_editorial_long_paragraph_is_split_into_windows_of_whole_sentences():
    text, passages = _passages("editorial.txt")
    body = text.splitlines()[2]
    assert len(body.split()) == 516
    assert len(passages) >= 5
    assert all(p.n_words <= 120 for p in passages)
    # Windows cover the paragraph without gaps other than whitespace, and each ends a sentence.
    covered = "".join(p.text for p in passages).replace(" ", "")
    assert covered == body.replace(" ", "")
    assert all(p.text[-1] in ".!?'\"" for p in passages)


def test_glued_sentences_are_split():
    text = "It prioritised domestic jurisdiction.This is not an isolated incident. It is a pattern."
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ["It prioritised domestic jurisdiction.", "This is not an isolated incident.", "It is a pattern."]


def test_wire_a_headlines_and_subheadings_are_skipped():
    text, passages = _passages("wire-a.txt")
    texts = [p.text for p in passages]
    for heading in ["Peru Cuts Diplomatic Ties With Mexico in Explosive Political Asylum Row", "Peru severs diplomatic ties with Mexico",
                    "A Diplomatic Rupture Years in the Making", "What Happens Next?", "Regional Implications and International Reaction"]:
        assert heading not in texts
    assert len(passages) == 11


def test_wire_b_subheadings_are_skipped_and_first_paragraph_kept():
    text, passages = _passages("wire-b.txt")
    assert len(passages) == 8
    assert passages[0].text.startswith("In a dramatic escalation of diplomatic tensions")
    assert all(p.text not in {"Diplomatic Crisis Unfolds", "Regional Political Fault Lines Exposed"} for p in passages)


@pytest.mark.parametrize("line", ["#Peru", "#diplomatic relations", "## Background", "By Ana Ruiz and Tom Hogue", "Reporting by Ana Ruiz; Editing by Tom Hogue",
                                  "Photo: Reuters", "What Happens Next?", "PoliticsdiplomacyBilateral Relations", "Advertisement"])
def test_non_body_lines_are_headings(line):
    assert is_heading(line)


@pytest.mark.parametrize("line", ["Peru has denied this.", "The ministry did not respond to a request for comment.",
                                  "Mexico granted asylum to the former minister on Tuesday, officials said."])
def test_body_sentences_are_not_headings(line):
    assert not is_heading(line)


def test_hard_wrapped_paragraphs_are_joined_and_blank_lines_separate():
    text = ("The foreign ministry said on Monday that it had recalled its ambassador\n"
            "for consultations and summoned the chargé d'affaires to explain the remarks\n"
            "made by the president at the summit.\n\n"
            "Exporters said the row could cost them dearly.\n")
    passages = segment(text)
    assert len(passages) == 2
    assert passages[0].text.endswith("at the summit.") and "\n" in passages[0].text
    assert passages[1].text == "Exporters said the row could cost them dearly."


def test_only_headings_gives_no_passages():
    assert segment("Breaking News\n#Peru\n#Mexico\n") == []
