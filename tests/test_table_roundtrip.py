"""Every table writer round-trips every text: what is written reads back, with pandas and with framing, as it went in."""

import io
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framing.tables import TableWriter, read_table, write_csv

# Any Unicode (surrogates cannot be encoded), with the characters that break CSV made frequent.
TEXTS = st.lists(st.text(alphabet=st.one_of(st.sampled_from(["\r", "\n", '"', ",", "'", " ", "\x00", "\t", "é", "—"]),
                                            st.characters(blacklist_categories=("Cs",))), min_size=1, max_size=40),
                 min_size=1, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXTS)
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_every_writer_round_trips_every_text(suffix, texts):
    frame = pd.DataFrame({"id": [f"0{i}" for i in range(len(texts))], "text": texts, "p_economic": [0.5] * len(texts)})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"out{suffix}"
        with TableWriter(path) as writer:
            writer.write(frame.iloc[:1])
            writer.write(frame.iloc[1:])
        if suffix == ".csv":
            back = pd.read_csv(path, dtype=str, keep_default_na=False)
        elif suffix == ".jsonl":
            back = pd.read_json(path, lines=True, dtype=False)
        else:
            back = pd.read_parquet(path)
        assert back["text"].tolist() == texts
        assert back["id"].tolist() == frame["id"].tolist()
        if "\x00" not in "".join(texts):  # framing's reader refuses NUL bytes in a table, as in an article
            assert read_table(path)["text"].tolist() == texts


def test_a_lone_carriage_return_is_quoted_on_stdout_too():
    buffer = io.StringIO()
    write_csv(pd.DataFrame({"id": ["1", "2", "3"], "text": ["one\rtwo", "plain", "x"]}), buffer)
    back = pd.read_csv(io.StringIO(buffer.getvalue()), dtype=str, keep_default_na=False)
    assert back["text"].tolist() == ["one\rtwo", "plain", "x"]
