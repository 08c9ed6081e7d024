"""Embeddings in sqlite-vec, searched through a quantised copy held in memory.

Each vector space (one per image-text model) is a sqlite-vec `vec0` table of float32
vectors, the durable copy. A brute-force scan of it costs about 75 ms at 100,000
vectors of 512 dimensions, too slow for search-as-you-type, so queries run on a
copy in memory built from it on first use: one sign bit per dimension (after
centring) to find candidates by Hamming distance, and int8 codes with a scale per
vector to re-rank them by cosine. The copy follows every write made through
`VectorSpace`.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from lumilio.catalog.db import Catalog

log = logging.getLogger(__name__)

# Below this many vectors every one is re-ranked: the bit stage would save nothing.
EXACT_UP_TO = 4096
CANDIDATES = 2048


def table_name(space_id: int) -> str:
    return f"vec_space_{int(space_id)}"


def create_table(conn, space_id: int, dim: int) -> None:
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {table_name(space_id)} USING"
                 f" vec0(embedding float[{int(dim)}] distance_metric=cosine)")


class QuantisedIndex:
    """Quantised vectors in arrays that grow by doubling, so that adding one vector
    costs no copy of the others; a removed vector leaves a hole (rowid -1) until
    holes make up a quarter of the arrays."""

    def __init__(self, dim: int):
        self.dim = dim
        self.words = (dim + 63) // 64
        self.center = np.zeros(dim, dtype=np.float32)
        self.size = 0
        self.holes = 0
        self._where: dict[int, int] = {}
        self._allocate(0)
        self._lock = threading.Lock()

    def _allocate(self, capacity: int) -> None:
        self._rowids = np.full(capacity, -1, dtype=np.int64)
        self._codes = np.zeros((capacity, self.dim), dtype=np.int8)
        self._scales = np.zeros(capacity, dtype=np.float32)
        self._bits = np.zeros((capacity, self.words), dtype=np.uint64)

    def __len__(self) -> int:
        return self.size - self.holes

    def _quantise(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                      np.ndarray]:
        peak = np.maximum(np.abs(vectors).max(axis=1), 1e-12)
        codes = np.round(vectors / peak[:, None] * 127).astype(np.int8)
        return codes, (peak / 127).astype(np.float32), self._signs(vectors)

    def _signs(self, vectors: np.ndarray) -> np.ndarray:
        signs = (vectors - self.center) > 0
        pad = self.words * 64 - self.dim
        if pad:
            signs = np.pad(signs, ((0, 0), (0, pad)))
        return np.packbits(signs, axis=1).view(np.uint64)

    def _rebuild(self, capacity: int) -> None:
        """Compact into new arrays; the centre of the sign bits is taken again from
        the vectors held (a library's vectors drift from its first ones)."""
        live = self._rowids[:self.size] >= 0
        rowids = self._rowids[:self.size][live]
        codes, scales = self._codes[:self.size][live], self._scales[:self.size][live]
        approx = codes.astype(np.float32) * scales[:, None]
        if len(approx):
            self.center = approx.mean(axis=0)
        self._allocate(capacity)
        n = len(rowids)
        self._rowids[:n], self._codes[:n], self._scales[:n] = rowids, codes, scales
        self._bits[:n] = self._signs(approx) if n else self._bits[:0]
        self.size, self.holes = n, 0
        self._where = {int(r): i for i, r in enumerate(rowids)}

    def load(self, rowids: np.ndarray, vectors: np.ndarray) -> None:
        with self._lock:
            self.center = vectors.mean(axis=0) if len(vectors) else self.center
            codes, scales, bits = self._quantise(vectors)
            n = len(rowids)
            self._allocate(max(16, n))
            self._rowids[:n], self._codes[:n] = rowids, codes
            self._scales[:n], self._bits[:n] = scales, bits
            self.size, self.holes = n, 0
            self._where = {int(r): i for i, r in enumerate(rowids)}

    def put(self, rowid: int, vector: np.ndarray) -> None:
        with self._lock:
            codes, scales, bits = self._quantise(vector[None].astype(np.float32))
            at = self._where.get(rowid)
            if at is None:
                if self.size == len(self._rowids):
                    self._rebuild(max(16, 2 * len(self)))
                at = self.size
                self.size += 1
                self._where[rowid] = at
            self._rowids[at], self._codes[at] = rowid, codes[0]
            self._scales[at], self._bits[at] = scales[0], bits[0]

    def remove(self, rowid: int) -> None:
        with self._lock:
            at = self._where.pop(rowid, None)
            if at is None:
                return
            self._rowids[at], self._scales[at] = -1, 0.0
            self.holes += 1
            if self.holes * 4 > self.size:
                self._rebuild(max(16, len(self._rowids)))

    def _snapshot(self) -> tuple[np.ndarray, ...]:
        with self._lock:
            n = self.size
            return (self._rowids[:n], self._codes[:n], self._scales[:n],
                    self._bits[:n], self.center)

    def score_all(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rowid and dot product with `query` of every vector."""
        rowids, codes, scales, _, _ = self._snapshot()
        scores = (codes.astype(np.float32) @ query.astype(np.float32)) * scales
        live = rowids >= 0
        return rowids[live], scores[live]

    def search(self, query: np.ndarray, k: int,
               min_score: float | None = None) -> list[tuple[int, float]]:
        """(rowid, cosine) of the nearest vectors, best first."""
        query = query.astype(np.float32)
        rowids, codes, scales, bits, center = self._snapshot()
        if not len(rowids):
            return []

        pick = np.arange(len(rowids))
        if len(rowids) > max(EXACT_UP_TO, k):
            signs = (query - center) > 0
            pad = self.words * 64 - self.dim
            if pad:
                signs = np.pad(signs, (0, pad))
            qbits = np.packbits(signs).view(np.uint64)
            distance = np.bitwise_count(bits ^ qbits).sum(axis=1, dtype=np.uint32)
            wanted = min(len(rowids) - 1, max(CANDIDATES, 4 * k))
            pick = np.argpartition(distance, wanted)[:wanted]

        scores = (codes[pick].astype(np.float32) @ query) * scales[pick]
        order = np.argsort(-scores)
        order = order[rowids[pick[order]] >= 0]
        if min_score is not None:
            order = order[scores[order] >= min_score]
        order = order[:k]
        return [(int(rowids[pick[i]]), float(scores[i])) for i in order]


class VectorSpace:
    """One model's vectors: the sqlite-vec table and its in-memory index."""

    def __init__(self, catalog: Catalog, space_id: int, dim: int):
        self.catalog = catalog
        self.space_id = space_id
        self.dim = dim
        self.table = table_name(space_id)
        self._index: QuantisedIndex | None = None
        self._lock = threading.Lock()

    def write(self, conn, vector_id: int, vector: np.ndarray) -> None:
        """Store a vector inside the caller's write transaction."""
        blob = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
        conn.execute(f"DELETE FROM {self.table} WHERE rowid = ?", (vector_id,))
        conn.execute(f"INSERT INTO {self.table} (rowid, embedding) VALUES (?, ?)",
                     (vector_id, blob))

    def remember(self, vector_id: int, vector: np.ndarray) -> None:
        """Mirror a committed write in the in-memory index, if it is built."""
        if self._index is not None:
            self._index.put(vector_id, vector)

    def forget(self, vector_id: int) -> None:
        if self._index is not None:
            self._index.remove(vector_id)

    def index(self) -> QuantisedIndex:
        with self._lock:
            if self._index is None:
                self._index = self._build()
            return self._index

    def _build(self) -> QuantisedIndex:
        def read(conn):
            return conn.execute(f"SELECT rowid, embedding FROM {self.table}").fetchall()

        rows = self.catalog.read(read)
        index = QuantisedIndex(self.dim)
        if rows:
            rowids = np.array([r["rowid"] for r in rows], dtype=np.int64)
            vectors = np.frombuffer(b"".join(r["embedding"] for r in rows),
                                    dtype=np.float32).reshape(len(rows), self.dim)
            index.load(rowids, vectors)
        log.info("vector space %d: %d vectors loaded into memory", self.space_id,
                 len(rows))
        return index

    def search(self, query: np.ndarray, k: int,
               min_score: float | None = None) -> list[tuple[int, float]]:
        return self.index().search(query, k, min_score)
