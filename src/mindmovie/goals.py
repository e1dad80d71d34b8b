"""goals.yaml schema and loader.

The person's own words. Errors must name the file, the line and the field, because the
person wrote this file by hand and should not have to read a traceback to fix a typo.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from mindmovie.fsutil import (
    BACKSLASH_HINT,
    alike_entries,
    home_unknown,
    sha256_file,
    twin_path,
    unnamable,
    windows_path_hint,
    windows_path_there,
)
from mindmovie.media import music_problem
from mindmovie.yamlsrc import (
    ESCAPE_HINT,
    Loc,
    NonBlank,
    Problem,
    SourceError,
    YamlDoc,
    control_problems,
    format_loc,
    hashtag_notes,
    load_yaml,
    misspelt,
    odd_space_in,
    require_mapping,
    validate,
)

KNOWN_CATEGORIES = ("health", "wealth", "career", "relationships", "growth", "lifestyle")

#: the limits of a goals.yaml, so that whatever it holds can be planned, written to
#: plan.yaml and read back (before, 2,500 goals of 6 scenes made a plan its own reader
#: refused): a mind movie is a few dozen scenes, and 30 goals of 6 is 180 (15 minutes)
MAX_GOALS = 30
#: scenes one goal may ask for (`scenes:`; config's `plan.scenes_per_goal` too)
MAX_SCENES_PER_GOAL = 6
#: photos per goal and for the person: no model takes more than 10 references, and a
#: goal's photos rotate over its scenes (6 at most)
MAX_PHOTOS = 10
#: characters in one text field: a paragraph; each goal's texts go into every one of its
#: scenes' prompts, so this bounds plan.yaml's size (and no image model reads more)
MAX_TEXT = 2000

Text = Annotated[str, Field(max_length=MAX_TEXT)]


class Person(BaseModel):
    """Who the movie is about; photos (absolute paths after loading) give likeness."""

    model_config = ConfigDict(extra="forbid")

    description: Text | None = None
    photos: list[Path] = Field(default_factory=list, max_length=MAX_PHOTOS)

    @field_validator("photos", mode="before")
    @classmethod
    def _one_photo(cls, v: Any) -> Any:
        """`photos: me.jpg` is how a person writes a single photo."""
        return [v] if isinstance(v, (str, Path)) else v


class Goal(BaseModel):
    """One goal; becomes `scenes` scenes (default from config)."""

    model_config = ConfigDict(extra="forbid")

    category: Annotated[NonBlank, Field(max_length=MAX_TEXT)]
    vision: Annotated[NonBlank, Field(max_length=MAX_TEXT)]
    details: Text | None = None
    actions: Text | None = None
    feelings: Text | None = None
    affirmation: Text | None = None
    photos: list[Path] = Field(default_factory=list, max_length=MAX_PHOTOS)
    scenes: int | None = Field(default=None, ge=1, le=MAX_SCENES_PER_GOAL)

    @field_validator("photos", mode="before")
    @classmethod
    def _one_photo(cls, v: Any) -> Any:
        """`photos: run.jpg` is how a person writes a single photo."""
        return [v] if isinstance(v, (str, Path)) else v


class Goals(BaseModel):
    """The whole goals.yaml. Paths are resolved against the goals file's directory."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[NonBlank, Field(max_length=MAX_TEXT)]
    person: Person | None = None
    style: Text | None = None
    goals: list[Goal] = Field(min_length=1, max_length=MAX_GOALS)
    closing: Text | None = None
    music: Path | None = None
    #: what loaded but may not be what the person meant (`load_goals`): said as warnings
    _notes: list[str] = PrivateAttr(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return self._notes


class GoalsError(SourceError):
    """goals.yaml is wrong. ``str()`` reads like
    ``examples/goals.yaml:12: goals[2].vision: field required``.

    ``path`` is the goals file as given, ``line`` 1-based (``None`` when the whole file is
    the problem, e.g. not found), ``field`` dotted with **1-based** list indices
    (``goals[2]`` is the second goal, as the person counts them), ``message`` says what
    is wrong. With several problems the earliest line is reported and the message ends
    with ``(and N more problems)``; all are in ``problems``.
    """


_GOALS_EXAMPLE = "`title:` and `goals:`"


_LOOP = "a symbolic link that leads back to itself"


def _leads_back(path: Path) -> bool:
    """Whether following `path` meets a symbolic link loop (ELOOP): Python 3.13's
    resolve() returns such a path as it is, where 3.11's and 3.12's raised RuntimeError,
    and the loop was then said "not found"."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _find_file(
    text: str, base: Path, what: str, nbsp_escape: bool = False, linked: Path | None = None
) -> tuple[Path | None, str | None]:
    """Resolve a path written in goals.yaml (relative to its directory); say why not.
    `nbsp_escape`: it was written in double quotes with a `\\_` (`YamlDoc.nbsp_escapes`).
    `linked`: the folder of the file goals.yaml is a symbolic link to, looked in second."""
    if not text.strip():
        return None, f"{what} path is empty"
    if "\0" in text:  # Path would raise "embedded null byte"
        return None, f"{what} path contains a NUL character (\\0): {text!r}"
    if why := unnamable(text):  # Path.resolve would raise UnicodeEncodeError
        return None, f"{what} cannot be used: {text!r} ({why})"
    try:
        written = Path(text).expanduser()
    except RuntimeError:  # `~name/me.jpg` for a user this system does not know, or no home
        return None, f"{what} not found: {text} ({home_unknown(text)})"
    alike: list[str] = []  # names in its folder that are its but for capitals or accents
    try:
        full = (written if written.is_absolute() else base / written).resolve()
        if _leads_back(full):  # Python 3.13's resolve() leaves a loop as it is
            return None, f"{what} cannot be used: {text} ({_LOOP})"
        if linked is not None and not written.is_absolute() and not os.path.lexists(full):
            # the exact name where goals.yaml's link leads, before a name alike beside
            # the link (`~/ME.JPG` was taken for the project's me.jpg)
            exact = (linked / written).resolve()
            if exact.is_file():
                return exact, None
        if (twin := twin_path(full)) is not None:
            full = twin.resolve()
        elif not os.path.lexists(full):
            folder = twin_path(full.parent) or full.parent  # (`Photos/` for `photos/`)
            alike = alike_entries(folder / full.name)
        if full.is_file():
            return full, None
        if full.exists():
            # the full path only when it says more than the one written: an absolute
            # path was said twice, "is not a file: /home/me/pics (/home/me/pics)"
            said = "" if written == full else f" ({full})"
            return None, f"{what} is not a file: {text}{said}"
    except OSError as exc:  # e.g. a name longer than the system allows
        return None, f"{what} cannot be used: {text} ({exc.strerror or exc})"
    except RuntimeError:  # a symbolic link loop: resolve() raised it in Python 3.11/3.12
        return None, f"{what} cannot be used: {text} ({_LOOP})"
    backslash = "\\" in text
    if backslash:
        # `photos\me.jpg`, written on Windows (or its path pasted): a backslash is part of
        # a file name here, and the photo beside goals.yaml was "not found"
        slashed, _ = _find_file(text.replace("\\", "/"), base, what, linked=linked)
        if slashed is not None:
            return slashed, None
    where = "" if written.is_absolute() else f" (looked in {base})"
    if linked is not None and not written.is_absolute():
        # goals.yaml a link to the project's (`ln -s ~/movie/goals.yaml`): its photos
        # are beside the file it leads to, and were "not found" beside the link
        there, _ = _find_file(text, linked, what, nbsp_escape)
        if there is not None:
            return there, None
        where = f" (looked in {base}, and in {linked}, where goals.yaml's link leads)"
    if len(alike) > 1:
        # `me.jpg` of `ME.jpg` and `Me.JPG` (one of them added since the last render
        # took the other): "not found" of files `ls` shows
        where += (
            f"; {' and '.join(alike)} are both named so but for capitals or accents, and "
            "neither is taken: write the name of the one meant exactly"
            if len(alike) == 2
            else f"; {', '.join(alike)} are all named so but for capitals or accents, and "
            "none is taken: write the name of the one meant exactly"
        )
    if text != text.strip():
        # `"me.jpg "` said "not found: me.jpg  (looked in ...)": the space did not show
        where += "; the path starts or ends with a space, which is part of a file name"
        text = repr(text)
    elif re.search("[\x01-\x1f\x7f-\x9f\u2028\u2029]", text):
        # `"C:\temp\new.jpg"`: YAML read \t and \n as a tab and a line break, and the
        # message was printed over two lines with the path's letters missing; so are
        # \P, \L and \N ("C:\Pictures\Nature.jpg") line breaks, \a \b \e \f \r \v
        # control characters
        where += "; the path holds a tab, line break or other control character" + ESCAPE_HINT
        text = repr(text)
    elif odd := odd_space_in(text):
        # `photos: [my\u00a0photo.jpg]`, a no-break space pasted in unquoted, was told
        # of control characters and backslashes inside " quotes: nothing was quoted
        where += f"; the path holds {odd}, which looks like a space and is not one"
        if nbsp_escape:  # (typed as a backslash and an underscore: no space to see)
            where += f' (inside " quotes, \\_ is read as one){ESCAPE_HINT}'
        text = repr(text)
    if backslash and ESCAPE_HINT not in where:
        where += f"; {BACKSLASH_HINT}"
    if re.match(r"(?i)(https?|ftp)://", text.strip()):
        # a link copied from a browser said only "not found (looked in <folder>)"
        where += "; a web address is not read: download the file and give its path"
    if var := re.search(r"\$\{?([A-Za-z_]\w*)", text):
        # `$HOME/me.jpg` said only "not found (looked in <folder>)"
        where += (
            f"; ${var.group(1)} is not replaced by its value here (only ~ is): write the path out"
        )
    return None, f"{what} not found: {text}{where}"


def _image_problem(path: Path) -> str | None:
    """Why a photo cannot be used (None when it can): a file that is not a picture
    Pillow reads would otherwise fail the render after the plan was paid for.

    Remembered per file state (the same file unchanged is not decoded again): a command
    checks each photo twice (load_goals, then check_plan), and a PNG is decoded whole,
    ~0.5 s for 12 MP."""
    try:
        st = path.stat()
    except OSError:
        return _image_problem_now(path, 1)  # said there, as the open fails
    # ctime too: a chmod changes whether it can be read, not its mtime
    return _image_problem_cached(str(path), st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _image_problem_cached(
    path: str, ino: int, mtime_ns: int, ctime_ns: int, size: int
) -> str | None:
    return _image_problem_now(Path(path), size)


#: formats Pillow reads by itself: one of them that fails to decode is damaged
_DECODED_HERE = frozenset({"JPEG", "MPO", "PNG", "GIF", "WEBP", "TIFF", "BMP"})


def _image_problem_now(path: Path, size: int) -> str | None:
    import warnings

    from PIL import UnidentifiedImageError

    from mindmovie.pillow import Image

    if size == 0:  # a copy that never started: not a format problem
        return "is empty (0 bytes)"
    identified: str | None = None  # the format, once the header and verify() passed
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Pillow's own notes on a photo it reads anyway ("Corrupt EXIF data"), printed
            # raw into the command's output with Pillow's source path
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            with Image.open(path) as img:
                # (before verify(): a PNG garbled midway fails its CRC check there)
                identified = img.format
                img.verify()
            # verify() reads the header only: decode the pixels too, at a reduced scale
            # where the format allows (JPEG), so a file cut short is found here
            with Image.open(path) as img:
                img.draft("RGB", (256, 256))
                img.load()
    except Image.DecompressionBombError:
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0) // 10**6
        return f"is too large to read safely (over {limit} megapixels); save a smaller copy"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        if isinstance(e, OSError) and e.errno is not None and e.strerror:
            # the system's refusal (permission denied, an I/O error), not the format's:
            # "not a picture" sent the person checking a photo that is fine
            return f"cannot be read ({e.strerror.lower()})"
        # "image file is truncated" (JPEG, GIF, TIFF), "Truncated File Read" (PNG),
        # "Truncated data" (AVIF)
        if "truncated" in str(e).lower():
            return "is cut short or damaged (the file ends before the picture does)"
        if _AVIF_BRANDS & set(_ftyp_brands(path)):
            from PIL import features

            if features.check("avif"):
                return "is an AVIF picture that is damaged or cut short"
            # Pillow reads AVIF from 11.2; pyproject allows older
            return (
                "is an AVIF picture, which cannot be read here (Pillow 11.2 or later "
                "reads it); export it as JPEG"
            )
        if _is_heif(path):
            # what an iPhone saves by default; Pillow reads it only with a plug-in
            return (
                "is a HEIC/HEIF photo, which cannot be read here; export it as JPEG "
                "(on an iPhone: Settings > Camera > Formats > Most Compatible)"
            )
        if identified in _DECODED_HERE:
            # a JPEG whose data is garbled midway was "not a picture" (odd-files audit);
            # a format Pillow names but cannot read here (EPS without Ghostscript) is not
            # damaged (the review)
            return (
                f"is a damaged {identified} picture (its picture data cannot be decoded); "
                "save or export it again"
            )
        return "is not a picture that can be read (JPEG, PNG, WebP, ...)"
    return None


def photo_has_transparency(path: Path) -> bool:
    """Whether a photo has any pixel that is not opaque. The offline keyframe of a photo
    with transparent parts shows the painted scene (the prompt's) through them; any other
    photo keyframe is the photo alone, and its key leaves the prompt out. True when it
    cannot be told (the key then keeps the prompt, as it always did)."""
    try:
        st = path.stat()
    except (OSError, ValueError):
        return True
    return _has_transparency(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _has_transparency(path: str, mtime_ns: int, size: int) -> bool:
    import warnings

    from mindmovie.pillow import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            with Image.open(path) as im:
                if "transparency" in im.info:  # a palette or grey value made transparent
                    return True
                if "A" not in im.getbands() and "a" not in im.getbands():
                    return False  # no alpha channel: JPEG, most photos (header only)
                # an alpha channel that is all opaque (common for PNGs) shows nothing
                # through it: `local_media.fit_photo` drops it
                low = im.getchannel("A" if "A" in im.getbands() else "a").getextrema()[0]
                return not isinstance(low, (int, float)) or low < 255
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return True  # not told: the key keeps the prompt


def photo_colours_tagged(path: Path) -> bool:
    """Whether `local_media.fit_photo` converts this photo's colours by a tag other than
    an ICC profile (`pillow.tagged_colours`), which it has done since 2026-12-06: only
    such a photo's keyframe key holds the fit of that day (`pipeline.photo_fit`). False
    when it cannot be read (the fit fails on it too)."""
    try:
        st = path.stat()
    except (OSError, ValueError):
        return False
    return _colours_tagged(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _colours_tagged(path: str, mtime_ns: int, size: int) -> bool:
    import warnings

    from mindmovie.pillow import Image, tagged_colours

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            with Image.open(path) as im:
                return tagged_colours(im, Path(path)) is not None
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return False


def photo_fit_never_changed(path: Path) -> bool:
    """Whether `local_media.fit_photo` has made the same pixels of this photo since its
    first version: an opaque 8-bit photo with no ICC profile whose colours no other tag
    names. Since then the fit converts by the ICC profile (2026-12-01, all modes
    2026-12-02), scales 16-bit and float greyscale (white or black before) and converts
    an AVIF by its P3/BT.2020/HDR `nclx` colours and a camera's Adobe RGB JPEG by its EXIF
    (2026-12-06, `pillow.tagged_colours`); transparent parts are `photo_has_transparency`'s.
    Keyframes keyed before the fit joined their key are reused only for such a photo.
    From the header; False when it cannot be read."""
    import warnings

    from mindmovie.pillow import Image, tagged_colours

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            with Image.open(path) as im:
                return (
                    im.mode in _FIT_NEVER_CHANGED_MODES
                    and not im.info.get("icc_profile")
                    and tagged_colours(im, path) is None
                )
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return False


#: 8-bit modes `photo_fit_never_changed` holds the same since the first fit
_FIT_NEVER_CHANGED_MODES = ("RGB", "RGBA", "L", "LA", "P", "PA", "CMYK", "1", "YCbCr")


def photo_pixels(path: Path) -> tuple[int, int] | None:
    """A photo's width and height as shown (turned by its EXIF orientation), from its
    header; None when it cannot be read."""
    import warnings

    from mindmovie.pillow import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            with Image.open(path) as im:
                w, h = im.size
                if im.format == "PNG" and "exif" not in im.info:
                    # no EXIF chunk before the pixels (where Pillow writes it and the
                    # spec wants it): getexif() would decode the whole picture to look
                    # for one after them, ~0.5 s for 12 MP, for a warning's sizes
                    return w, h
                # 5-8: turned a quarter (a phone's portrait photo stored landscape)
                if im.getexif().get(0x0112) in (5, 6, 7, 8) and not _sized_as_shown(im):
                    w, h = h, w
                return w, h
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return None


#: the largest photo (pixels) whose look `photo_look` decodes: ~40 MP, ~120 MB as RGB
LOOK_MAX_PIXELS = 40_000_000


def photo_look(path: Path) -> str | None:
    """sha256 of a photo as a model is shown it: its pixels turned by its EXIF
    orientation, with its colour profile (and a palette picture's colours). A photo
    re-saved with other metadata (tags or a rating written by a photo app, its location
    removed) has other bytes and the same look, so a keyframe keyed by the bytes alone
    was bought again, and with it the clip (the person's photo: every scene). None when
    it cannot be read, or is larger than `LOOK_MAX_PIXELS` (decoded whole, as the look
    needs)."""
    import warnings

    from PIL import ImageOps

    from mindmovie.pillow import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            with Image.open(path) as im:
                if im.width * im.height > LOOK_MAX_PIXELS:
                    return None
                icc = im.info.get("icc_profile") or b""
                ImageOps.exif_transpose(im, in_place=True)
                h = hashlib.sha256(json.dumps([im.mode, list(im.size)]).encode())
                h.update(icc if isinstance(icc, bytes) else b"")
                # a palette picture's pixels are indices: its colours, and a colour shown
                # as transparent, are apart (only when there: other looks stay as recorded)
                if im.mode in ("P", "PA") and (palette := im.getpalette()) is not None:
                    h.update(b"palette" + bytes(palette))
                if (clear := im.info.get("transparency")) is not None:
                    h.update(b"transparency" + repr(clear).encode())
                for top in range(0, im.height, 256):  # by strips: no second whole copy
                    h.update(im.crop((0, top, im.width, min(im.height, top + 256))).tobytes())
                return h.hexdigest()
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return None


def _sized_as_shown(im: Any) -> bool:
    """Whether Pillow already gives the open picture's size turned by its EXIF
    orientation: it does for a TIFF (in the versions that turn a TIFF as they load it),
    whose stored width is then its size's height. Turned again, a landscape TIFF was
    measured as portrait for the crop and size warnings."""
    if im.format != "TIFF":
        return False
    stored = im.tag_v2.get(256), im.tag_v2.get(257)  # ImageWidth, ImageLength
    return bool(stored[0] != stored[1] and tuple(im.size) == (stored[1], stored[0]))


def cover_kept(size: tuple[int, int], frame: tuple[int, int]) -> float:
    """The share of a photo's area (`size` as shown, `photo_pixels`) that a centred
    cover-crop to `frame`'s shape keeps (`local_media.fit_photo`): 1.0 for the frame's
    own shape, 0.18 for a 10:1 panorama in 16:9. The crop takes the photo's full width
    or height and as much of the other side as the frame's shape allows, so what is kept
    is the narrower shape's ratio over the wider's, whatever the sizes."""
    (pw, ph), (fw, fh) = size, frame
    photo, shape = pw / ph, fw / fh
    return min(photo, shape) / max(photo, shape)


#: ISO base media brands of HEIF still images (HEIC is HEIF with HEVC)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


#: ISO base media brands of AVIF still images and sequences
_AVIF_BRANDS = {b"avif", b"avis"}


def _ftyp_brands(path: Path) -> list[bytes]:
    """The brands of an ISO base media file (HEIF, AVIF) by its `ftyp` box, whatever its
    file name says: the major brand, then the compatible ones (an AVIF may say the
    generic HEIF `mif1` first and `avif` after); [] for any other file."""
    try:
        with path.open("rb") as f:
            head = f.read(64)
    except OSError:
        return []
    if head[4:8] != b"ftyp":
        return []
    end = min(len(head), int.from_bytes(head[:4], "big"))
    return [head[8:12], *(head[i : i + 4] for i in range(16, end - 3, 4))]


def _is_heif(path: Path) -> bool:
    """A HEIF/HEIC image by its `ftyp` box (`_ftyp_brands`), not an AVIF."""
    brands = _ftyp_brands(path)
    return bool(brands) and brands[0] in _HEIF_BRANDS and not _AVIF_BRANDS & set(brands)


def _several_photos(text: str, base: Path) -> list[str] | None:
    """The photos `text` names when it is several paths in one (`photos: me.jpg,
    you.jpg`, the list's brackets left off; or split by spaces or semicolons), each a
    file; None otherwise. Said as "photo not found: me.jpg, you.jpg" alone, of two files
    the person could see."""
    for sep in (r"\s*[,;]\s*", r"\s+"):
        pieces = [p for p in re.split(sep, text.strip()) if p]
        if len(pieces) > 1 and all(_find_file(p, base, "photo")[0] for p in pieces):
            return pieces
    return None


#: the file names a folder's photos are listed by in `_folder_photos`' hint
_PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def _folder_photos(text: str, base: Path) -> list[str] | None:
    """The photos (by name: JPEG, PNG, WebP) in the folder `text` names, as paths to write
    in goals.yaml; None when it is no folder or holds none. `photos: [vacation/]` said
    only "photo is not a file", as if the photos in it were meant to be found."""
    try:
        folder = Path(text).expanduser()
        folder = folder if folder.is_absolute() else base / folder
        names = sorted(
            p.name
            for p in folder.iterdir()
            if p.suffix.lower() in _PICTURE_SUFFIXES and not p.name.startswith(".") and p.is_file()
        )
    except (OSError, RuntimeError, ValueError):
        return None
    head = text.rstrip("/\\")
    return [f"{head}/{name}" for name in names] or None


def _resolve_photos(
    holder: Any, loc: Loc, base: Path, doc: YamlDoc, linked: Path | None = None
) -> list[Problem]:
    """Make each photo under ``holder["photos"]`` absolute in place; report missing ones."""
    if not isinstance(holder, dict):
        return []
    raw = holder.get("photos")
    if isinstance(raw, str):  # `photos: me.jpg` -> one-item list
        raw = [raw]
        holder["photos"] = raw
    if not isinstance(raw, list):
        return []  # wrong type: validation says so
    problems: list[Problem] = []
    for j, item in enumerate(raw):
        if not isinstance(item, str):
            continue
        item_loc = (*loc, "photos", j)
        found, why = _find_file(item, base, "photo", item_loc in doc.nbsp_escapes, linked)
        if found is not None and (bad := _image_problem(found)):
            found, why = None, f"photo {bad}: {item}"
        elif found is None and (several := _several_photos(item, base)):
            there = ", ".join(several[:-1]) + " and " + several[-1]
            why = f"{why}; {there} are there: for several photos write a list, "
            why += f"photos: [{', '.join(several)}]"
        elif (
            found is None
            and str(why).startswith("photo is not a file")
            and (inside := _folder_photos(item, base))
        ):
            shown = ", ".join(inside[:2]) + (", ..." if len(inside) > 2 else "")
            why = f"{why}; a folder's photos are given one by one, e.g. photos: [{shown}]"
            why += f" (it holds {len(inside)})" if len(inside) > 2 else ""
        if found is None:
            problems.append(Problem(doc.line_of(item_loc), format_loc(item_loc), str(why)))
        else:
            raw[j] = str(found)
    return problems


def _folder_as_goals(path: Path) -> str | None:
    """What to give instead of a folder given as GOALS: `render proj` after `init proj`
    (its goals.yaml), or `render outputs/<title>` to resume a run (said only "is a
    directory, not a file"); None for any other path."""
    try:
        if not path.is_dir():
            return None
        if (path / "goals.yaml").is_file():
            return f"is a folder, not a file; give the goals.yaml in it: {path / 'goals.yaml'}"
        if (path / "run.db").is_file():
            return (
                "is a run folder, not goals; give the goals.yaml it was made from (the same "
                "command resumes it)"
            )
    except OSError:
        return None
    return None


def _windows_goals(path: Path, said: str) -> str | None:
    """`said` ("file not found") with what to write instead, for GOALS written as a
    Windows path (`.\\goals.yaml`, `C:\\me\\goals.yaml`) that is not here, as a photo
    path in goals.yaml is told (`windows_path_hint`); None for any other path. Said
    only "file not found" before, of a file `dir` shows."""
    try:
        if os.path.lexists(path):
            return None
    except (OSError, ValueError):
        return None
    if (hint := windows_path_hint(str(path))) is None:
        return None
    return f"{said}; {hint}{windows_path_there(str(path))}"


def _is_stdin(path: Path) -> bool:
    """Is GOALS standard input (`-`, `/dev/stdin`) or a pipe's or redirect's file
    descriptor (`/dev/fd/63` of `<(...)`)? `-` said "file not found"; `/dev/stdin`
    piped "is a named pipe (FIFO)"; redirected from a file (`< goals.yaml`) it was
    read, its photos looked for in /dev ("photo not found ... (looked in /dev)"). A
    file named `-` in the working folder is a file."""
    text = str(path)
    if text == "-":
        return not os.path.lexists(path)
    return (
        re.fullmatch(r"/dev/(stdin|fd/\d+)|/proc/(self|\d+)/fd/\d+", os.path.abspath(text))
        is not None
    )


def _linked_folder(path: Path, base: Path) -> Path | None:
    """The folder of the file goals.yaml at `path` is a symbolic link to, when that is
    not `base` (its own folder); None otherwise."""
    try:
        real = path.resolve().parent
    except (OSError, RuntimeError):
        return None
    return None if real == base else real


def load_goals(path: Path) -> Goals:
    """Load and check goals.yaml; photo and music paths come back absolute and existing.

    Raises ``GoalsError`` (one readable line with file, line and field) for: unreadable
    file, bad YAML, duplicate keys, top level not a mapping, unknown keys (with a
    did-you-mean), missing or wrongly typed fields, no goals, missing photo/music files.
    """
    if _is_stdin(path):
        raise GoalsError(
            path,
            None,
            None,
            "goals are read from a file, not from standard input or a pipe: give the path "
            "of goals.yaml (the photos and music it names are found from its folder)",
        )
    try:
        doc = load_yaml(path, GoalsError)
    except GoalsError as e:
        if (why := _folder_as_goals(path) or _windows_goals(path, e.message)) is None:
            raise
        raise GoalsError(path, None, None, why) from e
    if isinstance(doc.data, str):
        from mindmovie.config import reads_as_dotenv

        if reads_as_dotenv(doc.data):
            # `render .env` said "top level must be a mapping of keys like `title:` and
            # `goals:`, got 'ANTHROPIC_API_KEY=<the key ..., not shown>'"
            raise GoalsError(
                path,
                None,
                None,
                "this is a .env file (NAME=value lines), not goals; give your goals.yaml as "
                "GOALS (a .env is read by itself from the folder you run mindmovie from)",
            )
    require_mapping(doc, path, GoalsError, _GOALS_EXAMPLE)
    data: dict[str, Any] = doc.data
    base = path.absolute().parent.resolve()
    linked = _linked_folder(path, base)
    problems: list[Problem] = control_problems(doc, paths=("photos", "music"))

    goals_raw = data.get("goals")
    no_goals = goals_raw is None or goals_raw == []
    if no_goals and "goals" not in data and "title" not in data:
        from mindmovie.config import Settings

        if settings := [str(k) for k in data if str(k) in Settings.model_fields]:
            # `render config.yaml` (the settings file as GOALS): "goals: no goals (and 2
            # more problems)" did not say it was the wrong file
            raise GoalsError(
                path,
                doc.line_of((settings[0],)),
                settings[0],
                "this is a settings file, not goals; give it with --config and your "
                "goals.yaml as GOALS (mindmovie init writes one)",
            )
    if no_goals and "goals" not in data and isinstance(data.get("scenes"), list):
        # `render outputs/x/plan.yaml`: "goals: no goals (and 1 more problem)" did not
        # say it was the run's plan, which render reads by itself from the run folder
        raise GoalsError(
            path,
            doc.line_of(("scenes",)),
            "scenes",
            "this is a run's plan.yaml, not goals; give your goals.yaml as GOALS (the "
            "render reads the plan.yaml in its run folder, edits and all)",
        )
    # `Goals:` or `goal:` with the goals under it: the typo's own unknown key says it
    # (as `visoin:` implies no missing vision), not "no goals" at the title's line
    if no_goals and not misspelt(data, Goals.model_fields, "goals"):
        problems.append(
            Problem(
                doc.line_of(("goals",)),
                "goals",
                "no goals: add at least one under `goals:` with a category and a vision",
            )
        )

    problems += _resolve_photos(data.get("person"), ("person",), base, doc, linked)
    if isinstance(goals_raw, list):
        for i, goal in enumerate(goals_raw):
            problems += _resolve_photos(goal, ("goals", i), base, doc, linked)
    music = data.get("music")
    if isinstance(music, str):
        nbsp = ("music",) in doc.nbsp_escapes
        found, why = _find_file(music, base, "music file", nbsp, linked)
        if found is not None and (bad := music_problem(found)):
            found, why = None, f"music file {bad}: {music}"
        if found is None:
            problems.append(Problem(doc.line_of(("music",)), "music", str(why)))
        else:
            data["music"] = str(found)

    goals, invalid = validate(Goals, doc)
    if no_goals:  # already said, more plainly
        invalid = [p for p in invalid if p.field != "goals"]
    invalid = [_setting_key(p, data) for p in invalid]
    problems += invalid
    if problems or goals is None:
        raise GoalsError.from_problems(path, problems)
    goals._notes = hashtag_notes(path, doc) + _same_goal_notes(path, doc, goals)
    return goals


def _setting_key(problem: Problem, data: dict[str, Any]) -> Problem:
    """`problem`, or for an unknown key of the top level that is a setting (`preset:
    byteplus`, `fps: 30` written in goals.yaml) the same problem saying where it is
    written (`setting_written_in_goals`)."""
    from mindmovie.config import setting_written_in_goals

    key = problem.field
    if key is None or key not in data or not problem.message.startswith("unknown key"):
        return problem
    if (where := setting_written_in_goals(key)) is None:
        return problem
    return problem._replace(message=f"unknown key {key!r}: {where}")


def _same_goal_notes(path: Path, doc: YamlDoc, goals: Goals) -> list[str]:
    """A note for each goal that is an earlier one again (the same category and vision,
    but for case and blanks): a goal pasted twice made its scenes twice, the movie
    showing the one dream two times, and nothing said so. A note, not an error: the
    person may want it twice."""
    seen: dict[tuple[str, str], int] = {}
    notes = []
    for i, goal in enumerate(goals.goals):
        same = (
            " ".join(goal.category.split()).casefold(),
            " ".join(goal.vision.split()).casefold(),
        )
        if (first := seen.setdefault(same, i)) == i:
            continue
        notes.append(
            f"{path}:{doc.line_of(('goals', i))}: goals[{i + 1}] is goals[{first + 1}] again "
            f"(line {doc.line_of(('goals', first))}: the same category and vision), so the "
            "movie shows that goal twice; remove one (to give it more time, set its "
            "`scenes:`)"
        )
    return notes


def _hash_file(path: Path) -> dict[str, str]:
    return {"sha256": sha256_file(path)}


#: what is shown, not planned: the card texts and the song. No planner needs them to
#: write scenes, so changing one keeps the plan (see `presentation`)
SHOWN_FIELDS = ("title", "closing", "music")


def _fingerprint(
    goals: Goals, file_id: Callable[[Path], object], tag: str, drop: tuple[str, ...] = ()
) -> str:
    """sha256 of the goals' canonical JSON with each photo and the music as `file_id`,
    without the fields in `drop`."""
    data = goals.model_dump(mode="json")
    for name in drop:
        data.pop(name, None)
    if goals.person is not None:
        data["person"]["photos"] = [file_id(p) for p in goals.person.photos]
    for raw, goal in zip(data["goals"], goals.goals, strict=True):
        raw["photos"] = [file_id(p) for p in goal.photos]
    if goals.music is not None and "music" not in drop:
        data["music"] = file_id(goals.music)
    blob = json.dumps(
        {tag: 1, "goals": data}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _rel(base: Path) -> Callable[[Path], str]:
    def rel(p: Path) -> str:
        return os.path.relpath(p, base) if p.is_relative_to(base) else str(p)

    return rel


def plan_fingerprint(goals: Goals, base: Path) -> str:
    """What a plan's scenes are made from: the goals as written, with each photo as its
    path relative to `base` (goals.yaml's folder), not its bytes; without the title, the
    closing and the music (`SHOWN_FIELDS`), which a reused plan takes over as they are.
    Before, a new title or song made a new plan: with Claude, new prompts for every scene
    and so every keyframe and clip paid again, for a change of card text or music.

    A plan holds the photo paths but no planner looks inside the files (a remote planner
    is told only that a goal has photos), so a photo replaced under the same name keeps
    the plan and its paid prompts; the keyframes, whose keys hold the bytes, are what is
    made again. Relative paths: moving the project folder keeps it. A file outside the
    folder ('~/Pictures/me.jpg') does not move with it: its absolute path, or moving the
    folder would change its relative path and make a new plan.
    """
    return _fingerprint(goals, _rel(base), "mindmovie-scene-inputs", drop=SHOWN_FIELDS)


def plan_parts(goals: Goals, base: Path) -> dict[str, Any]:
    """`plan_fingerprint` in parts: "rest", the goals.yaml the plan is made from but its
    goals list (the person, style and any other plan-wide field; not `SHOWN_FIELDS`),
    and "goals", each goal's own as goals.yaml gives it (its photos as paths relative to
    `base`). Recorded with a plan: when only goals changed since, a paid planner is asked
    for those goals alone, and the goals as they were keep their scenes
    (`Pipeline._partial_replan`)."""
    rel = _rel(base)
    data = goals.model_dump(mode="json")
    for name in SHOWN_FIELDS:
        data.pop(name, None)
    data.pop("goals", None)
    if goals.person is not None:
        data["person"]["photos"] = [rel(p) for p in goals.person.photos]

    def digest(tag: str, value: object) -> str:
        blob = json.dumps(
            {tag: 1, "value": value}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    each = []
    for goal in goals.goals:
        raw = goal.model_dump(mode="json")
        raw["photos"] = [rel(p) for p in goal.photos]
        each.append(digest("mindmovie-goal", raw))
    return {"rest": digest("mindmovie-plan-rest", data), "goals": each}


def plan_fingerprint_by_place(goals: Goals) -> str:
    """`plan_fingerprint` with each photo only a place in goals.yaml, not its path: the
    planners are told only that a goal has photos, so a photo renamed or moved into a
    subfolder (goals.yaml updated to it) asks for the very same plan. Under its path alone
    that was a new plan: with Claude, new prompts for every scene, and every keyframe and
    clip paid again. The plan's photo paths then follow the places (`plan_photos`)."""
    return _fingerprint(goals, lambda _p: "photo", "mindmovie-scene-inputs-by-place", SHOWN_FIELDS)


def photo_places(goals: Goals) -> list[list[Path]]:
    """The goals' photos by their places in goals.yaml: the person's, then each goal's."""
    person = list(goals.person.photos) if goals.person else []
    return [person, *(list(g.photos) for g in goals.goals)]


def plan_photos(goals: Goals, base: Path) -> list[list[str]]:
    """`photo_places` as paths relative to `base` (goals.yaml's folder; a photo outside
    it absolute), as `plan_fingerprint` names them: recorded with a plan, so a photo
    renamed since is followed from its old name (`plan.rebase_paths`'s `renamed`)."""
    rel = _rel(base)
    return [[rel(p) for p in slot] for slot in photo_places(goals)]


def plan_fingerprint_v1(goals: Goals, base: Path) -> str:
    """`plan_fingerprint` as runs made before 2026-12-01's fifth session keyed their plan
    (title, closing and music included): still accepted, then rekeyed."""
    return _fingerprint(goals, _rel(base), "mindmovie-plan-inputs")


def presentation(goals: Goals, base: Path) -> dict[str, str | None]:
    """The `SHOWN_FIELDS` as goals.yaml has them (the music relative to `base`), recorded
    with a plan so a later change to one of them can be told and carried into it."""
    music = _rel(base)(goals.music) if goals.music is not None else None
    return {"title": goals.title, "closing": goals.closing, "music": music}


def goals_sha256(goals: Goals) -> str:
    """A stable fingerprint of what the movie is made from.

    The goals' content (canonical JSON) with every photo and the music replaced by the
    sha256 of its bytes: editing a photo changes the hash, moving the project folder (which
    changes the absolute paths) does not. The files must exist (``load_goals`` checks).
    """
    return _fingerprint(goals, _hash_file, "mindmovie-goals")
