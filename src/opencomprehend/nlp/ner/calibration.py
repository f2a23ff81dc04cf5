"""Score calibration: a model's raw entity scores mapped onto the share of such entities that is right.

The "spacy.v1" engine scores an entity from the greedy decoder's action probabilities (spacy_engine.py).
Those are probabilities of single decisions under the training data's conventions, and on running text
of another kind they are over-confident: of the entities our es model scored at least 0.9 on CoNLL-2002,
three in four were right. Comprehend users filter entities on Score, so a score should say how often an
entity of that score is right.

A calibration map is fitted on a gold dev split that the model was not trained on (the split a recipe
uses to pick its epoch): every entity the model finds there, of a type the split annotates, is right
(exact span and type) or not, and an isotonic regression (scipy.optimize.isotonic_regression: the
non-decreasing fit of right/wrong on the raw score, pool-adjacent-violators) gives the share right per
block of raw scores. Each block's share is pulled towards 1/2 by one pseudo-observation (a block of three
right entities reads 0.875, not 1.0), and scores between blocks are interpolated linearly, as
scikit-learn's IsotonicRegression predicts. A type with at least MIN_PER_TYPE dev predictions gets a map
of its own; the other annotated types share the map fitted on all of them; a type the split does not
annotate keeps its raw score (nothing measured it).

The map is a small JSON file beside the model (calibration.json) that the engine applies to every score
it reports (spacy_engine.SpacyEngine); fitting needs scipy, applying only numpy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from opencomprehend.nlp.evaluation import judged

FILE_NAME = "calibration.json"
# Below this many dev predictions a type's own fit is too noisy; it uses the pooled map.
MIN_PER_TYPE = 100
METHOD = (
    "isotonic regression of exact-match correctness on the raw score (scipy.optimize.isotonic_regression), "
    "per type with at least 100 dev predictions, pooled otherwise; each block's share smoothed by one "
    "pseudo-observation of 1/2; linear between blocks"
)


@dataclass(frozen=True)
class Piecewise:
    """A non-decreasing piecewise-linear map from raw score to calibrated score (flat outside its knots)."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]

    def __call__(self, score: float) -> float:
        return float(np.interp(score, self.xs, self.ys))


def fit_isotonic(scored: Sequence[tuple[float, bool]]) -> Piecewise:
    """The smoothed isotonic map of (raw score, right) pairs (at least one pair)."""
    from scipy.optimize import isotonic_regression

    if not scored:
        raise ValueError("nothing to fit a calibration map on")
    # One point per distinct raw score, weighted by how many entities had it (ties must share a block).
    xs, inverse, counts = np.unique(
        np.array([s for s, _ in scored], dtype=np.float64), return_inverse=True, return_counts=True
    )
    right = np.bincount(inverse, weights=np.array([1.0 if ok else 0.0 for _, ok in scored]), minlength=len(xs))
    fitted = isotonic_regression(right / counts, weights=counts.astype(np.float64))
    knots_x: list[float] = []
    knots_y: list[float] = []
    bounds = list(fitted.blocks)
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        n = float(counts[lo:hi].sum())
        knots_x += [float(xs[lo]), float(xs[hi - 1])]
        knots_y += [(float(fitted.x[lo]) * n + 0.5) / (n + 1)] * 2
    # The smoothing pulls small blocks further than big ones, which can undo the order; restore it.
    knots_y = list(np.maximum.accumulate(knots_y))
    return Piecewise(tuple(knots_x), tuple(knots_y))


@dataclass(frozen=True)
class ScoreCalibration:
    """Per-type maps (see the module docstring); a type with no map keeps its raw score."""

    maps: dict[str, Piecewise]

    def __call__(self, entity_type: str, score: float) -> float:
        mapped = self.maps.get(entity_type)
        return score if mapped is None else mapped(score)

    @classmethod
    def read(cls, folder: str | Path) -> ScoreCalibration | None:
        """The calibration saved beside a model folder, or None (a package, or a model without one)."""
        path = Path(folder) / FILE_NAME
        if not path.is_file():
            return None
        raw = json.loads(path.read_text(encoding="utf-8"))
        maps = {t: Piecewise(tuple(m["x"]), tuple(m["y"])) for t, m in raw["maps"].items()}
        return cls(maps)


def fit(
    predictions: Iterable[Sequence[dict]],
    gold: Iterable[Iterable[tuple[int, int, str]]],
    annotated: set[str],
) -> tuple[ScoreCalibration, dict[str, Any]]:
    """Fit the maps on a dev split: the engine's raw entities per sentence against its gold spans.

    Returns the calibration and its record (calibration.json's content: method, maps, counts per type).
    """
    by_type: dict[str, list[tuple[float, bool]]] = {}
    for entity_type, score, right in judged(gold, predictions, annotated):
        by_type.setdefault(entity_type, []).append((score, right))
    pooled = [pair for pairs in by_type.values() for pair in pairs]
    if not pooled:
        raise ValueError("the model found no entity of the dev split's types; nothing to calibrate on")
    shared = fit_isotonic(pooled)
    maps: dict[str, Piecewise] = {}
    counts: dict[str, dict[str, Any]] = {}
    for entity_type in sorted(annotated):
        pairs = by_type.get(entity_type, [])
        own = len(pairs) >= MIN_PER_TYPE
        maps[entity_type] = fit_isotonic(pairs) if own else shared
        counts[entity_type] = {
            "predictions": len(pairs),
            "right": sum(ok for _, ok in pairs),
            "map": "own" if own else "pooled",
        }
    record = {
        "method": METHOD,
        "types": counts,
        "maps": {t: {"x": list(m.xs), "y": [round(y, 6) for y in m.ys]} for t, m in maps.items()},
    }
    return ScoreCalibration(maps), record


def write(folder: str | Path, record: dict[str, Any]) -> None:
    (Path(folder) / FILE_NAME).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
