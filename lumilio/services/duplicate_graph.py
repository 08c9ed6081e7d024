"""The duplicate graph: evidence edges between assets, and the groups they form.

Two kinds of evidence join two assets:

- exact: the same content hash and the same size (distance 0, confidence 1);
- phash: the pictures look the same. The 64-bit pHash must be within
  PHASH_MAX_DISTANCE bits, and then the 24x24 thumbprints must agree too (a
  difference of at most THUMBPRINT_MAX_DIFFERENCE), the pictures must have the same
  shape (aspect ratios within ASPECT_TOLERANCE) and neither may be nearly flat
  (grey-level spread under MIN_SPREAD). Each guard keeps one kind of look-alike
  apart: frames of a burst and screenshots of one app can share the coarse hash but
  not the thumbprint, an edit with another crop changes the shape, and flat pictures
  have hashes of noise. The values come from `bench/measure_phash.py` on the shared
  media; the README's "Duplicates" section records the run.

Pairs inside one stack are never phash edges (a RAW and its JPEG, or the frames of
a burst, are meant to be kept together); identical bytes are an edge even there,
since a stack made of copies of one file holds nothing worth keeping twice. Pairs a
person already decided on (both members of a dismissed or merged group) are never
edges. Connected assets form a group.

Pure functions of plain values: the catalog work is in `services.duplicates`.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from lumilio.media.fingerprint import Fingerprint, difference, distance

logger = logging.getLogger(__name__)

PHASH_MAX_DISTANCE = 6
THUMBPRINT_MAX_DIFFERENCE = 0.028
ASPECT_TOLERANCE = 0.03
MIN_SPREAD = 5.0

HASH_BITS = 64


@dataclass(frozen=True)
class Candidate:
    asset_id: str
    content_hash: str | None
    file_size: int
    fingerprint: Fingerprint | None
    stack_id: str | None = None


@dataclass(frozen=True)
class Edge:
    asset_id_a: str
    asset_id_b: str
    method: str  # exact | phash
    distance: int

    @property
    def confidence(self) -> float:
        if self.method == "exact":
            return 1.0
        return round(1 - self.distance / HASH_BITS, 4)


@dataclass
class Group:
    asset_ids: list[str]
    edges: list[Edge] = field(default_factory=list)

    @property
    def method(self) -> str:
        kinds = {e.method for e in self.edges}
        if kinds == {"exact"}:
            return "exact"
        if kinds == {"phash"}:
            return "phash"
        return "mixed"


def similar(a: Fingerprint, b: Fingerprint) -> int | None:
    """The pHash distance when the two pictures count as the same, else None."""
    if a.spread < MIN_SPREAD or b.spread < MIN_SPREAD:
        return None
    if abs(a.aspect - b.aspect) > ASPECT_TOLERANCE * max(a.aspect, b.aspect):
        return None
    coarse = distance(a.phash, b.phash)
    if coarse > PHASH_MAX_DISTANCE:
        return None
    if difference(a.thumbprint, b.thumbprint) > THUMBPRINT_MAX_DIFFERENCE:
        return None
    return coarse


def build(candidates: list[Candidate],
          decided: Iterable[tuple[str, str]] = ()) -> list[Group]:
    """Groups of two or more assets connected by evidence, largest first."""
    skip = {_pair(a, b) for a, b in decided}
    stack_of = {c.asset_id: c.stack_id for c in candidates}

    def allowed(a: str, b: str) -> bool:
        same_stack = stack_of[a] is not None and stack_of[a] == stack_of[b]
        return not same_stack and _pair(a, b) not in skip

    edges = [e for e in _exact_edges(candidates)
             if _pair(e.asset_id_a, e.asset_id_b) not in skip]
    exact = {_pair(e.asset_id_a, e.asset_id_b) for e in edges}
    for edge in _phash_edges(candidates):
        pair = _pair(edge.asset_id_a, edge.asset_id_b)
        if pair not in exact and allowed(*pair):
            edges.append(edge)

    groups = _components(edges)
    logger.debug("duplicate graph: %d candidates, %d edges, %d groups",
                 len(candidates), len(edges), len(groups))
    return groups


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _exact_edges(candidates: list[Candidate]) -> list[Edge]:
    by_content: dict[tuple[str, int], list[str]] = defaultdict(list)
    for c in candidates:
        if c.content_hash:
            by_content[(c.content_hash, c.file_size)].append(c.asset_id)

    edges = []
    for ids in by_content.values():
        ids.sort()
        # Every pair would say the same thing n times over; a chain connects them.
        edges.extend(Edge(*_pair(a, b), "exact", 0) for a, b in itertools.pairwise(ids))
    return edges


def _bands(bits: int = HASH_BITS, count: int = PHASH_MAX_DISTANCE + 1
           ) -> list[tuple[int, int]]:
    # Pigeonhole: two hashes that differ in at most `count - 1` bits agree exactly
    # on at least one of `count` disjoint bands, so comparing only the hashes that
    # share a band finds every pair within the distance, without all n² pairs.
    size, extra = divmod(bits, count)
    bands, start = [], 0
    for index in range(count):
        width = size + (1 if index < extra else 0)
        bands.append((start, width))
        start += width
    return bands


def _phash_edges(candidates: list[Candidate]) -> list[Edge]:
    prints = {c.asset_id: c.fingerprint for c in candidates
              if c.fingerprint is not None and c.fingerprint.spread >= MIN_SPREAD}
    values = {asset_id: int(p.phash, 16) for asset_id, p in prints.items()}

    buckets: dict[tuple[int, int], list[str]] = defaultdict(list)
    for index, (start, width) in enumerate(_bands()):
        mask = (1 << width) - 1
        for asset_id, value in values.items():
            buckets[(index, (value >> start) & mask)].append(asset_id)

    seen: set[tuple[str, str]] = set()
    edges = []
    for members in buckets.values():
        for a, b in itertools.combinations(members, 2):
            pair = _pair(a, b)
            if pair in seen:
                continue
            seen.add(pair)
            found = similar(prints[a], prints[b])
            if found is not None:
                edges.append(Edge(*pair, "phash", found))
    return edges


def _components(edges: list[Edge]) -> list[Group]:
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for edge in edges:
        ra, rb = root(edge.asset_id_a), root(edge.asset_id_b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    groups: dict[str, Group] = {}
    for edge in edges:
        group = groups.setdefault(root(edge.asset_id_a), Group([]))
        group.edges.append(edge)
    for group in groups.values():
        group.asset_ids = sorted({x for e in group.edges
                                  for x in (e.asset_id_a, e.asset_id_b)})
    return sorted(groups.values(), key=lambda g: (-len(g.asset_ids), g.asset_ids[0]))
