"""The routing hierarchy's disk cache: versioned, keyed by the network, checked before use.

A cache entry (``cch-v{FORMAT}-{nodes}-{key}.npz`` under
``settings.cache_folder / "hierarchy"``) keeps what is expensive to compute
— the nested-dissection *order* of the nodes — and the network it belongs
to (CSR ``indptr``/``indices``, the input weights for :func:`load` without a
graph). Nothing derived from the order (the chordal topology, the customised
arc times) is stored: it is recomputed from the order on load (~35 ms on the
56,106-node Bắc Giang network against ~250 ms for a cold build), so a cache
file can never carry wrong travel times.

Before anything is used, :func:`load` checks, in order:

1. the zip members' array headers (names, dtypes, shapes against the graph,
   stored uncompressed) — no large allocation from a forged header;
2. the format version and the network key written inside the file;
3. a SHA-256 digest of every stored array and of the metadata;
4. the arcs equal the graph's, and the order is a permutation of 0 … n−1
   (index bounds checked before any numba kernel runs).

Any failure raises :class:`CacheError`; :func:`cached_hierarchy` then
discards the entry, rebuilds with a warning and writes a fresh entry. A
tampered file whose digest was recomputed still cannot give wrong answers:
any permutation is a valid elimination order, and the times are customised
from the graph's own weights.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

from geo import settings
from geo.routing.hierarchy import Hierarchy

log = logging.getLogger(__name__)

#: Version of the cache format: a file written by another version is discarded and rebuilt.
FORMAT = 2

_ARRAYS = ("order", "indptr", "indices", "weights", "meta")
_INDEX_KINDS = "iu"


class CacheError(ValueError):
    """A cache entry that must not be used (damaged, tampered, stale or written by another version)."""


def network_key(graph: csr_matrix) -> str:
    """Digest of a graph's nodes and arcs (not its weights): hierarchies of the same arcs share an order."""
    key = hashlib.sha256()
    key.update(np.int64(graph.shape[0]).tobytes())
    for part in (graph.indptr.astype(np.int64), graph.indices.astype(np.int64)):
        key.update(np.ascontiguousarray(part).tobytes())
    return key.hexdigest()


def cache_path(graph: csr_matrix) -> Path:
    """Cache file of ``graph``'s hierarchy: format version, node count and network key in the name."""
    return settings.cache_folder / "hierarchy" / f"cch-v{FORMAT}-{graph.shape[0]}-{network_key(graph)[:24]}.npz"


def save(hierarchy: Hierarchy, path, graph: csr_matrix | None = None) -> Path:
    """Write ``hierarchy``'s order and network to ``path`` (.npz, uncompressed), atomically.

    ``graph`` defaults to the hierarchy's own arcs and weights.
    """
    path = Path(path)
    t = hierarchy.topology
    indptr = np.ascontiguousarray(t.indptr if graph is None else graph.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(t.indices if graph is None else graph.indices, dtype=np.int64)
    weights = np.ascontiguousarray(hierarchy.weights if graph is None else graph.data, dtype=np.float64)
    order = np.ascontiguousarray(t.order, dtype=np.int64)
    n = len(order)
    key = network_key(csr_matrix((weights, indices, indptr), shape=(n, n)))
    meta = {"format": FORMAT, "nodes": n, "arcs": int(len(indices)), "key": key,
            "order_s": float(hierarchy.stats.order_s), "written": time.strftime("%Y-%m-%dT%H:%M:%S")}
    arrays = {"order": order, "indptr": indptr, "indices": indices, "weights": weights}
    meta["digest"] = _digest(arrays, meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load(path, graph: csr_matrix | None = None) -> Hierarchy:
    """The hierarchy stored in ``path``, checked (see the module docstring) and rebuilt from its order.

    With ``graph``, the entry must be for its arcs and the hierarchy is
    customised for its weights; without, for the weights stored. Raises
    :class:`CacheError` for anything not right.
    """
    path = Path(path)
    expected = None if graph is None else {"order": graph.shape[0], "indptr": graph.shape[0] + 1,
                                            "indices": graph.nnz, "weights": graph.nnz}
    _check_headers(path, expected)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {name: z[name] for name in _ARRAYS}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise CacheError(f"unreadable ({exc})") from None
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CacheError(f"unreadable metadata ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CacheError(f"written by cache format {meta.get('format') if isinstance(meta, dict) else '?'}, "
                         f"this version reads format {FORMAT}")
    digest = meta.pop("digest", None)
    if digest != _digest(arrays, meta):
        raise CacheError("content digest does not match (the file was changed or damaged)")
    order, indptr, indices, weights = (arrays[k] for k in ("order", "indptr", "indices", "weights"))
    n = len(order)
    if len(indptr) != n + 1 or len(indices) != len(weights) or meta.get("nodes") != n:
        raise CacheError("array sizes do not fit together")
    stored = _checked_csr(weights, indices, indptr, n)
    if meta.get("key") != network_key(stored):
        raise CacheError("network key does not match the stored network")
    if graph is not None:
        graph = csr_matrix(graph)
        if graph.shape != (n, n) or not (np.array_equal(graph.indptr, indptr) and np.array_equal(graph.indices, indices)):
            raise CacheError("built for another network (other nodes or arcs)")
    if order.dtype.kind not in _INDEX_KINDS or not _is_permutation(order, n):
        raise CacheError("the node order is not a permutation of the network's nodes")
    return Hierarchy.build(graph if graph is not None else stored, order=order.astype(np.int64))


def cached_hierarchy(graph: csr_matrix) -> Hierarchy:
    """Hierarchy of ``graph``: from its cache entry when that passes every check, else built (and cached).

    A bad entry is discarded with a warning naming the reason — never used.
    Entries of other cache formats in the folder are removed when a new one is written.
    """
    path = cache_path(graph)
    if path.exists():
        try:
            return load(path, graph)
        except CacheError as exc:
            log.warning("hierarchy cache %s: %s; discarded, rebuilding", path, exc)
            _remove(path)
    hierarchy = Hierarchy.build(graph)
    try:
        save(hierarchy, path, graph)
        _remove_other_formats(path.parent)
    except OSError as exc:
        log.warning("could not cache the hierarchy in %s: %s", path, exc)
    return hierarchy


# ---------------------------------------------------------------------------------------------- checks

def _check_headers(path: Path, expected: dict | None) -> None:
    """Every member an uncompressed .npy array of the expected dtype and size, before any is read."""
    kinds = {"order": "iu", "indptr": "iu", "indices": "iu", "weights": "f", "meta": "u"}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {i.filename.removesuffix(".npy"): i for i in zf.infolist()}
            if set(infos) != set(_ARRAYS):
                raise CacheError(f"holds {sorted(infos)}, expected {sorted(_ARRAYS)}")
            for name, info in infos.items():
                if info.compress_type != zipfile.ZIP_STORED:
                    raise CacheError(f"member {name} is compressed; entries are written uncompressed")
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                    shape, fortran, dtype = read_header(f)
                    offset = f.tell()
                if len(shape) != 1 or fortran or dtype.kind not in kinds[name] or dtype.hasobject:
                    raise CacheError(f"member {name} has an unexpected layout ({dtype}, shape {shape})")
                if offset + shape[0] * dtype.itemsize != info.file_size:
                    raise CacheError(f"member {name} is truncated or padded")
                if expected is not None and name in expected and shape[0] != expected[name]:
                    raise CacheError(f"member {name} has {shape[0]} items, the network needs {expected[name]}")
    except CacheError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise CacheError(f"not a readable cache file ({exc})") from None


def _checked_csr(weights, indices, indptr, n: int) -> csr_matrix:
    if indptr.dtype.kind not in _INDEX_KINDS or indices.dtype.kind not in _INDEX_KINDS:
        raise CacheError("index arrays are not integers")
    if indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0):
        raise CacheError("row pointers are not monotone from 0 to the arc count")
    if len(indices) and (indices.min() < 0 or indices.max() >= n):
        raise CacheError("arc heads out of range")
    if len(weights) and (not np.all(np.isfinite(weights)) or weights.min() < 0):
        raise CacheError("weights are not finite and ≥ 0")
    return csr_matrix((weights.astype(np.float64), indices.astype(np.int64), indptr.astype(np.int64)), shape=(n, n))


def _is_permutation(order: np.ndarray, n: int) -> bool:
    if len(order) != n or (n and (order.min() < 0 or order.max() >= n)):
        return False
    seen = np.zeros(n, bool)
    seen[order] = True
    return bool(seen.all())


def _digest(arrays: dict, meta: dict) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({k: v for k, v in meta.items() if k != "digest"}, sort_keys=True).encode("utf-8"))
    for name in ("order", "indptr", "indices", "weights"):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode() + str(a.dtype).encode() + np.int64(a.size).tobytes())
        h.update(a.tobytes())
    return h.hexdigest()


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not remove the bad cache entry %s: %s", path, exc)


def _remove_other_formats(folder: Path) -> None:
    """Entries of other cache formats (e.g. ``cch-v1-*``, which stored customised times) and stale partial writes."""
    for entry in folder.glob("cch-v*-*.npz"):
        if not entry.name.startswith(f"cch-v{FORMAT}-"):
            _remove(entry)
    for part in folder.glob(".cch-*.part"):
        if time.time() - part.stat().st_mtime > 3600:
            _remove(part)
