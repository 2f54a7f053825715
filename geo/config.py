"""Reading the project's YAML files (regions, speed models, profiles, catalogues) with one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from geo.errors import InputError


def read_yaml(path: str | os.PathLike, what: str = "YAML file") -> dict:
    """A YAML mapping from ``path``; any problem is an :class:`InputError` naming the file (and the line).

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bad.yaml"
    >>> _ = p.write_text("a: [1, 2\\n", encoding="utf-8")
    >>> try:
    ...     read_yaml(p, "profile")
    ... except InputError as e:
    ...     print(str(e).split(": ", 1)[1].split(" (")[0])
    not a readable YAML file at line 2
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, f"{what} not found") from None
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(path, f"not a readable YAML file{where} ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise InputError(path, f"a {what} must be a YAML mapping")
    return data
