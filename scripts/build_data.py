#!/usr/bin/env python
"""Build the repository's open-data bundle (``data/``) from a full data folder.

    python scripts/build_data.py --source ../shared/data            # rebuild data/ in place
    python scripts/build_data.py --source ../shared/data --target /tmp/b   # build elsewhere (tests)
    python scripts/build_data.py --check                             # data/ against its MANIFEST.json

What is carried, from where, under which licence: ``data/catalogue.yaml``
(read by ``geo.io.bundle``); the human-readable version is ``data/SOURCES.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.io.bundle import build_bundle, bundle_size_bytes, check_bundle, load_catalogue
from geo.errors import InputError

REPO = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=REPO.parent / "shared" / "data", help="full data folder (default: ../shared/data)")
    parser.add_argument("--target", type=Path, default=REPO / "data", help="bundle folder (default: data/)")
    parser.add_argument("--check", action="store_true", help="only check the bundle against its MANIFEST.json")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check_bundle(args.target)
            for p in problems:
                print(p)
            print("bundle intact" if not problems else f"{len(problems)} problem(s)")
            return 0 if not problems else 1
        catalogue = load_catalogue(REPO / "data" / "catalogue.yaml")
        manifest = build_bundle(args.source, args.target, catalogue, progress=not args.quiet)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"built {len(manifest)} files into {args.target} ({bundle_size_bytes(args.target) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
