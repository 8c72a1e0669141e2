"""The sentence encoder's backends: int8 ONNX agrees with float32, keeps order, chunks long texts,
builds its cached file once (also under two concurrent builders) and is selectable from outside.

The int8 file is built once per test session into a temporary cache folder (a few seconds)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from framing.models import encoder as enc

PASSAGES = [
    "DOHA, June 5 — Saudi Arabia, the United Arab Emirates, Bahrain and Egypt severed diplomatic relations with Qatar on Monday, "
    "accusing the small Gulf state of backing militant groups, and gave Qatari diplomats 48 hours to leave.",
    "Shoppers stripped supermarket shelves of milk, rice and bottled water within hours of the announcement.",
    "The foreign ministry called the decision \"unjustified\" and said it was based on \"false allegations\".",
    "Farmers on both sides of the border say the closure has cost them their biggest market, and some have already "
    "let workers go; a trade association put the losses at $40 million a month.",
    "Why now?",
    "Analysts said the dispute was less about terrorism than about a decade of rivalry over influence in the region, "
    "from the Arab Spring to the war in Yemen, and that neither side could afford to back down quickly.",
]

# Measured on the labeled corpus (2,190 passages): mean cosine 0.998, minimum 0.994.
MIN_COSINE = 0.99


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    """Build the int8 file into a fresh folder, so the tests see a real first build and never touch ~/.cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv(enc.CACHE_ENV, str(tmp_path_factory.mktemp("framing-cache")))
    patch.delenv(enc.BACKEND_ENV, raising=False)
    enc._load_onnx_session.cache_clear()
    yield
    enc._load_onnx_session.cache_clear()
    patch.undo()


@pytest.fixture(scope="module")
def int8_vectors():
    return enc.SentenceEncoder(backend="onnx-int8").encode(PASSAGES)


@pytest.fixture(scope="module")
def float32_vectors():
    return enc.SentenceEncoder(backend="torch").encode(PASSAGES)


def test_int8_agrees_with_float32(int8_vectors, float32_vectors):
    assert int8_vectors.shape == float32_vectors.shape == (len(PASSAGES), enc.SentenceEncoder.dimension)
    np.testing.assert_allclose(np.linalg.norm(int8_vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(int8_vectors * float32_vectors, axis=1)
    assert cosines.min() > MIN_COSINE, cosines
    # Not trivially equal: the int8 backend really ran.
    assert cosines.max() < 1 - 1e-6


def test_default_backend_is_int8_and_selectable_from_outside(monkeypatch):
    assert enc.SentenceEncoder().backend == "onnx-int8"
    monkeypatch.setenv(enc.BACKEND_ENV, "torch")
    assert enc.default_backend() == "torch"
    assert enc.SentenceEncoder().backend == "torch"
    assert enc.SentenceEncoder(backend="onnx-int8").backend == "onnx-int8"  # an explicit choice wins
    monkeypatch.setenv(enc.BACKEND_ENV, "gpu-magic")
    with pytest.raises(ValueError, match="unknown encoder backend"):
        enc.SentenceEncoder()
    described = enc.SentenceEncoder(backend="onnx-int8").describe()
    assert described["backend"] == "onnx-int8" and described["onnx_file"] == enc.onnx_model_path().name
    assert enc.SentenceEncoder(backend="torch").describe() == {"encoder": enc.ENCODER_NAME, "backend": "torch"}


@pytest.mark.parametrize("backend", ["onnx-int8", "torch"])
def test_output_order_matches_input_order_with_mixed_lengths(backend, int8_vectors, float32_vectors):
    expected = {"onnx-int8": int8_vectors, "torch": float32_vectors}[backend]
    encoder = enc.SentenceEncoder(backend=backend, batch_size=2)
    order = [3, 4, 0, 5, 1, 2, 4]  # long, short, long... and a repeat
    vectors = encoder.encode([PASSAGES[i] for i in order])
    # int8 runs one text per call, so a text's vector does not depend on its batch-mates at all.
    tolerance = 1e-6 if backend == "onnx-int8" else 1e-4
    np.testing.assert_allclose(vectors, expected[order], atol=tolerance)
    singles = np.vstack([encoder.encode([PASSAGES[i]]) for i in order])
    np.testing.assert_allclose(vectors, singles, atol=tolerance)


def test_long_text_is_chunked_and_pooled_to_a_unit_vector(monkeypatch):
    paragraph = " ".join(PASSAGES[i] for i in (0, 1, 3, 5))
    long_text = "\n\n".join([paragraph] * 5)
    assert len(long_text.split()) > 400
    seen: list[int] = []
    original = enc.SentenceEncoder._encode_cached

    def spy(self, texts):
        seen.append(len(texts))
        return original(self, texts)

    monkeypatch.setattr(enc.SentenceEncoder, "_encode_cached", spy)
    vectors = enc.SentenceEncoder().encode([PASSAGES[4], long_text])
    assert seen[-1] > 3, "the long text should be split into several pieces"
    assert vectors.shape == (2, enc.SentenceEncoder.dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # The long text is about the same things as its paragraph: its pooled vector stays close.
    assert float(vectors[1] @ enc.SentenceEncoder().encode([paragraph])[0]) > 0.8


def test_cached_file_is_reused_not_rebuilt(monkeypatch, int8_vectors):
    path = enc.onnx_model_path()
    assert path.is_file() and path.parent == enc.encoder_cache_dir()
    before = path.stat()

    def no_rebuild(destination, weights=None):
        raise AssertionError("the cached ONNX file was rebuilt")

    monkeypatch.setattr(enc, "build_onnx_model", no_rebuild)
    enc._load_onnx_session.cache_clear()  # a fresh load, as in a new process
    assert enc.ensure_onnx_model() == path
    np.testing.assert_allclose(enc.SentenceEncoder(backend="onnx-int8").encode(PASSAGES), int8_vectors, atol=1e-6)
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    # The file name pins the source weights, the onnxruntime version and the recipe.
    import onnxruntime

    assert enc.source_fingerprint()[:16] in path.name and onnxruntime.__version__ in path.name and f"-r{enc.ONNX_RECIPE}-" in path.name


def test_two_builders_at_once_build_once_and_leave_no_temp_files(monkeypatch, tmp_path):
    monkeypatch.setenv(enc.CACHE_ENV, str(tmp_path))
    calls: list[str] = []

    def slow_build(destination, weights=None):
        calls.append(str(destination))
        time.sleep(0.3)
        destination.write_bytes(b"model")
        return 0.3

    monkeypatch.setattr(enc, "build_onnx_model", slow_build)
    results: list = []
    barrier = threading.Barrier(2)

    def builder():
        barrier.wait()  # both find no file, then race for the build
        results.append(enc.ensure_onnx_model())

    threads = [threading.Thread(target=builder) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    path = enc.onnx_model_path()
    assert results == [path, path]
    assert len(calls) == 1  # the second builder waited on the lock, then found the file
    assert path.read_bytes() == b"model"
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, path.name + ".lock"])


def test_failed_build_leaves_nothing_behind(monkeypatch, tmp_path):
    monkeypatch.setenv(enc.CACHE_ENV, str(tmp_path))

    def broken_build(destination, weights=None):
        destination.write_bytes(b"half a model")
        raise RuntimeError("export failed")

    monkeypatch.setattr(enc, "build_onnx_model", broken_build)
    with pytest.raises(RuntimeError, match="export failed"):
        enc.ensure_onnx_model()
    assert not enc.onnx_model_path().exists()
    assert [p.name for p in enc.onnx_model_path().parent.iterdir()] == [enc.onnx_model_path().name + ".lock"]


def test_embedding_cache_keeps_backends_apart():
    with enc.cached_embeddings():
        int8 = enc.SentenceEncoder(backend="onnx-int8").encode(PASSAGES[:2])
        float32 = enc.SentenceEncoder(backend="torch").encode(PASSAGES[:2])
        again = enc.SentenceEncoder(backend="onnx-int8").encode(PASSAGES[:2])
    assert not np.array_equal(int8, float32)
    np.testing.assert_array_equal(int8, again)


def test_empty_input():
    assert enc.SentenceEncoder().encode([]).shape == (0, enc.SentenceEncoder.dimension)


def test_a_damaged_cached_file_is_rebuilt_once(monkeypatch, tmp_path):
    monkeypatch.setenv(enc.CACHE_ENV, str(tmp_path))
    path = enc.onnx_model_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an onnx model")
    built: list = []

    def fake_build(destination, weights=None):
        built.append(destination)
        destination.write_bytes(b"rebuilt")

    def fake_load(file, threads):
        if open(file, "rb").read() != b"rebuilt":
            raise RuntimeError("INVALID_PROTOBUF")
        return "session"

    monkeypatch.setattr(enc, "build_onnx_model", fake_build)
    monkeypatch.setattr(enc, "_load_onnx_session", fake_load)
    monkeypatch.setattr(enc, "_rebuilt", set())
    assert enc.onnx_session() == "session"
    assert len(built) == 1 and path.read_bytes() == b"rebuilt"
    path.write_bytes(b"damaged again")  # a second failure in the same process is raised, not rebuilt again
    with pytest.raises(RuntimeError, match="INVALID_PROTOBUF"):
        enc.onnx_session()
    assert len(built) == 1
