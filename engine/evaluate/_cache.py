"""The compiled-mapping cache: a new process loads a mapping without YAML, the checks, the
plugins' entry-point scan or the code generator, when nothing it was built from has changed.

``load`` asks ``read`` for a mapping by its ``Key`` (what was asked for, from where); on a miss
it runs the full load and ``write``s what it built: the spec and the schemas (``pickle``).
The generated function is added to the same file (``complete``) when it is first generated,
as its code object (``marshal``) with the objects it refers to, so that a process which loads
mappings it never applies does not generate their code to cache it. Reading a file is loading
code. So a file is used only when

- it is a regular file in a directory, both owned by the current user (or root) and writable
  by no one else, and at most ``MAX_BYTES`` long;
- the key stored in it (a SHA-256 digest) is the one computed now from: the cache format,
  Python's bytecode magic number, what was asked for (name or path, the working directory,
  ``max_values``, the limits in force), fulfillmap's installed files (name, size and
  modification time of each: a new version or an edit changes them), the installed
  distributions (every ``*.dist-info`` and ``*.egg-info`` on ``sys.path`` by name, which
  holds its version, and the size and modification time of its ``entry_points.txt``: a plugin
  installed, removed or upgraded), and the content of every file the load read (the mapping,
  its schemas, the language schema, the plugins' modules, and every module then loaded from
  a plugin module's top-level package: a helper module's table of functions);
- its payload's own SHA-256 digest matches (a truncated or corrupt file).

Anything else is a miss, and the full load runs and raises exactly what it raises without a
cache. A file is written to a temporary name and renamed into place, so concurrent writers and
readers see whole files only; where no directory is writable nothing is written.

Plugin functions are pickled by reference (module and name): a cached load imports only the
modules that define them and never scans entry points. A plugin callable that is not a
module-level function (or builtin) importable by its module and name leaves its mappings'
code uncached (their spec is cached): a lambda or a closure cannot be imported, and a partial,
a bound method or an instance with ``__call__`` would be stored with what it holds (a
configuration its module read), which the key does not cover (``_holds_foreign_state``).
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import functools
import importlib
import io
import linecache
import marshal
import os
import pickle
import stat
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.util import MAGIC_NUMBER
from types import (
    BuiltinFunctionType,
    ClassMethodDescriptorType,
    FunctionType,
    MethodDescriptorType,
    MethodType,
    WrapperDescriptorType,
)
from typing import TYPE_CHECKING, Any

from fulfillmap.errors import FulfillmapError
from fulfillmap.evaluate._runtime import Program
from fulfillmap.language._limits import limits

if TYPE_CHECKING:
    from hashlib import _Hash

    from fulfillmap.language._spec import MappingSpec

__all__ = ["MAX_BYTES", "Entry", "Key", "Stored", "complete", "directories", "key", "read", "write"]

#: the first bytes of a cache file; a new layout or payload gets a new one
FORMAT = b"FMC1"
#: cache files (and what is written to them) are at most this long
MAX_BYTES = 16 * 2**20
#: a cache file lists at most this many input files
MAX_FILES = 500
#: the folder next to the installed package, used when no user cache directory is usable
PACKAGE_FOLDER = "__fmcache__"
_HEADER = len(FORMAT) + 32 + 32 + 4


def _sha256_class() -> Callable[..., _Hash]:
    """SHA-256 from Python's own module: ``hashlib`` would load OpenSSL first (~8 ms)."""
    for name in ("_sha2", "_sha256"):  # 3.12 and later, 3.11
        try:
            return importlib.import_module(name).sha256  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue
    from hashlib import sha256  # pragma: no cover - a Python built without them

    return sha256  # pragma: no cover


_sha256 = _sha256_class()


@dataclass(frozen=True, slots=True)
class Entry:
    """What a cache file holds: a mapping loaded, checked and compiled."""

    spec: MappingSpec
    source_schema: Mapping[str, Any]
    target_schema: Mapping[str, Any]
    #: the generated function; None until the mapping is first applied (``complete``)
    program: Program | None


@dataclass(frozen=True, slots=True)
class Key:
    """What was asked for: ``name`` is the cache file's, ``asked`` the bytes it is made of."""

    name: str
    asked: bytes


@dataclass(frozen=True, slots=True)
class Stored:
    """A mapping's cache file: its ``key``, the ``digest`` it holds (of what the mapping was
    built from) and the ``manifest`` of those files, under which ``complete`` adds the
    generated function; ``hit``: the load read it (else wrote it)."""

    key: Key
    digest: bytes
    manifest: bytes
    hit: bool


def directories() -> list[str]:
    """Where cache files are looked for, in order; new ones go to the first writable one.

    ``FULFILLMAP_CACHE_DIR`` alone when it is set (empty: no cache); else the user's cache
    directory (``$XDG_CACHE_HOME/fulfillmap``, ``~/.cache/fulfillmap``), then ``__fmcache__``
    in the installed package. None with ``FULFILLMAP_NO_CACHE`` set (to anything but 0), or
    where files have no owner to check (not POSIX).
    """
    if os.environ.get("FULFILLMAP_NO_CACHE", "0") not in ("", "0") or os.name != "posix":
        return []
    configured = os.environ.get("FULFILLMAP_CACHE_DIR")
    if configured is not None:
        return [configured] if configured else []
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    found = [os.path.join(base, "fulfillmap")] if os.path.isabs(base) else []
    return [*found, os.path.join(_package(), PACKAGE_FOLDER)]


def key(reference: str | os.PathLike[str], max_values: int) -> Key | None:
    """The key of ``load(reference, max_values=...)``; None when there is no cache."""
    if not directories():
        return None
    try:
        bounds = repr(limits())  # what a file may hold decides whether it loads
    except FulfillmapError:  # a bad FULFILLMAP_MAX_* variable: the full load says so
        return None
    text = os.fspath(reference)
    kind = type(reference).__name__
    parts = [FORMAT.decode(), MAGIC_NUMBER.hex(), kind, text, str(max_values), bounds]
    try:
        if not os.path.isabs(text):  # a name can be a file in the working directory, too
            parts.append(os.getcwd())
    except OSError:  # the working directory was removed
        return None
    asked = "\0".join(parts).encode("utf-8", "surrogateescape")
    return Key(_sha256(asked).hexdigest()[:40], asked)


def read(key: Key) -> tuple[Entry, Stored] | None:
    """The cached mapping of ``key`` when a trusted, current, intact file holds it."""
    for folder in directories():
        path = os.path.join(folder, key.name)
        try:
            data = _read_trusted(folder, path)
            found = _unpack(data, key) if data is not None else None
        except FileNotFoundError:
            continue
        except Exception as exc:  # a cache never fails a load: the full load runs instead
            _debug("ignored cache file %s: %r", path, exc)
            continue
        if found is not None:
            return found
    return None


def write(key: Key, entry: Entry, files: Mapping[str, str]) -> Stored | None:
    """Store ``entry``, built from ``files`` (absolute path -> the text the load read), in
    the first writable directory; None when it cannot be stored."""
    if len(files) > MAX_FILES or not all(
        os.path.isfile(path) and "\n" not in path for path in files
    ):
        return None  # e.g. a zipped install: its files cannot be checked later
    manifest = b"\n".join(os.fsencode(path) for path in files)
    texts = ((path, text.encode("utf-8", "surrogatepass")) for path, text in files.items())
    stored = Stored(key, _digest(key, texts), manifest, hit=False)
    return stored if _write(stored, entry) else None


def complete(stored: Stored, entry: Entry) -> None:
    """Store ``entry`` (now with its program) under ``stored``'s key and digest: the files
    it was built from as they were when it was loaded (its program is generated from that)."""
    _write(stored, entry)


def _write(stored: Stored, entry: Entry) -> bool:
    try:
        payload = _pack(entry)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        _debug("mapping %s not cached: %r", entry.spec.name, exc)
        return False
    size = len(stored.manifest).to_bytes(4, "big")
    data = FORMAT + stored.digest + _sha256(payload).digest() + size + stored.manifest + payload
    if len(data) > MAX_BYTES:
        return False
    return any(_store(folder, stored.key.name, data) for folder in directories())


# -- reading ------------------------------------------------------------------------------


def _trusted(info: os.stat_result, kind: Callable[[int], bool]) -> bool:
    """Owned by the current user or root, and writable by no one else."""
    return kind(info.st_mode) and info.st_uid in (os.geteuid(), 0) and not info.st_mode & 0o022


def _read_trusted(folder: str, path: str) -> bytes | None:
    if not _trusted(os.stat(folder), stat.S_ISDIR):
        _debug("ignored cache directory %s: not owned by this user, or writable by others", folder)
        return None
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # a FIFO would block: refused below
    with open(os.open(path, flags), "rb") as file:
        if not _trusted(os.fstat(file.fileno()), stat.S_ISREG):
            _debug("ignored cache file %s: not owned by this user, or writable by others", path)
            return None
        data = file.read(MAX_BYTES + 1)
    return data if len(data) <= MAX_BYTES else None


def _unpack(data: bytes, key: Key) -> tuple[Entry, Stored] | None:
    """The entry in ``data``; None when it is stale; ``ValueError`` when it is corrupt."""
    if len(data) < _HEADER or not data.startswith(FORMAT):
        raise ValueError("not a cache file of this version")
    stored, payload_digest = data[4:36], data[36:68]
    end = _HEADER + int.from_bytes(data[68:_HEADER], "big")
    manifest, payload = data[_HEADER:end], data[end:]
    if _sha256(payload).digest() != payload_digest:
        raise ValueError("corrupt or truncated")
    paths = [os.fsdecode(path) for path in manifest.split(b"\n")] if manifest else []
    if len(paths) > MAX_FILES:
        raise ValueError("too many input files")
    try:
        current = _digest(key, ((path, _content(path)) for path in paths))
    except OSError:
        return None  # an input file is gone or unreadable
    if current != stored:
        return None  # an input changed
    spec, source_schema, target_schema, source, namespace, code = pickle.loads(payload)
    place = Stored(key, current, manifest, hit=True)
    if code is None:  # loaded, never applied
        return Entry(spec, source_schema, target_schema, None), place
    build = FunctionType(marshal.loads(code), namespace, "build")
    namespace.update(__builtins__=builtins, build=build)
    filename = build.__code__.co_filename  # for tracebacks, as the generator does
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return Entry(spec, source_schema, target_schema, Program(build, source)), place


def _content(path: str) -> bytes:
    """The bytes of a file, which hash as the text the loader read from them (UTF-8, newlines
    as they are) hashes: a file that is no longer UTF-8 differs from what was read."""
    with open(path, "rb") as file:
        return file.read()


# -- writing ------------------------------------------------------------------------------


def _pack(entry: Entry) -> bytes:
    parts: tuple[Any, ...] = (entry.spec, entry.source_schema, entry.target_schema)
    if entry.program is None:
        parts += (None, None, None)
    else:
        build = entry.program.build
        namespace = {
            name: value
            for name, value in build.__globals__.items()
            if name not in ("__builtins__", "build")
        }
        parts += (entry.program.source, namespace, marshal.dumps(build.__code__))
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(parts)
    return buffer.getvalue()


class _Pickler(pickle.Pickler):
    """Pickles a function made by another (a closure) as the call that made it, when it says
    so in ``__made_by__`` (``_guarded.guarded``'s do), and a dataclass with slots (the
    spec's nodes) as a call of the class with its fields: ``pickle``'s own way for these
    calls a Python ``__getstate__`` and ``__setstate__`` per object, twice as slow."""

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if cls is FunctionType:
            return getattr(obj, "__made_by__", NotImplemented)
        lazy = _jmespath_reduction(obj, cls)
        if lazy is not None:
            return lazy
        if _holds_foreign_state(obj, cls):
            raise pickle.PicklingError(f"{obj!r} would be stored with what it holds")
        names = _init_fields(cls)
        if names is None:
            return NotImplemented
        return (cls, tuple([getattr(obj, name) for name in names]))


def _holds_foreign_state(obj: Any, cls: type) -> bool:
    """Is ``obj`` a callable that ``pickle`` would store with what it holds (a partial's
    arguments, a bound method's object, an instance's attributes), made of code that is not
    fulfillmap's? Such a plugin callable may hold what its plugin read when imported (a
    configuration file), which the key does not cover: it is refused, as a lambda is.
    fulfillmap's own (its files are in the key) hold only what the mapping decides."""
    if cls is functools.partial:
        code = obj.func
    elif cls is MethodType:
        code = obj.__func__
    elif isinstance(obj, _BY_REFERENCE) or not callable(obj):
        return False
    else:
        code = cls
    module = getattr(code, "__module__", None) or ""
    return module.partition(".")[0] != "fulfillmap"


#: callables ``pickle`` stores by reference (module and name), or a builtin method with the
#: object it is bound to (a shortcut's ``frozenset(names).issuperset``)
_BY_REFERENCE = (
    type,
    BuiltinFunctionType,
    MethodDescriptorType,
    WrapperDescriptorType,
    ClassMethodDescriptorType,
)

#: per class: the fields ``_Pickler`` pickles it by, or None (``pickle``'s own way)
_INIT_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _init_fields(cls: type) -> tuple[str, ...] | None:
    """The fields of a dataclass with slots that ``cls(*fields)`` makes again as it is: each
    an ``__init__`` argument (no ``InitVar``, ``ClassVar`` or ``init=False``), no
    ``__post_init__``, and no reduction of the class's own."""
    try:
        return _INIT_FIELDS[cls]
    except KeyError:
        pass
    names: tuple[str, ...] | None = None
    declared = cls.__dict__.get("__dataclass_fields__")
    if (
        declared is not None
        and "__slots__" in cls.__dict__
        and not hasattr(cls, "__post_init__")
        and not {"__reduce__", "__reduce_ex__"} & cls.__dict__.keys()
        and getattr(cls.__dict__.get("__getstate__"), "__name__", "") == "_dataclass_getstate"
    ):
        fields = dataclasses.fields(cls)
        if len(fields) == len(declared) and all(field.init for field in fields):
            names = tuple(field.name for field in fields)
    _INIT_FIELDS[cls] = names
    return names


def _jmespath_reduction(obj: Any, cls: type) -> tuple[Any, ...] | None:
    """jmespath's objects in a generated function's namespace as their lazy stand-ins."""
    if cls is MethodType:
        declared = _declared(obj.__self__)
        if obj.__func__.__name__ == "call_function" and declared is not None:
            return (_CallFunction, (declared,))
        return None
    module = cls.__module__
    if module == "jmespath.parser" and cls.__name__ == "ParsedResult":
        return (_Parsed, (obj.expression, obj.parsed))
    if module == "jmespath.visitor" and cls.__name__ == "Options":
        declared = _declared(obj.custom_functions)
        return None if declared is None else (_Options, (obj.dict_cls, declared))
    return None


def _declared(table: object) -> tuple[Any, ...] | None:
    """The plugins' functions ``table`` was made of, when ``function_table`` made it."""
    functions = sys.modules.get("fulfillmap.plugins._functions")
    return None if functions is None else functions.declared(table)


class _Parsed:
    """A jmespath ``ParsedResult`` (the interpreter generated code falls back to for what it
    does not translate) in a cached mapping: made, importing jmespath, when first searched."""

    __slots__ = ("_made", "expression", "parsed")

    def __init__(self, expression: str, parsed: Any) -> None:
        self.expression = expression
        self.parsed = parsed
        self._made: Any = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Parsed, (self.expression, self.parsed))

    def search(self, value: Any, options: Any = None) -> Any:
        made = self._made
        if made is None:
            from jmespath.parser import ParsedResult

            made = self._made = ParsedResult(self.expression, self.parsed)
        if isinstance(options, _Options):
            options = options.made()
        return made.search(value, options)


class _Options:
    """jmespath ``Options`` with the function table of the plugins' ``functions`` in a
    cached mapping: made, importing jmespath, when first used."""

    __slots__ = ("_made", "dict_cls", "functions")

    def __init__(self, dict_cls: Any, functions: tuple[Any, ...]) -> None:
        self.dict_cls = dict_cls
        self.functions = functions
        self._made: Any = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Options, (self.dict_cls, self.functions))

    def made(self) -> Any:
        if self._made is None:
            import jmespath
            from fulfillmap.plugins._functions import function_table

            table = function_table(self.functions)
            self._made = jmespath.Options(dict_cls=self.dict_cls, custom_functions=table)
        return self._made


class _CallFunction:
    """The ``call_function`` of the function table of the plugins' ``functions`` (generated
    code calls a function through it when jmespath must check an argument's type) in a
    cached mapping: the table is made, importing jmespath, when first called."""

    __slots__ = ("_made", "functions")

    def __init__(self, functions: tuple[Any, ...]) -> None:
        self.functions = functions
        self._made: Callable[[str, list[Any]], Any] | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_CallFunction, (self.functions,))

    def __call__(self, name: str, args: list[Any]) -> Any:
        call = self._made
        if call is None:
            from fulfillmap.plugins._functions import function_table

            call = self._made = function_table(self.functions).call_function
        return call(name, args)


def _store(folder: str, name: str, data: bytes) -> bool:
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if not _trusted(os.stat(folder), stat.S_ISDIR):
            return False
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with open(os.open(temporary, flags, 0o600), "wb") as file:
            file.write(data)
        os.replace(temporary, os.path.join(folder, name))
    except OSError as exc:
        _debug("cannot write to cache directory %s: %r", folder, exc)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return False
    return True


# -- the key ------------------------------------------------------------------------------


def _digest(key: Key, files: Iterable[tuple[str, bytes]]) -> bytes:
    digest = _sha256(key.asked)
    digest.update(_environment())
    for path, content in files:
        digest.update(b"\0" + os.fsencode(path) + b"\0" + _sha256(content).digest())
    return digest.digest()


@functools.cache
def _environment() -> bytes:
    """Python's magic number, fulfillmap's installed files and the installed distributions
    (computed once per process, as Python imports each module once)."""
    parts: list[str] = []
    _files(parts, _package())
    digest = _sha256(MAGIC_NUMBER)
    digest.update("".join(parts).encode("utf-8", "surrogateescape"))
    for folder in sys.path:
        _distributions(digest, os.path.abspath(folder))
    return digest.digest()


def _package() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _files(parts: list[str], folder: str) -> None:
    """Each file's path, size and modification time, in name order, folder by folder."""
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        if entry.name in ("__pycache__", PACKAGE_FOLDER):
            continue
        if entry.is_dir():
            _files(parts, entry.path)
            continue
        info = entry.stat()  # through the links of an editable install
        parts.append(f"{entry.path}\0{info.st_size}\0{info.st_mtime_ns}\0")


def _distributions(digest: _Hash, folder: str) -> None:
    try:  # (a script's own folder, which holds none, changes nothing)
        names = sorted(name for name in os.listdir(folder) if name.endswith(_DISTRIBUTIONS))
    except OSError:  # not a folder: a zip file, or gone
        return
    for name in names:
        path = os.path.join(folder, name)
        digest.update(os.fsencode(path) + b"\0")
        try:
            info = os.stat(os.path.join(path, "entry_points.txt"))
        except OSError:
            continue
        digest.update(f"{info.st_size}\0{info.st_mtime_ns}\0".encode())


_DISTRIBUTIONS = (".dist-info", ".egg-info")


def _debug(message: str, *args: object) -> None:
    import logging  # only when something is wrong: logging costs a few ms to import

    logging.getLogger("fulfillmap.cache").debug(message, *args)
