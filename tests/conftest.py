"""Shared fixtures. `sim`/`sim_session`: the loopback provider simulator (tests/sim)."""

import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sim.fixtures import sim, sim_clock, sim_session

__all__ = ["sim", "sim_clock", "sim_session"]

# The suite starts `python -m mindmovie` a few hundred times. Where the environment sets
# PYTHONDONTWRITEBYTECODE (some CI images and sandboxes do), each of those processes
# compiled the package's modules from source again: ~0.14 s of CPU a start, measured.
# The suite's processes (the xdist workers, and every command they start) may write
# bytecode, to the usual __pycache__ folders that git ignores.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject's addopts): one test process per core and two more. Much of
    the suite's time is waiting (job latencies the simulator plays, grace windows, retry
    back-offs, child processes starting), not computing, so a process per core leaves
    cores idle: on 2 cores the whole suite took 561 s with 2 processes, 498 s with 3 and
    530 s with 4 (`python -m pytest -q -n N`, 2026-12-03); on 2026-12-06, with more
    tests that wait, 474 s and 518 s with 3 (the cores 20-30% idle through most of the
    run, sampled from /proc/stat) and 450 s and 478 s with 4 (idle under 5%)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) + 2


def pytest_configure(config: pytest.Config) -> None:
    """Stop signals as a person's terminal has them, whatever started the suite. A
    render keeps a stop signal it was started ignoring (`nohup`: SIGHUP; a script's
    background job `cmd &`: SIGINT and SIGQUIT), as Python itself does; the suite started
    that way (`nohup .ci/run &`) ran every Ctrl-C test against a render that rightly
    ignored it, and one waited out its 600 s timeout (the SIGQUIT cases failed so). Each
    xdist worker runs this too, and the commands the tests start inherit it."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
        if signal.getsignal(sig) == signal.SIG_IGN:
            signal.signal(sig, signal.SIG_DFL)
    # The suite runs as on a machine without SSL_CERT_FILE / SSL_CERT_DIR, whatever this
    # one has (this machine sets both): with either set, every paid render checks that
    # an HTTPS client can be made from them (`base.http_setup_problem`: a CA bundle
    # loaded, ~40 ms of CPU) in each of the suite's ~600 renders, against a simulator
    # spoken to over plain HTTP. The tests of those variables set their own.
    for var in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        os.environ.pop(var, None)


#: emoji the `no_emoji_font` fixture makes every font lack (a ZWJ family, a flag, a skin
#: tone and the keycap mark among them)
NO_FONT_EMOJI = "🙏✨💛👨👩👧🇫🇷💪🏽\u20e3"


def clear_text_caches() -> None:
    """Forget fonts chosen and texts cleaned with glyphs a test made up."""
    from mindmovie import fonts
    from mindmovie.compose import cards  # numpy: only for the tests that draw text

    cards.natural_face.cache_clear()
    cards.font.cache_clear()  # (a font opened with or without libraqm)
    if hasattr(cards.layout_text, "cache_clear"):  # (as for _cleaned)
        cards.layout_text.cache_clear()
    if hasattr(cards, "_cleaned"):  # (so these tests fail on their asserts without it)
        cards._cleaned.cache_clear()
    if hasattr(fonts, "located"):  # (as for _cleaned)
        fonts.located.cache_clear()
    if hasattr(fonts, "forget_found"):  # (as for _cleaned)
        fonts.forget_found()


@pytest.fixture
def xdg_without_usr_share(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """XDG_DATA_DIRS set to a folder without fonts (as a snap's, flatpak's or Nix shell's
    list can leave out /usr/share), on a machine with a fallback font under
    /usr/share/fonts; the name of that font."""
    from mindmovie.fonts import FALLBACK_FONTS

    installed = {
        p.name for d in ("/usr/local/share", "/usr/share") for p in Path(d, "fonts").rglob("*")
    }
    name = next((n for n in FALLBACK_FONTS if n in installed), None)
    if name is None or not sys.platform.startswith("linux"):
        pytest.skip("no fallback font under /usr/share/fonts (Linux)")
    monkeypatch.setenv("XDG_DATA_DIRS", str(tmp_path))
    clear_text_caches()
    yield name
    clear_text_caches()


@pytest.fixture
def font_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """The system's font folders made one empty folder (`fonts.font_folders`), and no
    font of `FALLBACK_FONTS` found; gives what puts a copy of DejaVu Sans (Latin,
    Armenian, Georgian, Hebrew, Arabic) there under a name, and returns its path.
    Skipped where DejaVu Sans is not installed."""
    import shutil

    from mindmovie import fonts
    from mindmovie.compose import cards

    clear_text_caches()
    installed = [
        p
        for d in ("/usr/local/share", "/usr/share")
        for p in Path(d, "fonts").rglob("DejaVuSans.ttf")
    ]
    if not installed:
        pytest.skip("DejaVu Sans is not installed (apt install fonts-dejavu-core)")
    folder = tmp_path / "fonts"
    folder.mkdir()
    monkeypatch.setattr(fonts, "font_folders", lambda: (str(folder),), raising=False)
    monkeypatch.setattr(fonts, "FALLBACK_FONTS", ("no-such-font-mm.ttf",))
    monkeypatch.setattr(cards, "FALLBACK_FONTS", ("no-such-font-mm.ttf",))

    def install(name: str) -> str:
        shutil.copyfile(installed[0], folder / name)
        clear_text_caches()
        return str(folder / name)

    yield install
    clear_text_caches()


@pytest.fixture
def no_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """No home folder: HOME unset and this user id not in the password database (a
    container run as an arbitrary user id), so `~` is left as written by expanduser."""
    import pwd

    def unknown(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", unknown)


@pytest.fixture
def no_emoji_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No font draws emoji: as on most machines, whatever this one has installed."""
    from mindmovie.compose import cards

    real = cards._has_glyph
    monkeypatch.setattr(
        cards, "_has_glyph", lambda face, ch: ch not in NO_FONT_EMOJI and real(face, ch)
    )
    clear_text_caches()
    yield
    clear_text_caches()


def without_raqm(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, Pillow without libraqm, as where FriBiDi is missing (PyPI's Pillow
    loads it from the system: Windows and macOS have none by default): every font it
    opens is laid out by its basic layout, for real. Undo with `monkeypatch.undo()` and
    `clear_text_caches()`."""
    from PIL import ImageFont

    monkeypatch.setattr(ImageFont.core, "HAVE_RAQM", False)
    clear_text_caches()


@pytest.fixture
def no_raqm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pillow without libraqm (`without_raqm`) for the whole test."""
    without_raqm(monkeypatch)
    yield
    monkeypatch.undo()
    clear_text_caches()


@pytest.fixture
async def providers_closed(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[object]]:
    """Close every provider the test builds, after it, on its own event loop, as
    `Pipeline.run` closes the ones it builds. A test that built a provider and left it
    left the SDK's keep-alive sockets to the garbage collector (a ResourceWarning each
    under `-W always`) and the simulator's handler threads waiting on them, ending at
    some later test's collection."""
    from mindmovie.providers.anthropic import ClaudePlanner
    from mindmovie.providers.byteplus import SeedanceVideo, SeedreamKeyframes
    from mindmovie.providers.google import GeminiKeyframes, VeoVideo

    built: dict[int, object] = {}
    for cls in (ClaudePlanner, SeedreamKeyframes, SeedanceVideo, GeminiKeyframes, VeoVideo):
        real = cls.__init__

        def init(self: object, *args: object, _real: Any = real, **kw: object) -> None:
            _real(self, *args, **kw)
            built[id(self)] = self

        monkeypatch.setattr(cls, "__init__", init)
    yield list(built.values())
    for provider in built.values():
        # one built in a loop the test has ended (its own asyncio.run) has nothing open
        # here; its client is only dropped (`close_loop_client`)
        await provider.aclose()  # type: ignore[attr-defined]
