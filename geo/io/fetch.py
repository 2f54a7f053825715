"""Download the public sources into a folder laid out like ``--data``.

A catalogue (a YAML file; the region's is ``layers/sources.yaml``, read by
:mod:`layers.sources`) names every file of a ``--data`` folder (the layout of
``../shared/data``) and says where it comes from:

* ``download`` — fetched as it is, from pinned URLs (checked against the size
  and SHA-256 of the reference copy when known);
* ``derived`` — built from downloaded files by a small step (the WorldPop
  national raster clipped to the region window, the GADM JSON turned into the
  boundary GeoPackage, the census workbook into two CSV tables, layers clipped
  to the analysis box …);
* ``manual`` — cannot be downloaded (the TerraGear road rebuild, the hand-made
  facts table …); :func:`fetch` reports which file to put where and why.

``fetch(dest)`` then makes ``--data dest`` work: files already present with the
right size are skipped, downloads are written atomically (never a half file),
each failed download is retried once, and when nothing can be reached the error
says plainly which files to put where.

``base_urls`` replaces the upstream hosts by mirrors laid out like the
``--data`` folder (an intranet copy, or a test server): the file
``raw/x/y.json`` is fetched from ``<base>/raw/x/y.json``. A mirror may hold
derived and manual files too; a derived file it lacks is built locally.

Nothing here is region-specific: the catalogue and any derivation step of
its own (``steps``: name → function) are given by the caller.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import math
import os
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo import settings
from geo.config import read_yaml
from geo.errors import InputError
from geo.io.output import atomic_path, write_geopackage

log = logging.getLogger(__name__)

#: Seconds to wait before the single retry of a failed download.
RETRY_PAUSE_S = 2.0

#: Columns of the report returned by :func:`fetch`.
REPORT_COLUMNS = ["file", "kind", "status", "url", "bytes", "sha256", "note"]


@dataclass(frozen=True)
class Source:
    """One file of the ``--data`` folder and how to obtain it."""

    file: str                      # path inside the --data folder
    kind: str                      # "download" | "derived" | "manual"
    what: str = ""
    licence: str = ""
    urls: tuple = ()               # download: tried in order
    member: str | None = None      # download from a .zip URL: the file inside
    bytes: int | None = None       # size of the reference copy
    sha256: str | None = None      # checksum of the reference copy
    optional: bool = False         # fetched only when asked for by name
    step: str | None = None        # derived: name of its derivation step
    inputs: tuple = ()             # derived: files it is made from
    params: dict = field(default_factory=dict, hash=False, compare=False)
    why: str = ""                  # manual: why it cannot be downloaded
    how: str = ""                  # manual: what to do instead
    note: str = ""


class FetchError(InputError):
    """Some files could not be fetched; ``.report`` holds the per-file report."""

    def __init__(self, path, problem, report: pd.DataFrame):
        super().__init__(path, problem)
        self.report = report


# --------------------------------------------------------------------------- catalogue

def load_catalogue(path: str | os.PathLike, steps: dict | None = None) -> list[Source]:
    """The catalogue at ``path`` as a list of :class:`Source`, checked for consistency (``steps``: the derivation
    steps it may name, default :data:`GENERIC_STEPS`)."""
    path = Path(path)
    steps = GENERIC_STEPS if steps is None else steps
    doc = read_yaml(path, "source catalogue")
    sources = []
    for i, item in enumerate(doc.get("files") or []):
        item = dict(item)
        for key in ("urls", "inputs"):
            item[key] = tuple(item.get(key) or ())
        item["params"] = dict(item.get("params") or {})
        try:
            sources.append(Source(**item))
        except TypeError as exc:
            raise InputError(path, f"entry {i + 1} ({item.get('file')}): {exc}") from None
    names = [s.file for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(path, f"files listed twice: {', '.join(dupes)}")
    known = set(names)
    for s in sources:
        if s.kind not in ("download", "derived", "manual"):
            raise InputError(path, f"{s.file}: unknown kind '{s.kind}'")
        if s.kind == "download" and not s.urls:
            raise InputError(path, f"{s.file}: a download needs urls")
        if s.kind == "derived":
            if s.step not in steps:
                raise InputError(path, f"{s.file}: unknown step '{s.step}'")
            missing = [f for f in s.inputs if f not in known]
            if missing:
                raise InputError(path, f"{s.file}: inputs not in the catalogue: {', '.join(missing)}")
    return sources


def data_layout(catalogue: list[Source]) -> pd.DataFrame:
    """Table of the ``--data`` folder: file, kind, what, where from (URL / inputs / how)."""
    rows = []
    for s in catalogue:
        origin = (s.urls[0] if s.kind == "download" else
                  "made from " + ", ".join(s.inputs) if s.kind == "derived" else s.how)
        rows.append({"file": s.file, "kind": s.kind, "optional": s.optional, "what": s.what,
                     "from": origin, "licence": s.licence})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- fetch

def fetch(dest_dir, catalogue_path, steps: dict | None = None, *, base_urls=None, only=None, progress: bool = True,
          bundle_dir=None) -> pd.DataFrame:
    """Fetch the ``--data`` files of the catalogue at ``catalogue_path`` into ``dest_dir``; return a per-file report.

    Parameters
    ----------
    dest_dir : folder to fill (created if needed); use it as ``--data`` afterwards.
    catalogue_path : the catalogue YAML (see :func:`load_catalogue`).
    steps : derivation steps by name (default :data:`GENERIC_STEPS`).
    base_urls : None to use the upstream URLs of the catalogue, or one or more
        mirror base URLs laid out like the ``--data`` folder, used *instead* of the
        upstream hosts.
    only : file names or shell patterns (``"worldpop_*"``, ``"osm/*.pbf"``) to
        fetch; the files they are derived from come along when needed. Default:
        every file the tools read (not the raw inputs, which are fetched only to
        derive a missing file, e.g. always from upstream). Optional files
        (the ~300 MB ``osm/vietnam-latest.osm.pbf``) are fetched only when named here.
    progress : show download progress bars (also off when ``geo.settings.progress``
        is False).
    bundle_dir : an open-data bundle (the repository's ``data/``); a ``manual``
        file it carries is copied from it (status ``bundled``: the compact copy,
        with only the columns the tool uses) instead of being reported missing.

    Returns
    -------
    DataFrame with columns file, kind, status (``downloaded``, ``present``,
    ``derived``, ``bundled``, ``manual``), url, bytes, sha256, note — one row per file.

    Raises
    ------
    FetchError (an InputError) when a file could not be downloaded or derived;
    its one-line message lists which files to put where, and ``.report`` holds
    the table. Nothing half-written is left behind.
    """
    dest = Path(dest_dir)
    steps = GENERIC_STEPS if steps is None else steps
    catalogue = load_catalogue(catalogue_path, steps)
    by_file = {s.file: s for s in catalogue}
    chosen = _select(catalogue, only)
    mirrors = [base_urls] if isinstance(base_urls, str) else list(base_urls or [])
    show = bool(progress and settings.progress)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(dest, f"cannot create the data folder ({exc.strerror})") from None

    rows: dict[str, dict] = {}
    dead_hosts: dict[str, str] = {}

    def obtain(s: Source, stack: tuple = ()) -> bool:
        """Make ``s.file`` available in ``dest``; True when it is there afterwards."""
        if s.file in rows:
            return rows[s.file]["status"] in ("present", "downloaded", "derived", "bundled")
        if s.file in stack:
            raise InputError(catalogue_path, f"circular inputs around {s.file}")
        target = dest / s.file
        row = {"file": s.file, "kind": s.kind, "status": None, "url": "", "bytes": None, "sha256": None, "note": ""}
        if _is_present(s, target):
            row.update(status="present", bytes=target.stat().st_size, sha256=_sha256(target))
            if s.sha256 and row["sha256"] != s.sha256:
                row["note"] = "differs from the reference copy"
            rows[s.file] = row
            return True
        # a mirror may hold any file (derived and manual ones too); upstream only downloads
        urls = [_mirror_url(m, s.file) for m in mirrors] if mirrors else (list(s.urls) if s.kind == "download" else [])
        if urls:
            ok, url, note = _download_any(s, urls, target, dead_hosts, show)
            if ok:
                row.update(status="downloaded", url=url, bytes=target.stat().st_size, sha256=_sha256(target), note=note)
                if s.sha256 and row["sha256"] != s.sha256:
                    row["note"] = "; ".join(filter(None, [note, "differs from the reference copy"]))
                    log.warning("%s: checksum differs from the reference copy", s.file)
                rows[s.file] = row
                return True
            if s.kind == "download":
                row.update(status="failed", url=urls[0], note=note)
                rows[s.file] = row
                return False
            row["note"] = "not on the mirror"
        if s.kind == "manual" and bundle_dir is not None and (Path(bundle_dir) / s.file).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(bundle_dir) / s.file, target)
            row.update(status="bundled", url=str(Path(bundle_dir) / s.file), bytes=target.stat().st_size,
                       sha256=_sha256(target), note="compact copy from the open-data bundle")
            rows[s.file] = row
            return True
        if s.kind == "manual":
            row.update(status="manual", note=f"{s.why}. {s.how}".strip())
            log.warning("%s: not downloadable — %s", s.file, s.how)
            rows[s.file] = row
            return False
        # derived: get the inputs, then run the step
        have = [obtain(by_file[f], stack + (s.file,)) for f in s.inputs]
        rows[s.file] = row
        if not all(have):
            row.update(status="failed", note="needs " + ", ".join(f for f, ok in zip(s.inputs, have) if not ok))
            return False
        try:
            steps[s.step]([dest / f for f in s.inputs], target, s.params)
        except InputError as exc:
            row.update(status="failed", note=str(exc))
            return False
        row.update(status="derived", bytes=target.stat().st_size, sha256=_sha256(target),
                   note="; ".join(filter(None, [row["note"], "made from " + ", ".join(s.inputs)])))
        log.info("%s: derived from %s", s.file, ", ".join(s.inputs))
        return True

    for s in chosen:
        obtain(s)

    report = pd.DataFrame([rows[s.file] for s in catalogue if s.file in rows], columns=REPORT_COLUMNS)
    report.attrs["summary"] = {k: int(v) for k, v in report["status"].value_counts().items()}
    failed = report[report.status == "failed"]
    if len(failed):
        manual = list(report.loc[report.status == "manual", "file"])
        raise FetchError(dest, _failure_message(dest, failed, manual, by_file, dead_hosts, mirrors), report)
    return report


def _select(catalogue: list[Source], only) -> list[Source]:
    if only is None:  # the files the tools read; what they are made from comes when needed
        used_as_input = {f for s in catalogue for f in s.inputs}
        return [s for s in catalogue if not s.optional and s.file not in used_as_input]
    patterns = [only] if isinstance(only, str) else list(only)
    hit = [s for s in catalogue if any(fnmatch.fnmatch(s.file, p) or fnmatch.fnmatch(Path(s.file).name, p) for p in patterns)]
    if not hit:
        raise InputError(None, f"no file of the data catalogue matches {', '.join(patterns)}")
    return hit


def _is_present(s: Source, target: Path) -> bool:
    if not target.is_file() or target.stat().st_size == 0:
        return False
    if s.bytes is not None:
        return target.stat().st_size == s.bytes
    return True


def _mirror_url(base: str, file: str) -> str:
    return base.rstrip("/") + "/" + urllib.parse.quote(file)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- downloading

class _Unreachable(Exception):
    """The host cannot be reached at all (no network, refused, name unknown)."""


class _Permanent(Exception):
    """The server answered, but the file is not there (HTTP 4xx)."""


def _download_any(s: Source, urls: list[str], target: Path, dead_hosts: dict, show: bool):
    """Try each URL (each once more after a failure); return (ok, url, note)."""
    notes = []
    for url in urls:
        host = urllib.parse.urlsplit(url).netloc
        if host in dead_hosts:
            notes.append(f"{host}: {dead_hosts[host]}")
            continue
        for attempt in (1, 2):
            try:
                _download(url, target, s, show)
                return True, url, ("after a retry" if attempt == 2 else "")
            except _Permanent as exc:
                notes.append(f"{url}: {exc}")
                break
            except _Unreachable as exc:
                if attempt == 2:
                    dead_hosts[host] = str(exc)
                    notes.append(f"{host}: {exc}")
                    break
                log.info("%s: %s; retrying in %.0f s", url, exc, RETRY_PAUSE_S)
            except Exception as exc:  # incomplete transfer, bad zip, server error …
                if attempt == 2:
                    notes.append(f"{url}: {exc}")
                    break
                log.info("%s: %s; retrying in %.0f s", url, exc, RETRY_PAUSE_S)
            time.sleep(RETRY_PAUSE_S)
    return False, None, "; ".join(notes)


def _open(url: str):
    req = urllib.request.Request(url, headers={"User-Agent": settings.user_agent})
    try:
        return urllib.request.urlopen(req, timeout=settings.http_timeout_s)
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500:
            raise _Permanent(f"HTTP {exc.code} {exc.reason}") from None
        raise IOError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, socket.gaierror):
            raise _Unreachable("host name not found") from None
        if isinstance(reason, ConnectionRefusedError):
            raise _Unreachable("connection refused") from None
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise _Unreachable(f"no answer within {settings.http_timeout_s} s") from None
        if isinstance(reason, OSError) and reason.errno in (101, 113):  # network/host unreachable
            raise _Unreachable(reason.strerror or "network unreachable") from None
        raise IOError(str(reason)) from None
    except (TimeoutError, socket.timeout):
        raise _Unreachable(f"no answer within {settings.http_timeout_s} s") from None
    except ConnectionRefusedError:
        raise _Unreachable("connection refused") from None


def _download(url: str, target: Path, s: Source, show: bool) -> None:
    """One attempt: stream ``url`` to ``target`` atomically (unpacking a .zip member)."""
    from tqdm import tqdm

    # a .zip URL is unpacked (``member``), unless the catalogue keeps the zip itself (its file ends in .zip)
    is_zip = urllib.parse.urlsplit(url).path.lower().endswith(".zip") and not s.file.lower().endswith(".zip")
    with _open(url) as resp:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        if is_zip:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".zip", dir=target.parent)
            os.close(fd)
            raw_path = Path(name)
            context = _removing(raw_path)
        else:
            context = atomic_path(target)
        with context as tmp:
            got = 0
            with open(tmp, "wb") as fh, tqdm(total=total, unit="B", unit_scale=True, desc=Path(s.file).name,
                                             disable=not show, leave=False) as bar:
                while True:
                    chunk = resp.read(1 << 16)
                    if not chunk:
                        break
                    fh.write(chunk)
                    got += len(chunk)
                    bar.update(len(chunk))
            if total is not None and got != total:
                raise IOError(f"incomplete download ({got:,} of {total:,} bytes)")
            if got == 0:
                raise IOError("empty answer")
            with open(tmp, "rb") as fh:
                if fh.read(40).startswith(b"version https://git-lfs"):
                    raise _Permanent("the server sent a Git LFS pointer, not the file")
            if is_zip:
                _unzip_member(tmp, s.member or Path(s.file).name, target)


class _removing:
    """Context manager yielding a temporary path that is always deleted."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)
        return False


def _unzip_member(zip_path: Path, member: str, target: Path) -> None:
    try:
        with zipfile.ZipFile(zip_path) as zf, atomic_path(target) as tmp:
            names = zf.namelist()
            name = member if member in names else next((n for n in names if n.endswith("/" + member)), None)
            if name is None:
                raise _Permanent(f"'{member}' is not in the zip file")
            with zf.open(name) as src, open(tmp, "wb") as out:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    out.write(chunk)
    except zipfile.BadZipFile:
        raise IOError("not a valid zip file") from None


def _failure_message(dest: Path, failed: pd.DataFrame, manual: list, by_file: dict, dead_hosts: dict, mirrors: list) -> str:
    downloads = failed[failed.kind == "download"]
    derived = failed[failed.kind != "download"]
    if dead_hosts and len(downloads) and all(urllib.parse.urlsplit(u).netloc in dead_hosts for u in downloads.url):
        cause = "no network: " + ", ".join(f"{h} ({r})" for h, r in sorted(dead_hosts.items()))
    else:
        cause = "; ".join(sorted({n.split(": ", 1)[-1] for n in downloads.note if n})[:3]) or "see the report"
    counts = " and ".join(filter(None, [f"download {len(downloads)} file(s)" if len(downloads) else "",
                                        f"build {len(derived)} file(s)" if len(derived) else ""]))
    parts = [f"could not {counts} ({cause})."]
    if len(downloads):
        todo = "; ".join(f"{f} (from {by_file[f].urls[0]})" for f in downloads.file)
        parts.append(f"Put these into {dest} by hand, same sub-folders: {todo}.")
    if len(derived):
        parts.append("Then run fetch again to build: " + ", ".join(derived.file) + ".")
    if manual:
        parts.append("Not downloadable at all, copy from a colleague's data folder: " + ", ".join(manual) + ".")
    if mirrors:
        parts.append(f"Mirror(s) used: {', '.join(mirrors)}.")
    return " ".join(parts)


# --------------------------------------------------------------------------- derivation steps

def _bbox(params, key="bbox"):
    import shapely

    return shapely.box(*[float(v) for v in params[key]])


def _write_geojson(gdf, target: Path) -> None:
    with atomic_path(target) as tmp:
        gdf.to_file(tmp, driver="GeoJSON", engine="pyogrio")


def step_clip_raster(inputs: list[Path], target: Path, params: dict) -> None:
    """Cut ``params["bounds"]`` (lon/lat) out of a raster, pixel grid unchanged.

    Window edges go to the nearest pixel edge, a bound falling exactly on a pixel
    centre takes that pixel. ``drop_shared_south_row``: leave out an SRTM tile's
    last row, which repeats the first row of the tile to the south.
    """
    import rasterio
    from rasterio.windows import Window

    minx, miny, maxx, maxy = (float(v) for v in params["bounds"])
    eps = 1e-6
    try:
        with rasterio.open(inputs[0]) as src:
            t = src.transform
            col0 = max(0, math.floor((minx - t.c) / t.a + 0.5 - eps))
            row0 = max(0, math.floor((t.f - maxy) / -t.e + 0.5 - eps))
            col1 = min(src.width, math.ceil((maxx - t.c) / t.a - 0.5 + eps))
            row1 = min(src.height - (1 if params.get("drop_shared_south_row") else 0),
                       math.ceil((t.f - miny) / -t.e - 0.5 + eps))
            if col1 <= col0 or row1 <= row0:
                raise InputError(inputs[0], f"does not overlap the bounds {params['bounds']}")
            window = Window(col0, row0, col1 - col0, row1 - row0)
            data = src.read(1, window=window)
            profile = src.profile.copy()
            profile.update(driver="GTiff", width=window.width, height=window.height, compress="deflate",
                           transform=src.window_transform(window), tiled=False)
            for key in ("blockxsize", "blockysize"):
                profile.pop(key, None)
            tags = src.tags()
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(inputs[0], f"not a readable raster ({exc})") from None
    with atomic_path(target) as tmp:
        with rasterio.open(tmp, "w", **profile) as out:
            out.write(data, 1)
            out.update_tags(**{k: v for k, v in tags.items() if k == "AREA_OR_POINT"})


def step_select(inputs: list[Path], target: Path, params: dict) -> None:
    """Keep the features of ``inputs[0]`` in ``params["bbox"]``.

    ``how``: ``clip`` (cut the geometries at the box), ``intersects`` or
    ``within`` (keep whole features). ``in_province`` (``intersects`` /
    ``within``) adds a flag against the province outline given as last input;
    ``length_m`` (a metric CRS) adds the line length in metres (0.1 m).
    """
    import geopandas as gpd

    try:
        gdf = gpd.read_file(inputs[0], engine="pyogrio")
    except Exception as exc:
        raise InputError(inputs[0], f"not a readable vector file ({exc})") from None
    box = _bbox(params)
    how = params.get("how", "intersects")
    if how == "clip":
        gdf = gpd.clip(gdf, box)
    elif how == "within":
        gdf = gdf[gdf.within(box)]
    else:
        gdf = gdf[gdf.intersects(box)]
    gdf = gdf.reset_index(drop=True)
    if len(gdf) == 0:
        raise InputError(inputs[0], f"no feature in the box {params['bbox']}")
    if params.get("in_province"):
        province = gpd.read_file(inputs[-1], engine="pyogrio").to_crs(gdf.crs).geometry.union_all()
        gdf["in_province"] = getattr(gdf.geometry, params["in_province"])(province)
    if params.get("length_m"):
        gdf["length_m"] = gdf.geometry.to_crs(params["length_m"]).length.round(1)
    _write_geojson(gdf, target)


def step_zip_layer(inputs: list[Path], target: Path, params: dict) -> None:
    """Features of one shapefile inside a zip (e.g. Geofabrik's ``*-free.shp.zip``) in a box, to a GeoPackage.

    ``layer``: the shapefile's name inside the zip without ``.shp``
    (``gis_osm_buildings_a_free_1``); ``bbox``: lon/lat window (features
    meeting it are kept whole); ``column`` + ``values``: keep only rows whose
    column is one of the values (e.g. ``fclass`` in ``[forest, nature_reserve]``);
    ``keep``: columns kept besides the geometry; ``label``: written to a
    ``source`` column (say "proxy" there when the layer stands in for another).
    Output in EPSG:4326, one layer named after the target file.
    """
    import geopandas as gpd

    zip_path = inputs[0]
    try:
        with zipfile.ZipFile(zip_path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(zip_path, f"not a readable zip file ({exc})") from None
    member = next((n for n in names if Path(n).name == f"{params['layer']}.shp"), None)
    if member is None:
        raise InputError(zip_path, f"'{params['layer']}.shp' is not in the zip file")
    where = None
    if params.get("column"):
        values = ", ".join("'" + str(v).replace("'", "''") + "'" for v in params["values"])
        where = f"{params['column']} IN ({values})"
    try:
        gdf = gpd.read_file(f"zip://{zip_path}!{member}", engine="pyogrio",
                            bbox=tuple(float(v) for v in params["bbox"]), where=where)
    except Exception as exc:
        raise InputError(zip_path, f"{member}: not a readable shapefile ({exc})") from None
    if gdf.crs is None:
        raise InputError(zip_path, f"{member}: no CRS (.prj missing)")
    gdf = gdf.to_crs("EPSG:4326")
    gdf = gdf[gdf.intersects(_bbox(params))]
    if len(gdf) == 0:
        raise InputError(zip_path, f"{member}: no feature in the box {params['bbox']}" + (f" with {where}" if where else ""))
    keep = [c for c in params.get("keep", []) if c in gdf.columns]
    gdf = gdf[keep + [gdf.geometry.name]].reset_index(drop=True)
    gdf.insert(len(keep), "source", params.get("label", Path(zip_path).name))
    write_geopackage({Path(target).stem: gdf}, target)


def step_raster_mask(inputs: list[Path], target: Path, params: dict) -> None:
    """Polygons of the cells of a raster that are in given classes or above a value, in a lon/lat window.

    ``bounds``: lon/lat window (the raster must be in EPSG:4326, as ESA
    WorldCover and the JRC flood maps are). ``values``: class codes kept
    (e.g. ``[40]``, WorldCover cropland) or ``min_value``: cells strictly
    above it kept (e.g. ``0`` m of flood depth). ``factor``: read every
    ``factor`` × ``factor`` block as one cell (class: most frequent; value:
    largest), so a 10 m map becomes 100 m polygons (default 1; a window not a
    multiple of ``factor`` is read as whole blocks of a slightly larger cell
    for classes, and cut to whole blocks for values). ``label``:
    written to a ``source`` column. Output: one polygon per connected patch
    with its ``value``, in EPSG:4326, one layer named after the target.
    """
    import geopandas as gpd
    import numpy as np
    import rasterio
    import shapely
    from rasterio.enums import Resampling
    from rasterio.features import shapes
    from rasterio.windows import from_bounds

    if ("values" in params) == ("min_value" in params):
        raise InputError(target, "raster_mask needs either values or min_value")
    minx, miny, maxx, maxy = (float(v) for v in params["bounds"])
    factor = int(params.get("factor", 1))
    try:
        with rasterio.open(inputs[0]) as src:
            if src.crs is None or src.crs.to_epsg() != 4326:
                raise InputError(inputs[0], f"expected a raster in EPSG:4326, not {src.crs}")
            b = src.bounds
            if minx >= b.right or maxx <= b.left or miny >= b.top or maxy <= b.bottom:
                raise InputError(inputs[0], f"does not overlap the bounds {params['bounds']}")
            window = from_bounds(max(minx, b.left), max(miny, b.bottom), min(maxx, b.right), min(maxy, b.top),
                                 src.transform).round_offsets().round_lengths()
            if window.width < 1 or window.height < 1:
                raise InputError(inputs[0], f"overlaps the bounds {params['bounds']} by less than a cell")
            shape = (max(1, window.height // factor), max(1, window.width // factor))
            if "values" in params or factor == 1:
                data = src.read(1, window=window, out_shape=shape, resampling=Resampling.mode, masked=True)
            else:  # largest value of each block (GDAL reads offer no "max"); a block is nodata when all its cells are
                full = src.read(1, window=window, masked=True)[: shape[0] * factor, : shape[1] * factor]
                blocks = full.reshape(shape[0], factor, shape[1], factor)
                data = blocks.max(axis=(1, 3))
            transform = src.window_transform(window) * rasterio.Affine.scale(window.width / shape[1], window.height / shape[0])
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(inputs[0], f"not a readable raster ({exc})") from None
    values = np.ma.filled(data, np.nan if data.dtype.kind == "f" else 0)
    if "values" in params:
        keep = np.isin(values, [float(v) for v in params["values"]])
    else:
        with np.errstate(invalid="ignore"):
            keep = np.nan_to_num(values.astype("float64"), nan=-np.inf) > float(params["min_value"])
    keep &= ~np.ma.getmaskarray(data)
    if not keep.any():
        raise InputError(inputs[0], f"no cell selected in the bounds {params['bounds']}")
    codes = np.where(keep, values, 0).astype("float32") if "values" in params else keep.astype("uint8")
    geoms, vals = [], []
    for geom, value in shapes(codes, mask=keep, transform=transform):
        geoms.append(shapely.geometry.shape(geom))
        vals.append(value)
    gdf = gpd.GeoDataFrame({"value": vals, "source": params.get("label", Path(inputs[0]).name)},
                           geometry=geoms, crs="EPSG:4326")
    write_geopackage({Path(target).stem: gdf}, target)


def step_gpkg_layer(inputs: list[Path], target: Path, params: dict) -> None:
    """Copy one layer of a GeoPackage to GeoJSON."""
    import geopandas as gpd

    _write_geojson(gpd.read_file(inputs[0], layer=params["layer"], engine="pyogrio"), target)


#: The generic derivation steps by name (the ``step`` of a catalogue entry); a region's catalogue adds its own
#: (e.g. :data:`layers.sources.STEPS`).
GENERIC_STEPS = {
    "clip_raster": step_clip_raster,
    "select": step_select,
    "gpkg_layer": step_gpkg_layer,
    "zip_layer": step_zip_layer,
    "raster_mask": step_raster_mask,
}
