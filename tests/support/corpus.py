"""The labelled scenario corpus (scripts/make_detect_corpus.py) scored for the tests: a module's scenarios, in two
spawned processes. The weather scenarios' work frames are kept in pytest's cache directory (.cache/detect-corpus,
`scripts/corpus_cache.py`, named by a hash of what draws them): rendering is most of their cost."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from scripts.make_detect_corpus import WEATHER, Score, scenario_scores

CACHE = Path(__file__).resolve().parent.parent.parent / ".cache" / "detect-corpus"


def scored(order: list[str], half_rate: list[str]) -> dict[str, dict[int, Score]]:
    """Per scenario of `order` (the longest first, so that both processes end at about the same time), its score
    with every frame analysed (1), and for those of `half_rate` with every other one (2)."""
    caches = [CACHE if name in WEATHER else None for name in order]
    everies = [(1, 2) if name in half_rate else (1,) for name in order]
    # spawned, not forked: other tests' threads may hold locks at the moment of a fork
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        return dict(zip(order, pool.map(scenario_scores, order, caches, everies), strict=True))
