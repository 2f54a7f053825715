"""geo.io.output: atomic files, outputs moved into OUT as a set, clean-up after crashes, spreadsheet-safe CSV."""

import errno
import json
import os
import signal

import pandas as pd
import pytest

from geo.io import output
from geo.errors import OutputError
from geo.io.output import OutputSet, check_output_folder, remove_stale, spreadsheet_safe_frame, write_csv, write_json


def _old_pair(out):
    out.mkdir(parents=True, exist_ok=True)
    (out / "sites.csv").write_text("old csv")
    (out / "sites_summary.json").write_text("old json")


def test_outputs_move_in_together(tmp_path):
    out = tmp_path / "out"
    _old_pair(out)
    with OutputSet(out) as staging:
        assert (staging / "sites.csv").read_text() == "old csv"          # OUT's entries are readable from the staging folder
        write_csv(pd.DataFrame({"a": [1]}), staging / "sites.csv")
        write_json({"run": "new"}, staging / "sites_summary.json")
        assert (out / "sites.csv").read_text() == "old csv"              # nothing in OUT before the end
    assert (out / "sites.csv").read_text().startswith("a")
    assert json.loads((out / "sites_summary.json").read_text()) == {"run": "new"}
    assert sorted(p.name for p in out.iterdir()) == ["sites.csv", "sites_summary.json"]


def test_a_failed_command_leaves_out_as_it_was(tmp_path):
    out = tmp_path / "out"
    _old_pair(out)
    with pytest.raises(RuntimeError):
        with OutputSet(out) as staging:
            write_csv(pd.DataFrame({"a": [1]}), staging / "sites.csv")
            raise RuntimeError("crash between two outputs")
    assert (out / "sites.csv").read_text() == "old csv" and (out / "sites_summary.json").read_text() == "old json"
    assert sorted(p.name for p in out.iterdir()) == ["sites.csv", "sites_summary.json"]


def test_a_folder_output_replaces_the_old_folder(tmp_path):
    out = tmp_path / "out"
    (out / "site").mkdir(parents=True)
    (out / "site" / "old.html").write_text("old")
    with OutputSet(out) as staging:
        (staging / "site").unlink()                                       # the link to OUT/site, as publish replaces it
        (staging / "site").mkdir()
        (staging / "site" / "index.html").write_text("new")
    assert [p.name for p in (out / "site").iterdir()] == ["index.html"]


def test_stale_staging_and_old_temporaries_are_removed(tmp_path):
    out = tmp_path / "out"
    _old_pair(out)
    dead = out / ".bgplan-run-999999-abcdefgh"          # a staging folder whose run died (nobody holds its lock)
    dead.mkdir()
    (dead / ".lock").write_text("999999")
    (dead / "sites.csv").write_text("half")
    (out / ".sites-k2j4x9ab.gpkg").write_text("tmp")     # an older version's temporaries
    (out / ".sites-k2j4x9ab.gpkg-journal").write_text("tmp")
    (out / ".site-a1b2c3d4").mkdir()
    (out / ".gitignore").write_text("keep me")           # not a temporary
    removed = remove_stale(out)
    assert len(removed) == 4
    assert sorted(p.name for p in out.iterdir()) == [".gitignore", "sites.csv", "sites_summary.json"]
    assert (out / "sites.csv").read_text() == "old csv"


def test_a_live_run_is_left_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    live = OutputSet(out)
    staging = live.open()
    (out / ".sites-k2j4x9ab.gpkg").write_text("may be the live run's")
    assert remove_stale(out) == []
    assert staging.is_dir() and (out / ".sites-k2j4x9ab.gpkg").exists()
    live.discard()
    assert not staging.exists()


def test_a_run_killed_while_moving_its_outputs_in_is_finished(tmp_path):
    out = tmp_path / "out"
    _old_pair(out)
    dead = out / ".bgplan-run-999999-abcdefgh"
    dead.mkdir()
    (dead / ".lock").write_text("999999")
    (dead / "sites_summary.json").write_text("new json")  # sites.csv was already moved in
    (out / "sites.csv").write_text("new csv")
    (dead / ".committing").write_text(json.dumps(["sites.csv", "sites_summary.json"]))
    remove_stale(out)
    assert (out / "sites.csv").read_text() == "new csv" and (out / "sites_summary.json").read_text() == "new json"
    assert not dead.exists()


def test_signals_are_held_while_outputs_move_in(tmp_path, monkeypatch):
    """A SIGTERM arriving during the renames is delivered after them: OUT gets the whole set."""
    out = tmp_path / "out"
    _old_pair(out)
    received = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(len(list(out.glob("*.new")))))
    real_replace = os.replace

    def replace(src, dst):
        real_replace(src, dst)
        if str(dst).endswith("a.new"):
            os.kill(os.getpid(), signal.SIGTERM)

    try:
        with OutputSet(out) as staging:
            for name in ("a.new", "b.new", "c.new"):
                (staging / name).write_text(name)
            monkeypatch.setattr(output.os, "replace", replace)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert received == [3]


def test_out_checked_before_any_work(tmp_path, monkeypatch):
    taken = tmp_path / "taken"
    taken.write_text("a file")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_folder(taken)
    locked = tmp_path / "locked"
    locked.mkdir()

    def refuse(*args, **kwargs):                       # root ignores permission bits: refuse as a read-only disk would
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(output.tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError, match="not writable .Read-only file system"):
        check_output_folder(locked)


def test_a_full_disk_is_one_line_and_leaves_no_temporary(tmp_path, monkeypatch):
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(OutputError) as info:
        write_csv(pd.DataFrame({"a": [1]}), tmp_path / "access.csv")
    assert "disk is full" in str(info.value) and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_a_data_error_is_not_taken_for_a_full_disk(tmp_path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise ValueError("a column of unknown type")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(ValueError, match="unknown type"):
        write_csv(pd.DataFrame({"a": [1]}), tmp_path / "access.csv")


def test_formulas_neutralised_numbers_kept(tmp_path):
    frame = pd.DataFrame({"route": ['=HYPERLINK("http://evil","x")', "@cmd", "+1+1", "-1+2", "QL1A", None],
                          "minutes": [-40.5, 12.0, -3.0, 0.0, 1.0, None],
                          "note": ["-40", "-2.5e3", "x", "y", "z", "w"]})
    path = write_csv(frame, tmp_path / "validation.csv")
    back = pd.read_csv(path)
    assert back["route"].tolist()[:5] == ["'=HYPERLINK(\"http://evil\",\"x\")", "'@cmd", "'+1+1", "'-1+2", "QL1A"]
    assert back["minutes"].tolist()[:5] == [-40.5, 12.0, -3.0, 0.0, 1.0]     # numbers stay numbers
    assert back["note"].tolist()[:2] == ["-40", "-2.5e3"]                     # text that is only a number: no quote
    assert spreadsheet_safe_frame(frame) is not frame and frame["route"][0].startswith("=")   # the caller's frame untouched


def test_a_geopackage_the_disk_could_not_take_is_one_line(tmp_path, monkeypatch):
    """GDAL says 'Failed to commit transaction' (no errno) when the disk fills under SQLite."""
    import pyogrio
    import pyogrio.errors

    from geo.io.output import write_geopackage

    def full(*args, **kwargs):
        raise pyogrio.errors.DataSourceError("sqlite3_exec(COMMIT) failed: database or disk is full: Failed to commit transaction")

    monkeypatch.setattr(pyogrio, "write_dataframe", full)
    with pytest.raises(OutputError, match="access.gpkg: cannot be written: the disk is full"):
        write_geopackage({"table": pd.DataFrame({"a": [1]})}, tmp_path / "access.gpkg")
    assert list(tmp_path.iterdir()) == []


def test_a_move_that_fails_halfway_is_finished_by_the_next_command(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _old_pair(out)
    real_replace = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if str(dst).endswith("sites_summary.json") and len(calls) < 10:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_replace(src, dst)

    outputs = OutputSet(out)
    staging = outputs.open()
    write_csv(pd.DataFrame({"a": [1]}), staging / "sites.csv")
    write_json({"run": "new"}, staging / "sites_summary.json")
    monkeypatch.setattr(output.os, "replace", flaky)
    with pytest.raises(OutputError, match="the next command in that folder finishes the move"):
        outputs.commit()
    monkeypatch.setattr(output.os, "replace", real_replace)
    assert staging.is_dir()
    remove_stale(out)                                 # what the next command does first
    assert json.loads((out / "sites_summary.json").read_text()) == {"run": "new"}
    assert (out / "sites.csv").read_text().startswith("a") and not staging.exists()


def test_a_geopackage_is_written_whole_without_per_layer_syncs(tmp_path):
    """write_geopackage: every layer there and readable, no temporary left, GDAL's SQLite sync setting restored."""
    import geopandas as gpd
    import pyogrio
    from shapely.geometry import Point

    from geo.io.output import write_geopackage

    before = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    layers = {f"layer_{i}": gpd.GeoDataFrame({"v": [i]}, geometry=[Point(106.2, 21.3)], crs=4326) for i in range(5)}
    layers["table"] = pd.DataFrame({"a": [1, 2]})
    path = write_geopackage(layers, tmp_path / "x.gpkg")
    assert [name for name, _ in pyogrio.list_layers(path)] == list(layers)
    assert gpd.read_file(path, layer="layer_4")["v"].tolist() == [4]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.gpkg"]
    assert pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS") == before
