import re

import pytest

from framing.codebook import load_codebook
from framing.errors import InputError

from .conftest import ROOT


def _normalise(text: str) -> str:
    return " ".join(text.replace("**", "").split())


def test_default_codebook_has_the_four_frames_in_order():
    codebook = load_codebook()
    assert codebook.frame_names == ["sovereignty", "humanitarian", "ideological-bloc", "economic"]
    assert codebook.probability_columns == ["p_sovereignty", "p_humanitarian", "p_ideological-bloc", "p_economic"]
    assert set(codebook.colors) == set(codebook.frame_names) | {"none"}


def test_annotation_guide_agrees_with_the_codebook_file():
    guide = _normalise((ROOT / "labeled" / "CODEBOOK.md").read_text(encoding="utf-8"))
    codebook = load_codebook()
    for frame in codebook.frames:
        assert f"### {frame.name}" in guide
        assert _normalise(frame.definition) in guide, frame.name
    assert _normalise(codebook.none_definition) in guide


def test_guide_has_five_worked_examples_per_frame_with_hard_negatives():
    guide = (ROOT / "labeled" / "CODEBOOK.md").read_text(encoding="utf-8")
    examples = guide.split("## Worked examples")[1].split("## Multi-label examples")[0]
    for section in re.split(r"\n### ", examples)[1:]:
        numbered = re.findall(r"^\d+\. ", section, flags=re.M)
        assert len(numbered) >= 5, section[:30]


def test_custom_codebook(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "health"\n[[frames]]\nname = "risk"\ndefinition = "Danger."\n[[frames]]\nname = "cost"\ndefinition = "Money."\n')
    codebook = load_codebook(path)
    assert codebook.frame_names == ["risk", "cost"]
    assert codebook.fingerprint != load_codebook().fingerprint


@pytest.mark.parametrize(
    "content, message",
    [
        ("name = 'x'\n", "at least one"),
        ("[[frames]]\nname = 'none'\ndefinition = 'x'\n", "not 'none'"),
        ("[[frames]]\nname = 'Bad Name'\ndefinition = 'x'\n", "lower-case"),
        ("[[frames]]\nname = 'a'\n", "no definition"),
        ("[[frames]]\nname = 'a'\ndefinition = 'x'\n[[frames]]\nname = 'a'\ndefinition = 'y'\n", "repeated"),
        ("this is = = not toml", "not a valid TOML"),
    ],
)
def test_invalid_codebooks_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_codebook(path)
