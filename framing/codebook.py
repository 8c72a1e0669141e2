"""The codebook: the single source of truth for frame names and definitions.

A codebook is a TOML file (see ``framing/codebooks/default.toml``)::

    name = "my-scheme"
    version = "1.0"
    none_definition = "..."
    [[frames]]
    name = "economic"
    definition = "..."
    includes = ["..."]
    excludes = ["..."]
    color = "#2ca02c"      # optional, used by charts

Everything downstream (model outputs, ``p_<frame>`` columns, reports, corpus checks) follows the
order of ``frames`` in the file.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from framing.errors import InputError

NONE_LABEL = "none"
_FRAME_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
# Matplotlib's tab10, used when a codebook gives no colour.
_FALLBACK_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
NONE_COLOR = "#c7c7c7"


@dataclass(frozen=True)
class Frame:
    name: str
    definition: str
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    color: str = ""


@dataclass(frozen=True)
class Codebook:
    name: str
    version: str
    frames: tuple[Frame, ...]
    description: str = ""
    none_definition: str = ""
    language: str = "en"
    source: str = field(default="", compare=False)

    @property
    def frame_names(self) -> list[str]:
        return [f.name for f in self.frames]

    @property
    def probability_columns(self) -> list[str]:
        return [f"p_{name}" for name in self.frame_names]

    @property
    def colors(self) -> dict[str, str]:
        """Colour of every frame and of ``none``, for charts."""
        colors = {f.name: f.color or _FALLBACK_COLORS[i % len(_FALLBACK_COLORS)] for i, f in enumerate(self.frames)}
        colors[NONE_LABEL] = NONE_COLOR
        return colors

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "language": self.language,
            "description": self.description,
            "none_definition": self.none_definition,
            "frames": [
                {"name": f.name, "definition": f.definition, "includes": list(f.includes), "excludes": list(f.excludes), "color": f.color}
                for f in self.frames
            ],
        }

    @property
    def fingerprint(self) -> str:
        """Hash of the frame names and definitions: two codebooks with the same fingerprint label alike."""
        content = [(f.name, f.definition) for f in self.frames]
        return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:16]

    def validate_labels(self, labels: list[str]) -> list[str]:
        """Return the labels that are not frames of this codebook."""
        known = set(self.frame_names)
        return [label for label in labels if label not in known]


def from_dict(data: dict, source: str = "") -> Codebook:
    where = source or "codebook"
    frames_data = data.get("frames")
    if not isinstance(frames_data, list) or not frames_data:
        raise InputError(f"{where}: a codebook needs at least one [[frames]] entry")
    frames = []
    for i, entry in enumerate(frames_data, start=1):
        name = str(entry.get("name", "")).strip()
        if not _FRAME_NAME.match(name) or name == NONE_LABEL:
            raise InputError(
                f"{where}: frame {i} has the name {name!r}; use lower-case letters, digits, '-' or '_', and not 'none'"
            )
        if not str(entry.get("definition", "")).strip():
            raise InputError(f"{where}: frame {name!r} has no definition")
        frames.append(
            Frame(
                name=name,
                definition=" ".join(str(entry["definition"]).split()),
                includes=tuple(entry.get("includes", ())),
                excludes=tuple(entry.get("excludes", ())),
                color=str(entry.get("color", "")),
            )
        )
    names = [f.name for f in frames]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(f"{where}: frame names repeated: {', '.join(duplicated)}")
    return Codebook(
        name=str(data.get("name", "unnamed")),
        version=str(data.get("version", "1")),
        frames=tuple(frames),
        description=" ".join(str(data.get("description", "")).split()),
        none_definition=" ".join(str(data.get("none_definition", "")).split()),
        language=str(data.get("language", "en")),
        source=source,
    )


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load a codebook TOML file; without a path, the default four-frame codebook."""
    if path is None:
        text = resources.files("framing.codebooks").joinpath("default.toml").read_text(encoding="utf-8")
        return from_dict(tomllib.loads(text), source="default")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: codebook file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid TOML codebook ({exc})") from None
    return from_dict(data, source=str(path))
