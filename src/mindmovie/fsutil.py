"""Small filesystem helpers shared by the store, the pipeline and the compositor.

Every artifact goes through a temp name in the same directory and an atomic rename, so a
kill at any instant leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import re
import stat
import threading
import time
import unicodedata
import urllib.parse
from pathlib import Path


def link_note(path: Path) -> str:
    """' (a link to X, which is missing)' for a link to nothing, else '': "not found" or
    "already exists" alone, of a name `ls` shows, left the person to find the link."""
    try:
        if path.is_symlink() and not path.exists():
            return f" (a link to {os.readlink(path)}, which is missing)"
    except (OSError, ValueError):  # a name too long, a NUL: nothing to say of it
        pass
    return ""


#: why a relative path cannot be used in a working folder that was removed (or moved)
#: since the command started there: `os.getcwd()` fails, and so does every relative path
CWD_GONE = "the current folder no longer exists: it was removed or moved; cd to one"


def cwd_gone() -> bool:
    """Was the working folder removed since this process started in it (`CWD_GONE`)?"""
    try:
        os.getcwd()
    except OSError:
        return True
    return False


#: said of a path written with backslashes (`photos\me.jpg` in goals.yaml, `.\goals.yaml`
#: or `--out C:\movies\mine` on the command line): typed or pasted from Windows, where
#: on this system a backslash is a letter of a file name
BACKSLASH_HINT = "a \\ is not a folder separator on this system: write the path with /"


def windows_path_hint(text: str) -> str | None:
    """What to write instead of `text` when it reads as a Windows path (a backslash in
    it, or a drive letter before it: `C:/movies`), else None. `render '.\\goals.yaml'`
    said only "file not found", and `--out 'C:\\movies\\mine'` made a folder named so in
    the current one."""
    if os.sep == "\\":  # (Windows itself: the CLI refuses to run there, NOT_POSIX)
        return None
    hint = BACKSLASH_HINT if "\\" in text else None
    if drive := re.match(r"([A-Za-z]):(?:[\\/]|$)", text):
        letter = drive.group(1)
        where = (
            f"the drive {letter.upper()}: is no folder on this system (in WSL it is "
            f"/mnt/{letter.lower()}/)"
        )
        hint = f"{hint}; {where}" if hint else f"{where}: write the path as this system names it"
    return hint


def windows_path_there(text: str, folder: bool = False) -> str:
    """' (X is there)' when `text`, written with backslashes, names a file (`folder`: a
    folder) that is there once they are slashes; else ''. Said after `windows_path_hint`,
    as GOALS says it: the person fixes the one path they meant."""
    if "\\" not in text:
        return ""
    slashed = Path(text.replace("\\", "/"))
    try:
        there = slashed.is_dir() if folder else slashed.is_file()
    except (OSError, ValueError):  # a name too long, a NUL: nothing to point to
        return ""
    return f" ({slashed} is there)" if there else ""


def no_such_run_folder(run_dir: Path, beside: str | None = None) -> str:
    """The line for a RUN_DIR that is not there: with `windows_path_hint`'s words when it
    reads as a Windows path (`status runs\\mine` said only "no such folder"); a link to a
    run folder since deleted (or one leading back to itself) named as the link it is, as
    `init` and `render --out` name it (it said "no run here (no run.db)", as if a folder
    were there). `beside`: the runs there are (`store.runs_beside`), said at its end."""
    try:
        if run_dir.is_symlink():
            return (
                f"{run_dir}: is a link to {os.readlink(run_dir)}, which is missing or leads "
                "back to it; give a run folder (outputs/<title>)"
            )
    except OSError:  # a name too long: said as not there
        pass
    hint = windows_path_hint(str(run_dir))
    said = f"{hint}{windows_path_there(str(run_dir), folder=True)}; " if hint else ""
    there = f": {beside}" if beside else ""
    return f"{run_dir}: no such folder; {said}give a run folder (outputs/<title>){there}"


def home_unknown(text: str) -> str | None:
    """Why the leading `~` of `text` names no folder here (None when it does, or `text`
    has none): `~name` of a user this system does not know, or `~` with HOME unset and
    this user not in the password database (a container run as an arbitrary user id).
    expanduser then leaves the `~` as written, and a run went into a folder named `~` in
    the current one."""
    # (`~\\movies`, PowerShell's home, is a backslash path, not user "\\movies": the
    # command then says what a backslash is here)
    head = re.split(r"[/\\]", text, maxsplit=1)[0]
    if not head.startswith("~") or os.path.expanduser(head) != head:
        return None
    if user := head[1:]:
        return f"no user {user!r} here"
    return f"no home folder: HOME is not set and user id {os.getuid()} has no home in the system"


def unnamable(text: str) -> str | None:
    """Why `text` cannot be a file name on this system (None when it can): a character
    the file system's encoding has no bytes for. Python names files in the locale's
    encoding when that is not UTF-8 (LANG=en_US.ISO-8859-1; PYTHONUTF8=0 in the C
    locale), and a goals.yaml photo or an output_dir written with letters it lacks (the
    YAML is UTF-8) ended in a UnicodeEncodeError traceback; so did a lone surrogate
    escape ("\\ud800") not from a file name's bytes, in any locale."""
    try:
        os.fsencode(text)
    except UnicodeEncodeError as e:
        bad = text[e.start]
        if "\ud800" <= bad <= "\udfff":
            return f"{bad!r} is half of a character, which no file name holds"
        return (
            f"{bad!r} cannot be written in this system's file names ({e.encoding}, from the "
            "locale): run with a UTF-8 locale (e.g. LC_ALL=C.UTF-8) or PYTHONUTF8=1"
        )
    return None


def expanded(text: str) -> Path:
    """``Path(text).expanduser()``, or the path as written when it names the home of a user
    this system does not know (``~nobody/calm.mp3``): expanduser raised RuntimeError, a
    traceback where "not found" belongs."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        return Path(text)


def blank_ends(text: str) -> str | None:
    """'ends in a space' (or 'starts with a space', 'starts and ends with a space', a
    tab or line break said as 'a blank') for a path given with blanks at its ends, which
    are part of a file's name; None for one without. Said when nothing is named so:
    `--config "config.yaml "` was "config.yaml : config file not found", the space not
    to be seen."""
    if text == text.strip():
        return None
    starts, ends = text != text.lstrip(), text != text.rstrip()
    blank = "a space" if set(text) - set(text.strip()) <= {" "} else "a blank"
    if starts and ends:
        return f"starts and ends with {blank}"
    return f"starts with {blank}" if starts else f"ends in {blank}"


def kind_of(mode: int, folder: str = "a folder") -> str | None:
    """What a file of this ``st_mode`` is when it is not a regular file (None when it
    is): `folder` (a message may say "a directory", as `open` does), "a named pipe
    (FIFO)", "a socket", "a device" or "a special file". One wording for every input
    the person gives and every file a run keeps."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return folder
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def special_kind(path: Path) -> str | None:
    """What `path` is when something other than a regular file is there (links
    followed; `kind_of`). None for a file, nothing there, or a path that cannot be
    looked at. (Opening a named pipe to read it waits for a writer forever: a run's own
    files are looked at with this first.)"""
    try:
        return kind_of(path.stat().st_mode)
    except (OSError, ValueError):
        return None


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def tmp_path_for(path: Path) -> Path:
    """A temp name beside `path` (same filesystem, so rename is atomic), unique per process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit_file(tmp: Path, final: Path) -> None:
    """fsync `tmp`, then rename it onto `final` atomically."""
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    _fsync_dir(final.parent)


class HeldFolder:
    """A run folder a render in this process works in (`held`): `make_dirs` makes
    folders below it, never it or its parents again. `path` follows the folder when the
    render renames it (a new title), and only the very folder held (its device and
    inode) counts: another made at the path since (`mv run run-old && mkdir run`, or
    another render's) is not written into. With `outlive` set (the folder went away under
    the render) it is held past the render's end until `let_go`: a thread of the
    render (`asyncio.to_thread` work is not cancelled) still writing after the end made
    the folder, and its parents, again at the old path. Not past `OUTLIVE_SECONDS`:
    a render run without the CLI (a library's, a test's) is let go of by no one, and
    its hold made a later write at that path in the same process fail."""

    outlive: bool = False
    #: the monotonic time an outliving hold goes by itself (`outlast`)
    until: float = math.inf

    def __init__(self, path: Path) -> None:
        self.move(path)

    def move(self, path: Path) -> None:
        self.path = Path(os.path.abspath(path))
        #: as given: a relative one names another place once the working folder changes
        self.given = Path(os.path.normpath(path))
        self.id = folder_id(self.path)

    def outlast(self) -> None:
        """Hold past the render's end, for at most `OUTLIVE_SECONDS` (`outlive`)."""
        self.outlive, self.until = True, time.monotonic() + OUTLIVE_SECONDS

    def __enter__(self) -> HeldFolder:
        with _HELD_LOCK:
            # (one kept past an earlier render's end at this path, never let go of, goes)
            _HELD[:] = [h for h in _HELD if not (h.outlive and h.path == self.path)]
            _HELD.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.outlive:
            self.let_go()

    def let_go(self) -> None:
        with _HELD_LOCK:
            if self in _HELD:
                _HELD.remove(self)


_HELD: list[HeldFolder] = []
_HELD_LOCK = threading.Lock()
#: how long a hold outlives its render at most: far longer than any one write of a
#: thread (a local clip, the storyboard) takes
OUTLIVE_SECONDS = 600.0


def folder_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of what is at `path` (a folder, or run.db), None when there is
    none: a folder renamed keeps it, one deleted and made again at the path does not."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def file_stamp(path: Path) -> tuple[object, ...] | None:
    """A file as the same file with the same bytes, as far as its metadata tells (None:
    none there): a file written again in place changes its size or modification time,
    one renamed over it (a keyframe made again) its inode. For what a read of it saw,
    compared later (the storyboard's cached thumbnails, the plan.yaml a render read)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def make_dirs(path: Path) -> None:
    """`path.mkdir(parents=True, exist_ok=True)`, except at or inside a run folder a
    render holds (`HeldFolder`): there only the folders below it are made, one by one,
    and the run folder gone (deleted, moved, or another folder made at its path since)
    is a FileNotFoundError naming it. A write's mkdir made the run folder, and its
    parents, again at the old path: a folder the person had made there meanwhile (`mv
    outs outs-old && mkdir outs`) then held the render's new `run`, and was removed
    with it as one the render's writes had made. A relative path is held as given
    too: once the working folder changes it leads elsewhere, and nothing is made
    there."""
    p = Path(os.path.abspath(path))
    rel = None if path.is_absolute() else Path(os.path.normpath(path))
    holds: list[tuple[Path, tuple[int, int] | None]] = []
    with _HELD_LOCK:
        t = time.monotonic()
        _HELD[:] = [h for h in _HELD if h.until > t]
        for h in _HELD:
            if h.path == p or h.path in p.parents:
                holds.append((h.path, h.id))
            elif rel is not None and not h.given.is_absolute() and h.given in (rel, *rel.parents):
                # a relative path of the folder, the working folder changed since: where
                # it leads now is another folder (its id), not one to make
                holds.append((Path(os.path.abspath(h.given)), h.id))
    if not holds:
        path.mkdir(parents=True, exist_ok=True)
        return
    root, held = max(holds, key=lambda h: len(h[0].parts))  # (the innermost)
    now = folder_id(root)
    if now is None or (held is not None and now != held):
        raise FileNotFoundError(
            errno.ENOENT, "No such file or directory (the run folder went away)", str(root)
        )
    cur = root
    for part in p.relative_to(root).parts:
        cur = cur / part
        try:
            os.mkdir(cur)  # (its parent gone meanwhile: FileNotFoundError, nothing made)
        except FileExistsError:
            # a file there: refused as `mkdir -p` refuses it (File exists at the end,
            # Not a directory below it)
            if cur == p and not cur.is_dir():
                raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    make_dirs(path.parent)
    tmp = tmp_path_for(path)
    try:
        tmp.write_bytes(data)
        commit_file(tmp, path)
    except BaseException:
        # a half-written temp (a full disk) would hold its space until the next render
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def folder_name(title: str, max_len: int = 60) -> str:
    """The default run folder's name for a title: its `slugify` when every letter and
    digit in it is Latin (as always: runs made before are found by it), else its own
    words, lowercased and dash-separated, Latin ones folded to ASCII as `slugify` does
    ("Привет Мир 2027" -> привет-мир-2027, "東京 Dreams" -> 東京-dreams). `slugify` gave
    every title of no Latin letter the one folder "movie", and a title mixing scripts
    only its Latin words: "Привет Мир 2027" and "Пока Мир 2027" shared outputs/2027,
    where the second movie replaced the first's movie.mp4. Combining marks stay with
    their letters (Devanagari's vowel signs split words before). At most `max_len`
    characters (well under a file name's 255 bytes in UTF-8)."""
    text = unicodedata.normalize("NFKC", title).lower()
    if all(_latin(ch) for ch in text if ch.isalnum()):
        return slugify(title, max_len)
    parts: list[str] = []
    for ch in text:
        if ch.isascii() and ch.isalnum():
            parts.append(ch)
        elif ch.isalnum():
            folded = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            parts.append(folded if _latin(ch) else ch)
        elif unicodedata.category(ch).startswith("M") and parts and not parts[-1].isascii():
            parts.append(ch)  # a mark of the letter before it (a vowel sign, a virama)
        else:
            parts.append("-")
    name = re.sub(r"-+", "-", "".join(parts)).strip("-")[:max_len].strip("-") or "movie"
    if unnamable(name):
        # file names in an encoding without these letters (the C locale with PYTHONUTF8=0,
        # Latin-1): made of the name's UTF-8 bytes, the folder a UTF-8 locale makes; the
        # name as it was, a UnicodeEncodeError traceback before any work
        return os.fsdecode(name.encode("utf-8"))
    return name


def _latin(ch: str) -> bool:
    """Is letter or digit `ch` ASCII or a Latin letter? (`slugify` folds the ones NFKD
    decomposes, é to e; ß, ø, æ, ł decompose to nothing and are dropped: "Straße" is
    strae. Kept so: a run is found again by its folder's name.)"""
    return ch.isascii() or unicodedata.name(ch, "").startswith("LATIN ")


def folder_names_before(title: str) -> tuple[str, ...]:
    """The names `folder_name` gave a title's run folder before: `slugify`'s (every
    title until titles in other scripts got their own words; a title mixing scripts
    until it kept them all), and its own words split at every mark (Devanagari's vowel
    signs), as for a title of no Latin letter. A run folder so named is the title's."""
    words = re.sub(r"[\W_]+", "-", unicodedata.normalize("NFKC", title).lower())
    return slugify(title), words.strip("-")[:60].strip("-") or "movie"


def slugify(text: str, max_len: int = 60) -> str:
    """ASCII, lowercase, dash-separated; never empty."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")
    return slug[:max_len].strip("-") or "movie"


#: how `path_record` marks a path it wrote percent-encoded
_ENCODED_PATH = "file:"


def path_record(path: str) -> str:
    """`path` as text SQLite can keep (UTF-8): itself, or for a name whose bytes are not
    UTF-8 (a folder unpacked from an old Windows zip: Python reads them as lone
    surrogates, which SQLite refuses) "file:" and the bytes percent-encoded, as a file
    URI has them. `path_of_record` reads either back."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        if not path.startswith(_ENCODED_PATH):
            return path
    return _ENCODED_PATH + urllib.parse.quote(os.fsencode(path))


def path_of_record(text: str | None) -> str | None:
    """The path `path_record` wrote as `text` (None stays None)."""
    if text is None or not text.startswith(_ENCODED_PATH):
        return text
    return os.fsdecode(urllib.parse.unquote_to_bytes(text[len(_ENCODED_PATH) :]))


def twin_path(path: Path) -> Path | None:
    """The entry `path` names as macOS and Windows find it, when Linux does not: a name
    composed otherwise (NFD, as macOS writes "café.jpg": "e" and a combining accent)
    than the one written (NFC, as typed), or in other capitals ("Photos/Me.JPG" for
    "photos/me.jpg"), is the same name to a person and to those systems' filesystems,
    but not to Linux's: a project copied from a Mac or a PC said "photo not found" of a
    file `ls` showed there. None when `path` is there as written, or not exactly one
    entry of a folder matches."""
    if os.path.lexists(path):
        return None
    cur = Path(path.parts[0])
    changed = False
    for part in path.parts[1:]:
        if os.path.lexists(cur / part):
            cur = cur / part
            continue
        names = alike_entries(cur / part)
        if len(names) != 1:
            return None
        cur, changed = cur / names[0], True
    return cur if changed else None


def alike_entries(path: Path) -> list[str]:
    """The names in `path`'s folder that `twin_path` takes for `path`'s name (sorted; []
    when the folder cannot be read). Two or more are not told apart (Linux can hold
    `me.jpg` and `ME.jpg`): the message names them, where it said only "not found"."""
    want = _alike(path.name)
    try:
        return sorted(n for n in os.listdir(path.parent) if _alike(n) == want)
    except (OSError, ValueError):
        return []


def _alike(name: str) -> str:
    """`name` as a case-insensitive, normalising filesystem compares it."""
    return unicodedata.normalize("NFC", name).casefold()


def temp_folder_problem() -> str | None:
    """Why no temp folder this user can write is there (TMPDIR, else /tmp, /var/tmp,
    /usr/tmp or the working folder: `tempfile.gettempdir`), and what to do; None when
    one is. `render` refuses to start without one and `doctor` fails its row, in the
    same words."""
    import tempfile

    try:
        tempfile.gettempdir()
    except FileNotFoundError as e:
        return f"{e.strerror}: set TMPDIR to a folder this user can write"
    return None


def is_file(path: Path) -> bool:
    """`path.is_file()`, False instead of an OSError for a name longer than the system
    allows (Python 3.11's pathlib raises ENAMETOOLONG there: a traceback for a typo'd
    or pasted path, where "not found" is the answer)."""
    try:
        return path.is_file()
    except OSError:
        return False
