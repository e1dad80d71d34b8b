"""A first goals.yaml: a commented template, or one written from a few guided questions.

Why: a blank page is the hardest part. The template shows every field with a comment
and loads as it is (photos and music are commented out, since their files would not
exist yet); the guided mode asks in plain words and writes a file that is checked with
``load_goals`` before it replaces anything, so what it writes always renders.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import yaml
from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt
from rich.text import TextType

from mindmovie.config import ConfigError
from mindmovie.fsutil import (
    CWD_GONE,
    atomic_write_text,
    commit_file,
    cwd_gone,
    link_note,
    tmp_path_for,
)
from mindmovie.goals import (
    KNOWN_CATEGORIES,
    MAX_GOALS,
    MAX_PHOTOS,
    MAX_SCENES_PER_GOAL,
    MAX_TEXT,
    load_goals,
)
from mindmovie.goals import _find_file as find_file
from mindmovie.goals import _image_problem as image_problem
from mindmovie.yamlsrc import given_text, is_blank

GOALS_NAME = "goals.yaml"

#: ``ask(question, default=None) -> answer``; rich's ``Prompt.ask`` by default.
#: Empty input returns ``default`` when one is given (as rich does).
Ask = Callable[..., str]

TEMPLATE = """\
# goals.yaml: the goals your mind movie is made from, in your own words.
#
#   mindmovie render goals.yaml
#
# Each goal becomes one or more scenes: a picture, a few seconds of gentle motion, and a
# short first-person affirmation on screen. Write the way you would tell a friend; you can
# edit every scene afterwards in the run's plan.yaml.
# Required: `title`, and for each goal `category` and `vision`. Everything else is optional.
# Paths (photos, music) are relative to this file.

title: My Dream Life

# Optional. Who the movie is about: `description` helps image models draw you; `photos`
# give them your likeness. (The offline render shows a goal's own photos, cropped to fill
# the frame.) Take the #s off and write yourself: left as it is, every picture a paid
# model makes would show a stranger described here.
#person:
#  description: Tall man, short brown hair, blue eyes
#  photos: [me.jpg]

# Optional. One visual style for every scene.
style: warm cinematic light

goals:
  - category: health       # health, wealth, career, relationships, growth, lifestyle,
                           # or your own word (it picks the colours and mood)
    vision: Vibrant and energetic every day            # required: what you want, in a line
    details: Running on a coastal trail at sunrise     # optional: what the picture shows
    actions: Running, yoga on a sunlit deck            # optional: what you do to get there
    feelings: Powerful, alive, grateful                # optional: how it feels
    affirmation: I am radiantly healthy                # optional: your own on-screen line
    #photos: [run1.jpg, run2.jpg]                      # optional: pictures for this goal
    scenes: 2                                          # optional: scenes for this goal (1-6)

  - category: wealth
    vision: Debt-free, with savings that let me say yes to what matters
    feelings: Secure, calm, generous

  - category: relationships
    vision: Long dinners in the garden with the people I love
    details: String lights in the trees, candles on the table, everyone laughing
    feelings: Loved, connected

# Optional. The line on the closing card.
closing: I am grateful for my beautiful life

# Optional. Background music (mp3, m4a, wav...); a built-in calm bed otherwise.
#music: calm.mp3
"""


#: the template's line saying how to render it (`template_for` names the file in it)
_RENDER_LINE = "#   mindmovie render goals.yaml\n"


def typed(path: Path) -> str:
    """``path`` as one shell word a command takes as a file: quoted where the shell
    splits it (`my movie/goals.yaml`), and `./` before a name starting with "-"
    (`mindmovie render -x/goals.yaml` was "No such option: -x")."""
    text = str(path)
    return shlex.quote(f"./{text}" if text.startswith("-") else text)


def template_for(dest: Path) -> str:
    """`TEMPLATE` written to ``dest``: its render line names ``dest`` as `init` was given
    it, shell-quoted, as the "next:" line `init` prints does. `init proj` wrote a file
    saying `mindmovie render goals.yaml`, a file the person did not have where they typed
    it. A path that cannot stand in one comment line (a newline in it, a byte that is not
    text) leaves the line as it is."""
    shown = typed(dest)
    if not shown.isprintable():
        return TEMPLATE
    return TEMPLATE.replace(_RENDER_LINE, f"#   mindmovie render {shown}\n", 1)


class InitPathError(ConfigError):
    """The folder given to ``init`` cannot hold a goals.yaml (it is a file, or cannot be
    created or written). ``str()`` names the path and the problem in one line; a
    ``ConfigError`` so the CLI prints it as a usage error, never a traceback."""


def _problem(e: OSError) -> str:
    """An OSError's reason in plain lower-case words ("permission denied")."""
    if isinstance(e, PermissionError):
        return "permission denied"
    if e.errno == errno.EROFS:
        return "the file system is read-only"
    if e.errno == errno.ENOSPC:
        return "no space left on the device"
    return (e.strerror or str(e)).lower()


def _exists(path: Path) -> bool:
    """Whether something is at ``path`` (a link to nothing too); False for a name too
    long for the system (mkdir then says so)."""
    try:
        return path.exists() or path.is_symlink()
    except OSError:
        return False


def _file_in_the_way(folder: Path) -> Path | None:
    """``folder`` or the nearest of its parents that exists, if that is not a folder."""
    for p in (folder, *folder.parents):
        try:
            if p.exists():
                return None if p.is_dir() else p
        except OSError:  # a name too long for the system: mkdir then says so
            continue
    return None


def _link_to_nothing(folder: Path) -> Path | None:
    """``folder`` or the nearest of its parents that is a symbolic link leading nowhere
    (to a folder gone, or back to itself), or None."""
    for p in (folder, *folder.parents):
        try:
            if p.is_symlink() and not p.exists():
                return p
        except OSError:
            return None
    return None


def _ensure_folder(dest_dir: Path) -> Path:
    """Create ``dest_dir`` if needed; return ``dest_dir/goals.yaml``.

    Raises ``InitPathError`` naming the path when ``dest_dir`` (or a parent) is a file,
    when it cannot be created, or when goals.yaml there is a folder.
    """
    if dest_dir.suffix.lower() in (".yaml", ".yml") and not _exists(dest_dir):
        # `init proj/goals.yaml` made a folder named goals.yaml holding goals.yaml
        raise InitPathError(
            f"{dest_dir} names a file; give the folder and init writes {GOALS_NAME} in it "
            f"(mindmovie init {typed(dest_dir.parent)})"
        )
    blocker = _file_in_the_way(dest_dir)
    if blocker == dest_dir:
        raise InitPathError(f"{dest_dir} is a file, not a folder; give the folder for goals.yaml")
    if blocker is not None:
        raise InitPathError(f"cannot create folder {dest_dir}: {blocker} is a file, not a folder")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        why = _problem(e)
        if (link := _link_to_nothing(dest_dir)) is not None:
            # "file exists" or "too many levels of symbolic links" named no link
            why = f"{link} is a link to {os.readlink(link)}, which is missing or leads back to it"
        elif e.errno == errno.ENOENT and not dest_dir.is_absolute() and cwd_gone():
            why = CWD_GONE  # (it said ". does not accept new folders")
        elif e.errno == errno.ENOENT:  # e.g. under /proc: the parent is there but says no
            parent = next((p for p in dest_dir.parents if p.is_dir()), None)
            if parent is not None:
                why += f" ({parent} does not accept new folders)"
        raise InitPathError(f"cannot create folder {dest_dir}: {why}") from None
    dest = dest_dir / GOALS_NAME
    if dest.is_dir():
        raise InitPathError(f"{dest} is a folder, not a file; move it or pick another folder")
    return dest


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first: what
    ``_ensure_folder`` is about to make."""
    missing: list[Path] = []
    for p in (folder, *folder.parents):
        try:
            if p.exists():
                break
        except OSError:  # a name too long for the system: never made, but its parents may be
            continue
        missing.append(p)
    return missing


def _remove_if_empty(folders: list[Path]) -> None:
    """Remove the folders ``init`` made (deepest first), as long as they are empty."""
    for p in folders:
        try:
            p.rmdir()
        except (FileNotFoundError, NotADirectoryError):  # not made (mkdir stopped before)
            continue
        except OSError as e:
            if e.errno == errno.ENAMETOOLONG:  # a name mkdir refused: never made
                continue
            return  # something was put there meanwhile: it stays, and its parents


def _cannot_write(dest: Path, e: OSError) -> InitPathError:
    if not dest.is_absolute() and cwd_gone():
        # "no such file or directory" of a folder the person is in (removed since)
        return InitPathError(f"cannot write {dest}: {CWD_GONE}")
    return InitPathError(f"cannot write {dest}: {_problem(e)}")


def _taken(dest: Path) -> bool:
    """Whether something is at `dest`: a link to nothing counts (`exists()` says no, and
    the write replaced the person's link with a file)."""
    return dest.exists() or dest.is_symlink()


#: where `init --force` (or a "Replace it?" answered yes) keeps the goals.yaml it
#: replaces, named as a run keeps its plan.yaml when it plans again (plan.previous.yaml)
PREVIOUS_NAME = "goals.previous.yaml"


def _same_entry(a: Path, b: Path) -> bool:
    """Do `a` and `b` hold the same: two files of the same bytes, or two symbolic links
    to the same place?"""
    try:
        if a.is_symlink() or b.is_symlink():
            return a.is_symlink() and b.is_symlink() and os.readlink(a) == os.readlink(b)
        return a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def _keep_previous(dest: Path, text: str) -> list[Path]:
    """Copy goals.yaml at `dest`, about to be replaced by `text`, to goals.previous.yaml
    beside it; return where it went, then where an older, different goals.previous.yaml
    was moved (goals.previous.N.yaml, as plan.yaml's copies are). `init --force`
    replaced a goals.yaml edited for hours with the template and kept nothing. Nothing
    is copied for a goals.yaml that already reads `text` (nothing is lost) or a copy
    that goals.previous.yaml already holds; a link is kept as the link it is. Raises
    InitPathError when the copy cannot be made (goals.yaml is then left as it was)."""
    try:
        if not _taken(dest) or (dest.is_file() and dest.read_bytes() == text.encode("utf-8")):
            return []
        backup = dest.with_name(PREVIOUS_NAME)
        kept: list[Path] = [backup]
        if _taken(backup) and not _same_entry(backup, dest):
            n = 1
            while _taken(older := dest.with_name(f"goals.previous.{n}.yaml")):
                if _same_entry(older, backup):
                    break  # already kept there: goals.previous.yaml may take the new copy
                n += 1
            else:
                os.replace(backup, older)
                kept.append(older)
        tmp = tmp_path_for(backup)
        try:
            shutil.copy2(dest, tmp, follow_symlinks=False)
            os.replace(tmp, backup)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
    except OSError as e:
        raise InitPathError(
            f"cannot keep {dest} as {PREVIOUS_NAME} before replacing it: {_problem(e)}; "
            "it was left as it was"
        ) from None
    return kept


def write_template(dest_dir: Path, *, force: bool = False, kept: list[Path] | None = None) -> Path:
    """Write the commented template as ``dest_dir/goals.yaml``; return its path.

    Its render line names the file as ``dest_dir`` was given (`template_for`).

    Raises ``FileExistsError`` if goals.yaml is already there (a person's goals are never
    overwritten by accident), unless ``force``: then the old one is kept as
    goals.previous.yaml first, and ``kept`` is given where (`_keep_previous`).
    ``InitPathError`` if ``dest_dir`` is a
    file or cannot be created or written. When goals.yaml cannot be written, the folders
    it made for it are removed again (only those, and only while they are empty).
    """
    made = _missing_folders(dest_dir)
    try:
        dest = _ensure_folder(dest_dir)
        if _taken(dest) and not force:
            raise FileExistsError(
                f"{dest} already exists{link_note(dest)}; not overwriting it "
                "(use --force to replace it)"
            )
        text = template_for(dest)
        moved = _keep_previous(dest, text)
        try:
            atomic_write_text(dest, text)
        except OSError as e:
            raise _cannot_write(dest, e) from None
    except BaseException:
        # a full disk, a path too long for the system, a last folder that cannot be made:
        # the folders made for it go too (they were left behind, empty), as `guided` does
        _remove_if_empty(made)
        raise
    if kept is not None:
        kept += moved
    return dest


#: characters no answer is typed with: controls (the ESC of an arrow key's "\x1b[D", a
#: backspace that came through as \x7f or \x08) but tab, and lone surrogates (a byte that
#: is not UTF-8: a terminal set to another encoding)
_NOT_TEXT = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")


class _Prompt(Prompt):
    """rich's Prompt, but on a terminal with line editing (readline) the question is
    input()'s own prompt. rich printed it and readline read with no prompt, and then
    Enter on an empty answer wrote no newline: the next question ran on on the same
    line ('[career] How does it feel? (optional): [career] Your own affirmation ...')."""

    @classmethod
    def get_input(
        cls, console: Console, prompt: TextType, password: bool, stream: TextIO | None = None
    ) -> str:
        if stream is None and sys.stdout is None and sys.stdin is not None:
            # stdout closed (`init --guided >&-`): input() raised RuntimeError "input():
            # lost sys.stdout", a traceback. The answer is read as input() reads it (the
            # question is shown nowhere, as all the command's output), so answers from a
            # file still make goals.yaml; their end is the end of the answers (EOFError)
            line = sys.stdin.readline()
            if not line:
                raise EOFError
            return line.removesuffix("\n")
        if (
            password
            or stream is not None
            or "readline" not in sys.modules
            or console.file is not sys.stdout
            or not console.is_terminal
            or sys.stdin is None
            or not sys.stdin.isatty()
        ):
            return super().get_input(console, prompt, password, stream)
        with console.capture() as shown:
            console.print(prompt, end="")
        # readline counts the prompt's width to edit the line: its style codes are
        # marked as taking no room (\001 ... \002)
        return input(re.sub(r"(\x1b\[[0-9;]*m)", "\x01\\1\x02", shown.get()))


def _rich_ask(console: Console) -> Ask:
    # line editing for input(): without it the arrow keys typed to correct an answer
    # went into it as escape codes (a title "My Tilte\x1b[D\x1b[D", drawn on the card)
    with contextlib.suppress(ImportError):  # not on every platform (Windows)
        import readline  # noqa: F401

    def ask(question: str, *, default: str | None = None) -> str:
        if sys.stdin is None:  # stdin closed (`0<&-`): input() raised RuntimeError
            raise EOFError
        text = escape(question)  # "[y/n]" and "[health]" are words here, not rich markup
        while True:
            if default is None:
                answer = str(_Prompt.ask(text, console=console))
            else:
                answer = str(
                    _Prompt.ask(text, console=console, default=default, show_default=bool(default))
                )
            # answers saved by Windows Notepad start with a byte order mark: it went into
            # the title as an escaped "\uFEFF" the person never typed
            answer = answer.removeprefix("\ufeff")
            if not sys.stdin.isatty():
                # answers read from a file or a pipe are not echoed as typed ones are:
                # each question ran into the next on one line ("...(My Dream Life): Goal
                # 1: category ...: [health] Your vision..."), no answer shown
                # (what is not text, an ESC or a stray byte, shown as such, not sent
                # to a terminal as part of an escape code)
                shown = _NOT_TEXT.sub("\N{REPLACEMENT CHARACTER}", answer)
                console.print(shown, markup=False, highlight=False, soft_wrap=True)
            # a byte that is not UTF-8 arrives as a lone surrogate (written to goals.yaml
            # it would not load); a key that is not a letter as a control character
            if not _NOT_TEXT.search(answer):
                return answer
            console.print(
                "[yellow]Some characters did not come through as text (an arrow or other "
                "editing key, or a terminal not set to UTF-8?); please type that "
                "again.[/yellow]"
            )

    return ask


def _too_long(console: Console, answer: str) -> bool:
    """Whether an answer is longer than goals.yaml takes (`MAX_TEXT`): said, to ask again
    (written, the file would not load and every answer was lost)."""
    if len(answer) <= MAX_TEXT:
        return False
    console.print(
        f"[yellow]That is {len(answer)} characters; goals.yaml takes at most {MAX_TEXT} "
        "here. Please write it shorter.[/yellow]"
    )
    return True


def _required(ask: Ask, console: Console, question: str, default: str | None = None) -> str:
    """Ask until the answer is not blank (a zero-width space alone is: `is_blank`) and
    not longer than goals.yaml takes."""
    while True:
        answer = ask(question, default=default).strip()
        if is_blank(answer):
            console.print("[yellow]Please write something here.[/yellow]")
        elif not _too_long(console, answer):
            return answer


def _optional(ask: Ask, question: str, console: Console) -> str | None:
    """An answer that may be left out (blank: None); asked again while too long."""
    while True:
        answer = given_text(ask(question, default=""))
        if answer is None or not _too_long(console, answer):
            return answer


def _yes(ask: Ask, question: str, default: bool) -> bool:
    """A yes/no question through the same ``ask`` (so one scripted list drives a session).
    Another answer asks again, saying what it takes: it repeated the question alone."""
    asked = f"{question} [y/n]"
    while True:
        answer = ask(asked, default="y" if default else "n").strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        asked = f"Please answer y or n. {question} [y/n]"


def _dropped(text: str, base: Path) -> list[str] | None:
    """The files of ``text`` read as a shell reads words, when it names none as typed
    and each of its words is a file (None otherwise): a file dragged into a terminal
    arrives quoted ('/home/me/my photo.jpg', Linux and Windows) or with its spaces
    escaped (/Users/me/my\\ photo.jpg, macOS), several dragged at once separated by
    spaces. Each was "Not found" with the path right there in the message."""
    try:
        words = shlex.split(text)
    except ValueError:  # a quote never closed
        return None
    if not words or words == [text]:
        return None
    return words if all(find_file(w, base, "photo")[0] is not None for w in words) else None


def _named(text: str, base: Path) -> list[str] | None:
    """The photo paths ``text`` names: itself when it is a file, or the files dragged
    into the terminal it holds (`_dropped`); None when it names none."""
    if find_file(text, base, "photo")[0] is not None:
        return [text]
    return _dropped(text, base)


def _photo_items(raw: str, base: Path) -> list[str]:
    """The photo paths of a comma-separated answer. A comma can be part of a file's name
    ("Beach, 2019.jpg"): pieces are joined again, with the comma, while they name no file
    and the joined name does; otherwise each piece is a path of its own."""
    pieces = raw.split(",")
    items: list[str] = []
    i = 0
    while i < len(pieces):
        item, used = pieces[i].strip(), 1
        named = _named(item, base) if item else None
        if item and named is None:
            for j in range(i + 1, len(pieces)):
                joined = ",".join(pieces[i : j + 1]).strip()
                if (named := _named(joined, base)) is not None:
                    used = j + 1 - i
                    break
        if named is not None:
            items += named
        elif item:
            items.append(item)
        i += used
    return items


def _photos(ask: Ask, console: Console, base: Path, question: str) -> list[str]:
    """Comma-separated photo paths, asked again until every one is a picture goals.yaml
    can use (or none given): checked as ``load_goals`` checks them, so a file that is not
    a picture (notes.txt, an iPhone's HEIC) is said here, not after the last question
    (when the file would not load and every answer was lost)."""
    while True:
        raw = ask(question, default="").strip()
        items = _photo_items(raw, base)
        if len(items) > MAX_PHOTOS:
            console.print(
                f"[yellow]That is {len(items)} photos; a goal takes at most {MAX_PHOTOS}. "
                "Type the paths again, or press Enter for no photos.[/yellow]"
            )
            continue
        missing, unusable = [], []
        for item in items:
            found, why = find_file(item, base, "photo")
            if found is None and str(why).startswith("photo not found"):
                missing.append(item)
            elif found is None:  # a folder, a name too long: said as goals.yaml says it
                unusable.append(f"{item}: {why}")
            elif bad := image_problem(found):
                unusable.append(f"{item} {bad}")
        if not missing and not unusable:
            return items
        if missing:
            console.print(
                f"[yellow]Not found (relative to {escape(str(base.absolute()))}): "
                f"{escape(', '.join(missing))}.[/yellow]"
            )
        for line in unusable:
            console.print(f"[yellow]{escape(line)}.[/yellow]")
        console.print("[yellow]Type the paths again, or press Enter for no photos.[/yellow]")


def _category(ask: Ask, console: Console, number: int) -> str | None:
    """The next goal's category; None when the person is done (after at least one)."""
    question = f"Goal {number}: category (a word from the list, or your own)"
    if number == 1:
        answer = _required(ask, console, question)
    else:
        done = _optional(ask, f"{question}; Enter when done", console)
        if done is None:
            return None
        answer = done
    return answer.lower() if answer.lower() in KNOWN_CATEGORIES else answer


def guided(
    console: Console,
    dest_dir: Path,
    ask: Ask | None = None,
    *,
    force: bool = False,
    kept: list[Path] | None = None,
) -> Path:
    """Ask for a title, goals and a closing line; write ``dest_dir/goals.yaml``; return it.

    ``ask(question, default=None) -> str`` is how each question is put (rich's
    ``Prompt.ask`` on ``console`` by default; tests pass a scripted one). Yes/no questions
    go through it too, answered ``y``/``n``. If goals.yaml exists the person is asked
    before it is replaced (``FileExistsError`` if not), unless ``force``; the one replaced
    is kept as goals.previous.yaml, and ``kept`` given where (`_keep_previous`). The file is
    written to a temp name, checked with ``load_goals``, then renamed into place.
    ``InitPathError`` (before any question) if ``dest_dir`` is a file or cannot be
    created. Prints no summary: the caller says where the file is and what comes next.
    Stopped before goals.yaml is in place (EOF, Ctrl-C, any error), it removes the
    folders it made for it, while they are empty.
    """
    ask = ask or _rich_ask(console)
    made = _missing_folders(dest_dir)
    try:
        dest = _ensure_folder(dest_dir)  # before any question: a folder it cannot make is said
        _check_writable(dest)  # and one that takes no file
        return _ask_and_write(console, dest, ask, force=force, kept=kept)
    except BaseException:
        # stdin closed (EOF), Ctrl-C or any failure before goals.yaml is in place: the
        # folders made for it went too (they were left behind, empty)
        _remove_if_empty(made)
        raise


def _check_writable(dest: Path) -> None:
    """Make and remove goals.yaml's temp file beside ``dest``: a folder that takes no new
    file (read-only, another user's, a path too long) was found only when the answers
    were written, after every question, and all the answers typed were lost."""
    tmp = tmp_path_for(dest)
    try:
        tmp.touch()
    except OSError as e:
        raise _cannot_write(dest, e) from None
    with contextlib.suppress(OSError):
        tmp.unlink()


def _ask_and_write(
    console: Console, dest: Path, ask: Ask, *, force: bool, kept: list[Path] | None
) -> Path:
    dest_dir = dest.parent
    if (
        _taken(dest)
        and not force
        and not _yes(ask, f"{dest} exists{link_note(dest)}. Replace it?", default=False)
    ):
        raise FileExistsError(f"{dest} already exists{link_note(dest)}; left as it was")

    console.print(
        "[bold]Let's write your goals.[/bold] Short answers are fine; you can edit "
        f"{GOALS_NAME} afterwards to add more (details, actions, style, music)."
    )
    title = _required(ask, console, "Title of your movie", default="My Dream Life")
    console.print(
        "Categories: " + ", ".join(KNOWN_CATEGORIES) + ", or your own word. "
        # the folder in full: `init --guided` (here) said "relative to ."
        f"Photo paths are relative to {escape(str(dest_dir.absolute()))}."
    )
    goals: list[dict[str, Any]] = []
    while len(goals) < MAX_GOALS and (category := _category(ask, console, len(goals) + 1)):
        goal: dict[str, Any] = {
            "category": category,
            "vision": _required(ask, console, f"[{category}] Your vision, in one line"),
        }
        feelings = _optional(ask, f"[{category}] How does it feel? (optional)", console)
        if feelings:
            goal["feelings"] = feelings
        affirmation = _optional(ask, f"[{category}] Your own affirmation (optional)", console)
        if affirmation:
            goal["affirmation"] = affirmation
        photos = _photos(ask, console, dest_dir, f"[{category}] Photos, comma-separated (optional)")
        given = photos or []
        photos = list(dict.fromkeys(given))  # (a photo given twice: once, said so)
        if len(photos) < len(given):
            console.print(f"[{category}] a photo given twice is kept once.", markup=False)
        if photos:
            goal["photos"] = photos
        if len(photos) > 1:
            # one scene a photo, so the offline movie shows each: a goal of 3 photos and
            # the default 1 scene showed the first only, said only by the render's
            # warning (first-user audit)
            goal["scenes"] = min(len(photos), MAX_SCENES_PER_GOAL)
            left = len(photos) - goal["scenes"]
            console.print(
                f"[{category}] {goal['scenes']} scenes, one for each photo"
                + (f" (the last {left} not shown: {MAX_SCENES_PER_GOAL} at most)" if left else "")
                + "; change `scenes:` in goals.yaml to change that.",
                markup=False,
            )
        goals.append(goal)
        if len(goals) == MAX_GOALS:  # a 31st would make a goals.yaml that does not load
            console.print(f"That is {MAX_GOALS} goals, the most one movie takes.")
    closing = _optional(ask, "Closing line (optional)", console)

    data: dict[str, Any] = {"title": title, "goals": goals}
    if closing:
        data["closing"] = closing
    text = (
        "# goals.yaml: written by mindmovie's guided questions. Edit freely; every field is\n"
        "# described in the README (person, style, details, actions, scenes, music).\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    )
    tmp = tmp_path_for(dest)
    try:
        try:
            tmp.write_text(text, encoding="utf-8")
        except OSError as e:
            raise _cannot_write(dest, e) from None
        load_goals(tmp)  # a guided file must load; never leave one that does not
        moved = _keep_previous(dest, text)
        if kept is not None:
            kept += moved
        try:
            commit_file(tmp, dest)
        except OSError as e:
            raise _cannot_write(dest, e) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return dest
