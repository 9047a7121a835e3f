"""Content fingerprints: one hash per planned target over everything that can change what
BuildKit makes of it, so that equal fingerprints mean equal inputs to the build.

For the next step (reusing what a registry holds), the API is:

- `target_fingerprints(plan, *, reader=None, environ=None, default_platform=None)
  -> Mapping[str, str]`: planned target name -> `sha256:<64 hex>`, for every target of the
  plan. With no `reader` it reads the disk through the user's hash cache
  (`changes.hash_cache`) and saves it; `environ` defaults to `os.environ` (only
  `SOURCE_DATE_EPOCH` is read, which buildx passes to every build); `default_platform` is
  the platform a target without `platforms` is built for (default: this machine's, as
  `plan` assumes; a build on another builder should pass the builder's).
- `short_fingerprint(fingerprint) -> str`: the 12 hex digits `plan` shows.
- `FINGERPRINT_FORMAT`: hashed into every fingerprint; bumped whenever what is hashed, or
  how, changes, so that an old fingerprint never matches a new one by accident.

**What a fingerprint covers.** The target's Dockerfile (its bytes, `# syntax=` line
included, or `dockerfile-inline`); its context as BuildKit receives it; each named
context (a local folder as BuildKit receives it, with the `.dockerignore` at its own root
applied, as the Dockerfile frontend does for named contexts; an `oci-layout://` by its
`index.json`; an image, a URL by their text); the fingerprints of the targets it depends
on, a Merkle chain: `target:` contexts and Dockerfile references wired as them, by the
context's name, and `depends_on` edges, so a base's change reaches every dependent through
the hash; every other attribute that reaches the build, by value (args, target,
platforms, labels, annotations, attest, pull, no-cache, no-cache-filter, network,
entitlements, call, shm-size, ulimits, extra-hosts, and any attribute this module does not
know, which is hashed rather than missed); secrets and ssh by their ids alone, never their
values, sources or sockets; the platform a target without `platforms` is built for; and
`SOURCE_DATE_EPOCH` from the environment.

**What it leaves out**, because it changes where a result goes, not what it is: `tags`,
`output`, `cache-from`, `cache-to`, `description`; whether the target was asked for. And
anything tied to one machine or checkout: no absolute path (paths are relative to their
context's root), no mtime (BuildKit's cache key has none either), no uid or gid (buildx
sends every file as 0:0).

**A context as BuildKit receives it** (fsutil's walk, `.dockerignore` applied as
`dockerfiles.dockerignore` applies it): every entry it sends, in its walk order, each with
its path, type and mode bits (permissions, setuid, setgid, sticky: `chmod +x` changes the
fingerprint, as it changes the image), its extended attributes (fsutil sends all but
`com.apple.*`), and for a file its contents' sha256, for a symbolic link its target's text
(never followed), for a second path to an inode already sent a hard link to the first.
Directories count: an empty one is sent and made by `COPY .`; an excluded one only when
something in it is re-included. A umask that makes files group-writable gives another
fingerprint, as it gives BuildKit other modes.

**Known limits.** A base image by tag (`FROM alpine:3.20`, `docker-image://x:tag`, a git or
HTTP context) is hashed by its text: the image a tag names can change with no input
changing here. Only a digest (`@sha256:...`) pins it; `pull = true` is hashed, so a
caller can see it asked for the newest. What the builder brings is not covered either:
BuildKit's version, its built-in Dockerfile frontend when no `# syntax=` line names one,
buildx's default attestations.

Hashing reads a context's files only when the hash cache has no record of them as they
are: an unchanged re-run costs one `lstat` per file. Each context is walked once however
many targets share it.
"""

from __future__ import annotations

import importlib
import json
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from buildgraph.changes.hash_cache import FileHash, HashCache, Xattrs
from buildgraph.dockerfiles.dockerignore import IgnoreRules, included_files
from buildgraph.model.entries import entry_fields
from buildgraph.model.project import TARGET_LINK, Project, is_local_named_context, thaw

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan, PlannedTarget

FINGERPRINT_FORMAT = 1
PREFIX = "sha256:"
SHORT = 12  # hex digits `plan` shows

# Attributes that say where a result goes, how it is cached or what it is called: the
# same image whatever they hold.
NOT_INPUTS = frozenset({"tags", "output", "cache-from", "cache-to", "description"})
# Attributes hashed by what they name rather than by their text (paths, ids).
READ_APART = frozenset({"context", "dockerfile", "dockerfile-inline", "contexts", "secret", "ssh"})

# Kinds of entry in a context, as fsutil sends them.
FILE, DIRECTORY, SYMLINK, HARDLINK, OTHER, UNREADABLE = "f", "d", "l", "h", "o", "e"
_SKIPPED_XATTR = "com.apple."  # fsutil's skipXattr


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One entry BuildKit receives of a context."""

    path: str  # POSIX, from the context's root
    kind: str  # FILE, DIRECTORY, SYMLINK, HARDLINK, OTHER or UNREADABLE
    mode: int = 0  # permission bits, setuid, setgid, sticky
    data: str = ""  # FILE: sha256 of the contents; SYMLINK: its target; HARDLINK: the
    # first path sent of its inode; OTHER: its file type and device
    xattrs: Xattrs = ()


class Reader(Protocol):
    """What fingerprints need of the disk: digests of trees and files (None: no file)."""

    def context_tree(self, context: Path, dockerfile: Path | None) -> str: ...

    def named_tree(self, folder: Path) -> str: ...

    def file(self, path: Path) -> str | None: ...


def _sha256_maker() -> Callable[..., Any]:
    """sha256 from the interpreter's own module where it has one: hashlib's start-up
    (OpenSSL's) costs more than an unchanged run's whole work; both give equal digests."""
    for name in ("_sha2", "_sha256"):
        try:
            return importlib.import_module(name).sha256  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue
    import hashlib

    return hashlib.sha256


_sha256 = _sha256_maker()


def _walk_order(entry: TreeEntry) -> list[bytes]:
    """fsutil's order: depth first, each folder's names sorted as bytes."""
    return os.fsencode(entry.path).split(b"/")


def entry_bytes(entry: TreeEntry) -> bytes:
    """One entry, unambiguously: fields end at NUL, which no path, link target, xattr
    name or hex value holds, and the count of xattrs says how many fields follow."""
    fields = [entry.kind, f"{entry.mode:o}", entry.path, entry.data, str(len(entry.xattrs))]
    for name, value in entry.xattrs:
        fields += [name, value]
    fields.append("")
    return "\0".join(fields).encode("utf-8", "surrogateescape")  # os.fsencode's, inline


def tree_digest(entries: Iterable[TreeEntry]) -> str:
    """The digest of a context's entries, whatever order they are given in."""
    return digest_in_walk_order(sorted(entries, key=_walk_order))


def digest_in_walk_order(entries: Iterable[TreeEntry]) -> str:
    """`tree_digest` of entries already in fsutil's order (as `DiskReader` walks)."""
    digest = _sha256(b"buildgraph-tree-%d\n" % FINGERPRINT_FORMAT)
    digest.update(b"".join(map(entry_bytes, entries)))
    return str(digest.hexdigest())


def refused_tree(error: str) -> str:
    """A context whose .dockerignore BuildKit refuses: every build of it fails."""
    return "refused:" + error


def fingerprint_of(record: Mapping[str, Any]) -> str:
    """A target's fingerprint from its inputs' record (JSON values)."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return PREFIX + str(_sha256(text.encode()).hexdigest())


def short_fingerprint(fingerprint: str) -> str:
    return fingerprint.removeprefix(PREFIX)[:SHORT]


def target_record(
    project: Project,
    planned: PlannedTarget,
    reader: Reader,
    fingerprints: Mapping[str, str],
    default_platform: str,
    environ: Mapping[str, str],
) -> dict[str, Any]:
    """Every input of one planned target, as JSON values; its dependencies' fingerprints
    must be in `fingerprints` already."""
    target = planned.target
    context = project.context_dir(target)
    dockerfile = project.dockerfile_path(target)
    record: dict[str, Any] = {
        "format": FINGERPRINT_FORMAT,
        "dockerfile": _dockerfile(target.dockerfile_inline, target.dockerfile, dockerfile, reader),
        "context": (
            ["remote", target.context]
            if context is None
            else ["local", reader.context_tree(context, dockerfile)]
        ),
        "attrs": {k: thaw(v) for k, v in target.attrs.items() if k not in _SET_APART},
    }
    contexts = {
        name: _named_context(project, value, reader, fingerprints)
        for name, value in target.contexts.items()
    }
    for name, dependency in planned.wired.items():
        contexts[name] = ["target", fingerprints[dependency]]
    if contexts:
        record["contexts"] = contexts
    linked = set(planned.links.values())
    after = sorted(fingerprints[name] for name in planned.needs if name not in linked)
    if after:
        record["after"] = after  # depends_on alone: read back by its tags, still an input
    for key, ids in (("secret", _secret_ids), ("ssh", _ssh_ids)):
        if target.attrs.get(key):
            record[key] = sorted(ids(target.attrs[key]))
    if not target.platforms:
        record["platform"] = default_platform
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        record["SOURCE_DATE_EPOCH"] = epoch
    return record


_SET_APART = NOT_INPUTS | READ_APART


def _dockerfile(inline: str | None, written: str, path: Path | None, reader: Reader) -> list[Any]:
    if inline is not None:
        return ["inline", inline]
    if path is None:  # inside a remote context: only its path there says which
        return ["remote", written]
    return ["file", reader.file(path)]


def _named_context(
    project: Project, value: str, reader: Reader, fingerprints: Mapping[str, str]
) -> list[Any]:
    if value.startswith(TARGET_LINK):
        name = value[len(TARGET_LINK) :]
        return ["target", fingerprints.get(name, name)]
    if value.startswith("oci-layout://"):
        return ["oci-layout", *_oci_layout(project, value[len("oci-layout://") :], reader)]
    if is_local_named_context(value):
        return ["local", reader.named_tree(project.local_path(value))]
    return ["text", value]  # docker-image://, a URL: what it names is not on this machine


def _oci_layout(project: Project, value: str, reader: Reader) -> list[Any]:
    """`path[:tag][@digest]`: the layout's index (every blob is named by its digest
    there), and which image of it."""
    where, _, digest = value.partition("@")
    folder, tag = project.local_path(where), ""
    if not folder.is_dir() and ":" in where:
        head, _, tag = where.rpartition(":")
        folder = project.local_path(head)
    return [reader.file(folder / "index.json"), tag, digest]


def _secret_ids(entries: Iterable[Any]) -> list[str]:
    ids = []
    for entry in entries:
        fields = entry_fields(entry, "secret")
        source = fields.get("src") or fields.get("source") or ""
        ids.append(fields.get("id") or os.path.basename(source))  # buildx's default id
    return ids


def _ssh_ids(entries: Iterable[Any]) -> list[str]:
    """buildx's ParseSSHSpec: `id[=path,...]`; a table's `id`, else `default`."""
    return [
        str(entry.get("id", "default"))
        if isinstance(entry, Mapping)
        else str(entry).partition("=")[0]
        for entry in entries
    ]


def native_platform() -> str:
    """This machine's platform, as a builder on it builds a target without platforms."""
    from buildgraph.preflight.facts import QEMU_NAMES

    machine = os.uname().machine
    arch = {qemu: arch for arch, qemu in QEMU_NAMES.items()}.get(machine, machine)
    return f"linux/{arch}"


def target_fingerprints(
    plan: Plan,
    *,
    reader: Reader | None = None,
    environ: Mapping[str, str] | None = None,
    default_platform: str | None = None,
) -> Mapping[str, str]:
    """Each planned target's fingerprint (`sha256:<hex>`), dependencies first."""
    disk = DiskReader(HashCache.load(cache_key(plan.project))) if reader is None else None
    source: Reader = disk or reader  # type: ignore[assignment]
    found: dict[str, str] = {}
    platform = default_platform or native_platform()
    env = os.environ if environ is None else environ
    for planned in plan.targets:  # build order: every dependency comes first
        record = target_record(plan.project, planned, source, found, platform, env)
        found[planned.name] = fingerprint_of(record)
    if disk is not None:
        disk.cache.save()
    return MappingProxyType(found)


def cache_key(project: Project) -> str:
    """The hash cache's entry for a project: its file's path (hashes are kept by path)."""
    return f"fingerprints {project.file}"


class DiskReader:
    """Reads what BuildKit would be sent, through a hash cache."""

    def __init__(self, cache: HashCache) -> None:
        self.cache = cache
        self._trees: dict[tuple[str, str], str] = {}

    def context_tree(self, context: Path, dockerfile: Path | None) -> str:
        sibling = None if dockerfile is None else f"{dockerfile}.dockerignore"
        applying = sibling if sibling and os.path.isfile(sibling) else ".dockerignore"
        key = (str(context), applying)  # the ignore file that applies: same key, same tree
        if key not in self._trees:
            self._trees[key] = self.tree(context, IgnoreRules.for_context(context, dockerfile))
        return self._trees[key]

    def named_tree(self, folder: Path) -> str:
        key = (str(folder), ".dockerignore")
        if key not in self._trees:
            self._trees[key] = self.tree(folder, IgnoreRules.for_context(folder))
        return self._trees[key]

    def tree(self, root: Path, rules: IgnoreRules) -> str:
        if rules.error is not None:
            return refused_tree(rules.error)
        try:
            return digest_in_walk_order(self.entries(root, rules))
        except (OSError, ValueError) as exc:  # a folder BuildKit must read, unreadable
            return refused_tree(exc.__class__.__name__)

    def entries(self, root: Path, rules: IgnoreRules) -> list[TreeEntry]:
        """What BuildKit is sent of the folder `root`, in fsutil's walk order."""
        entries: list[TreeEntry] = []
        sent: set[str] | None = None  # the files sent, when patterns exclude some
        if rules.patterns:  # its walk hands each folder's verdicts down: cheaper than
            sent = set(included_files(root, rules))  # asking `excludes` once per path
        # An excluded folder is walked only where an exception may re-include something
        # in it (fsutil prunes the rest); `excludes` gives each folder's verdict exactly.
        walk_excluded = any(pattern.exception for pattern in rules.patterns)
        self._walk(str(root), "", rules, sent, walk_excluded, False, entries, {})
        return entries

    def _walk(
        self,
        folder: str,
        prefix: str,
        rules: IgnoreRules,
        sent: set[str] | None,
        walk_excluded: bool,
        forgiven: bool,
        out: list[TreeEntry],
        seen: dict[tuple[int, int], str],
    ) -> None:
        try:
            with os.scandir(folder) as found:
                entries = sorted(found, key=lambda e: os.fsencode(e.name))
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            if not forgiven:  # fsutil forgives unreadable excluded folders only
                where = prefix.rstrip("/") or "."
                out.append(TreeEntry(where, UNREADABLE, data=exc.__class__.__name__))
            return
        for entry in entries:
            relative = prefix + entry.name
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                if sent is None or relative in sent:
                    out.append(TreeEntry(relative, UNREADABLE))
                continue
            if stat.S_ISDIR(info.st_mode):
                excluded = sent is not None and rules.excludes(relative)
                if excluded and not walk_excluded:
                    continue
                mark = len(out)
                where = relative + "/"
                self._walk(entry.path, where, rules, sent, walk_excluded, excluded, out, seen)
                if not excluded or len(out) > mark:  # sent, or as the parent of what is
                    mode = stat.S_IMODE(info.st_mode)
                    out.insert(mark, TreeEntry(relative, DIRECTORY, mode, "", _xattrs(entry.path)))
            elif sent is None or relative in sent:
                out.append(self._entry(entry.path, relative, info, seen))

    def _entry(
        self, path: str, relative: str, info: os.stat_result, seen: dict[tuple[int, int], str]
    ) -> TreeEntry:
        if info.st_nlink > 1:  # fsutil sends a second path to an inode as a hard link
            first = seen.setdefault((info.st_dev, info.st_ino), relative)
            if first != relative:
                return TreeEntry(relative, HARDLINK, data=first)
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISREG(info.st_mode):
            hashed = self._file_hash(path, info)
            if hashed is None:
                return TreeEntry(relative, UNREADABLE)
            return TreeEntry(relative, FILE, mode, hashed.digest, hashed.xattrs)
        if stat.S_ISLNK(info.st_mode):
            try:
                target = os.readlink(path)
            except OSError:
                return TreeEntry(relative, UNREADABLE)
            return TreeEntry(relative, SYMLINK, 0o777, target, _xattrs(path))
        kind = f"{stat.S_IFMT(info.st_mode):o}:{info.st_rdev}"
        return TreeEntry(relative, OTHER, mode, kind, _xattrs(path))

    def _file_hash(self, path: str, info: os.stat_result) -> FileHash | None:
        kept = self.cache.get(path, info)
        if kept is not None:
            return kept
        try:
            hashed = FileHash(_contents_digest(path), _xattrs(path))
        except OSError:
            return None
        self.cache.put(path, info, hashed)
        return hashed

    def file(self, path: Path) -> str | None:
        """A file's contents' digest (links followed: the frontend reads it so)."""
        try:
            info = os.stat(path)
        except (OSError, ValueError):
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        hashed = self._file_hash(str(path), info)
        return None if hashed is None else hashed.digest


def _contents_digest(path: str) -> str:
    import hashlib  # OpenSSL's sha256 is the fastest on large files; only on a miss

    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _xattrs(path: str) -> Xattrs:
    """The extended attributes fsutil sends of an entry (never following a link)."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return ()
    pairs = []
    for name in sorted(names):
        if name.startswith(_SKIPPED_XATTR):
            continue
        try:
            pairs.append((name, os.getxattr(path, name, follow_symlinks=False).hex()))
        except OSError:
            continue
    return tuple(pairs)
