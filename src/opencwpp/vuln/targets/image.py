"""Container image tarballs (`docker save`, OCI image layout) applied layer by layer.

A first pass over each layer builds the merged file system view (whiteouts `.wh.<name>`
delete, `.wh..wh..opq` empties a directory); a second pass writes only the files that an
extractor reads, into a private temporary directory. Names escaping the root are refused,
symlinks are never created, sizes and entry counts are bounded.
"""

from __future__ import annotations

import json
import posixpath
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.walk import wanted
from opencwpp.vuln.targets.safety import Budget, safe_relpath

_WH = ".wh."
_OPAQUE = ".wh..wh..opq"


@dataclass
class Layers:
    """The image's layer blobs in order, and its name."""

    names: list[str]
    ids: list[str]
    refs: list[str] = field(default_factory=list)


def _json(outer: tarfile.TarFile, name: str, source: str) -> Any:
    try:
        member = outer.getmember(name)
    except KeyError:
        raise BadInputError(source, f"image tarball lacks {name}") from None
    handle = outer.extractfile(member)
    if handle is None:
        raise BadInputError(source, f"{name} is not a file")
    try:
        return json.loads(handle.read(16 * 1024 * 1024))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadInputError(source, f"{name} is not valid JSON ({err})") from None


def layers_of(outer: tarfile.TarFile, source: str) -> Layers:
    """The layer members of a docker-save or OCI-layout tarball, in application order."""
    names = set(outer.getnames())
    if "manifest.json" in names:
        manifest = _json(outer, "manifest.json", source)
        if not isinstance(manifest, list) or not manifest or "Layers" not in manifest[0]:
            raise BadInputError(source, "manifest.json has no Layers")
        layers = [str(x) for x in manifest[0]["Layers"]]
        return Layers(layers, layers, [str(t) for t in manifest[0].get("RepoTags") or []])
    if "index.json" in names:
        index = _json(outer, "index.json", source)
        digest = index["manifests"][0]["digest"]
        manifest = _json(outer, "blobs/" + digest.replace(":", "/", 1), source)
        digests = [str(layer["digest"]) for layer in manifest.get("layers", [])]
        blobs = ["blobs/" + d.replace(":", "/", 1) for d in digests]
        ref = (index["manifests"][0].get("annotations") or {}).get(
            "org.opencontainers.image.ref.name", ""
        )
        return Layers(blobs, digests, [ref] if ref else [])
    raise BadInputError(source, "neither a docker-save (manifest.json) nor an OCI layout")


def _layer_stream(outer: tarfile.TarFile, name: str, source: str) -> tarfile.TarFile:
    try:
        handle: IO[bytes] | None = outer.extractfile(name)
    except KeyError:
        raise BadInputError(source, f"layer {name} is missing") from None
    if handle is None:
        raise BadInputError(source, f"layer {name} is not a file")
    try:
        return tarfile.open(fileobj=handle, mode="r|*")
    except tarfile.TarError as err:
        raise BadInputError(source, f"layer {name} is not a (gzip) tar: {err}") from None


def _merge(
    view: dict[str, tuple[int, bool]],
    layer: tarfile.TarFile,
    idx: int,
    budget: Budget,
    problems: list[str],
) -> None:
    for member in layer:
        budget.take(member.size)
        rel = safe_relpath(member.name)
        if rel is None:
            problems.append(f"{budget.source}: path traversal refused: {member.name!r}")
            continue
        base, parent = posixpath.basename(rel), posixpath.dirname(rel)
        if base == _OPAQUE:
            prefix = f"{parent}/" if parent else ""
            for path in [p for p in view if p.startswith(prefix)]:
                del view[path]
            continue
        if base.startswith(_WH):
            gone = posixpath.join(parent, base[len(_WH) :])
            for path in [p for p in view if p == gone or p.startswith(gone + "/")]:
                del view[path]
            continue
        if member.isfile() or member.islnk():
            view[rel] = (idx, bool(member.mode & 0o111))
        elif member.isdir() or member.issym():
            view.pop(rel, None)


# What a damaged layer stream raises while it is read (tarfile, gzip, the file underneath).
LAYER_ERRORS = (tarfile.TarError, EOFError, OSError, KeyError, IndexError, TypeError)


def apply_layers(
    open_layer: Callable[[int], tarfile.TarFile],
    ids: list[str],
    source: str,
    dest: Path,
    problems: list[str],
) -> dict[str, str]:
    """Applies layers 0..n-1 in order (whiteouts honoured); writes the wanted files to `dest`.

    `open_layer(i)` opens layer i as a streaming tar; it is called twice per layer (merge,
    then write). Returns path -> id of the layer that last wrote it. Raises LAYER_ERRORS.
    """
    budget = Budget(source)
    view: dict[str, tuple[int, bool]] = {}
    for idx in range(len(ids)):
        with open_layer(idx) as layer:
            _merge(view, layer, idx, budget, problems)
    keep = {p: v for p, v in view.items() if wanted(p, v[1])}
    for idx in range(len(ids)):
        if any(v[0] == idx for v in keep.values()):
            with open_layer(idx) as layer:
                _write(layer, idx, keep, dest)
    return {p: ids[v[0]] for p, v in keep.items()}


def materialize(path: Path, dest: Path, problems: list[str]) -> tuple[dict[str, str], list[str]]:
    """Writes the wanted files of the image into `dest`; returns (path -> layer id, refs)."""
    source = str(path)
    try:
        outer = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed by the `with` below
    except (tarfile.TarError, OSError, EOFError) as err:
        raise BadInputError(source, f"not a readable tarball ({err})") from None
    with outer:
        try:
            layers = layers_of(outer, source)
            written = apply_layers(
                lambda i: _layer_stream(outer, layers.names[i], source),
                layers.ids,
                source,
                dest,
                problems,
            )
        except LAYER_ERRORS as err:
            raise BadInputError(source, f"corrupt or truncated image ({err})") from None
    return written, layers.refs


def _write(layer: tarfile.TarFile, idx: int, keep: dict[str, tuple[int, bool]], dest: Path) -> None:
    links: list[tuple[str, str]] = []
    for member in layer:
        rel = safe_relpath(member.name)
        if rel is None or keep.get(rel, (-1, False))[0] != idx:
            continue
        if member.islnk():
            target = safe_relpath(member.linkname)
            if target is not None:
                links.append((rel, target))
            continue
        handle = layer.extractfile(member)
        if handle is None:
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(handle.read())
        out.chmod(0o700 if keep[rel][1] else 0o600)
    for rel, target in links:  # hard links: a copy of the (already written) target
        src = dest / target
        if src.is_file() and not src.is_symlink():
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(src.read_bytes())
            out.chmod(0o700 if keep[rel][1] else 0o600)
