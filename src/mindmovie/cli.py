"""The `mindmovie` command line. Parses, calls one function, prints with rich. No logic.

Every mistake a person can make (a typo in goals.yaml, a bad setting, a missing key, a
run already in progress) ends as one readable line and exit code 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import math
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from mindmovie import __version__
from mindmovie.entry import INTERRUPTED, stop_signals_interrupt
from mindmovie.killpoints import killpoint
from mindmovie.progress import LogConsole, OutputFailed, write_nowhere

app = typer.Typer(
    name="mindmovie",
    help="Turn your written goals into a mind movie: plan, keyframes, clips, one MP4.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # keys must never appear in a traceback
    rich_markup_mode="rich",
    # `-h` too, as most tools take it: "No such option: -h" (options audit)
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _unwrapped(doc: str) -> str:
    """A command's help as typer shows it: its paragraphs kept, its source line breaks
    dropped (rich help keeps every newline, so 88-column source lines wrapped raggedly in
    a terminal)."""
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


#: a Google operation's whole name (Gemini API or Vertex AI), its id the last part:
#: shown by its id in the status table
_OPERATION_NAME = re.compile(
    r"\b(?:projects/[^\s/]+/locations/[^\s/]+/publishers/google/)?"
    r"models/[^\s/]+/operations/(?P<id>[^\s/;,()]+)"
)


#: what the command in hand has finished, as the line a stop signal after it says
#: (`interrupted_line`): the render's movie, init's goals.yaml, the storyboard. Said as
#: a stop of the work, "nothing was changed", of a file the person now has
_finished: list[str] = []


def command(
    help_text: str,
    interrupted: str = INTERRUPTED,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`app.command()` with `help_text` unwrapped as its help. Given here, not as the
    function's docstring: `python -OO` (PYTHONOPTIMIZE=2) strips docstrings, and every
    command's help was empty. A Ctrl-C (or SIGTERM, SIGHUP: `main`) the command does not
    take up itself is said in one line, `interrupted` (or, once the render has ended,
    what it made), exit 130: typer turned it into a silent Exit(130), and a log ended as
    if the command had hung."""

    def register(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def run(*args: Any, **kwargs: Any) -> Any:
            _finished.clear()
            out.goes_on = err.goes_on = False  # until a render starts (`_run_pipeline`)
            try:
                return f(*args, **kwargs)
            except KeyboardInterrupt:
                raise _stopped(interrupted_line(interrupted)) from None

        return app.command(help=_unwrapped(help_text))(run)

    return register


#: the stop lines a command said (`_stopped`): `main` says one for a stop typer took up
#: before or around the command, which typer made a silent exit 130
_said: list[str] = []


def _stopped(line: str) -> typer.Exit:
    """Say a stop's one line; the exit 130 to raise. Noted, so that `main` does not say
    a second line for the 130 typer returns."""
    _said.append(line)
    with contextlib.suppress(OSError):  # SIGHUP: the terminal may be gone
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(130)


def interrupted_line(interrupted: str = INTERRUPTED) -> str:
    """What a stop says: `interrupted`, or once the command has made its file (the
    render's movie, init's goals.yaml, the storyboard), that it is made (also said by
    `entry.main` for a stop after the command returned, before the exit)."""
    return _finished[-1] if _finished else interrupted


#: a closed pipe ends a command, exit 1, silently, as rich does; but a render's (and
#: plan's) output going away does not stop its paid work (`LogConsole`, `_run_pipeline`)
out = LogConsole(highlight=False, goes_on=False)
err = LogConsole(stderr=True, highlight=False, goes_on=False)

EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_BUDGET = 3


def _path(given: str) -> Path:
    """A path given on the command line; an empty one refused: Path("") is ".", so an
    unset variable (`--out "$OUT"`) was taken for the current folder and the error named
    '.', which was never typed (`render ""`: ".: is a folder, not a file"), or a run
    was written into the current folder. A leading `~` is the home folder, as in
    `output_dir` and goals.yaml's paths: the shell leaves it as typed in `--out=~/movies`
    (and in quotes), and the run went into a folder named `~` in the current one.

    A path with a space at an end that names nothing here is refused, the space said:
    `"goals.yaml "` was "goals.yaml : file not found", `--out "movies "` made a folder
    whose name ends in a space. One that is there is taken as it is."""
    if given == "":
        raise typer.BadParameter("is empty (an unset variable?); give a path")
    from mindmovie.fsutil import blank_ends, expanded, home_unknown

    if why := home_unknown(str(given)):  # (a default comes as a Path)
        raise typer.BadParameter(f"{given}: ~ is not a folder here ({why}); write the path out")

    path = expanded(given)
    if (ends := blank_ends(str(given))) is not None and not _lexists(path):
        bare = expanded(str(given).strip())
        there = f" ({bare} is there)" if _lexists(bare) else ""
        raise typer.BadParameter(
            f"{str(given)!r}: nothing is named so here, and the name {ends}, which is part "
            f"of a file's name; write it without{there}"
        )
    return path


def _lexists(path: Path) -> bool:
    """`os.path.lexists`, False for a path the system cannot look up (too long)."""
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):
        return False


def _out_path(given: str | Path) -> Path:
    """`--out`: a path (`_path`), refused when it reads as a Windows path and is not here
    (`C:\\movies\\mine`, `runs\\mine`): the run went into a folder named so in the
    current one, backslashes and all. One that exists is a folder the person has. (A
    default, `init`'s `.`, comes as a Path.)"""
    path = _path(str(given))
    from mindmovie.fsutil import windows_path_hint

    if (hint := windows_path_hint(str(given))) is not None and not os.path.lexists(path):
        raise typer.BadParameter(f"{given}: {hint}")
    return path


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        parser=_path,
        metavar="<path>",
        help="Settings file (YAML). Default: $MINDMOVIE_CONFIG, else ./config.yaml if present.",
    ),
]
CompareGoalsOpt = Annotated[
    Path | None,
    typer.Option(
        "--goals",
        parser=_path,
        metavar="<path>",
        help="The goals.yaml to compare with (default: the one the last render used).",
    ),
]
#: storyboard's: it compares only when asked (this, --config or a settings flag), and its
#: help said "default: the one the last render used" of a board drawn from the run alone
BoardGoalsOpt = Annotated[
    Path | None,
    typer.Option(
        "--goals",
        parser=_path,
        metavar="<path>",
        help="The goals.yaml to mark the board against: what the next render would make "
        "again. Without it, --config or a settings flag, the board shows the run as it is; "
        "with one of those, the goals.yaml the last render used.",
    ),
]
RunDirArg = Annotated[
    Path,
    typer.Argument(
        help="A run directory (outputs/<title>).",
        show_default=False,
        metavar="RUN_DIR",
        parser=_path,
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        parser=_out_path,
        metavar="<path>",
        help="Run directory. Default: <output_dir>/<slug of the title>.",
    ),
]
PresetOpt = Annotated[
    str | None, typer.Option("--preset", help="Provider preset: local (default), byteplus, google.")
]
AspectOpt = Annotated[str | None, typer.Option("--aspect", help="16:9 (default), 9:16 or 1:1.")]
ResOpt = Annotated[str | None, typer.Option("--resolution", help="480p, 720p (default) or 1080p.")]
#: text, checked by the settings as config.yaml's fps is: as an int, typer's parser said
#: only "Input should be a valid integer" of `--fps 24.5`, without the value or the range
FpsOpt = Annotated[
    str | None,
    typer.Option("--fps", help="Frames per second, 8 to 60 (default 24).", metavar="<int>"),
]
QualityOpt = Annotated[
    str | None, typer.Option("--quality", help="Encoder quality: draft, standard (default), high.")
]
#: a stage, checked by `_check_until` (render's and doctor's --until)
UntilOpt = Annotated[
    str,
    typer.Option(
        "--until",
        help="Stop after a stage: plan, keyframes, clips or movie (default). "
        "Review keyframes before paying for video, then render again to continue.",
        show_default=False,  # said in the help: "[default: movie]" said it twice
    ),
]
#: render's --fresh, which doctor takes to price GOALS as that render would (moving nothing)
FreshOpt = Annotated[
    bool,
    typer.Option("--fresh", help="Start over (the old run is kept in previous/, not deleted)."),
]
#: doctor's --until and --fresh: render's options, read and checked as render reads them,
#: with help that says what they change in doctor's checks (render's "Stop after a stage",
#: "Start over" said doctor did what it never does)
DoctorUntilOpt = Annotated[
    str,
    typer.Option(
        "--until",
        help="The budget checked for the stages `render --until` runs: plan, keyframes, "
        "clips or movie (default).",
        show_default=False,
    ),
]
DoctorFreshOpt = Annotated[
    bool,
    typer.Option(
        "--fresh",
        help="With GOALS, the budget checked against `render --fresh`: a new run, the one "
        "there set aside (doctor itself moves nothing).",
    ),
]
#: text, read by `_check_budget` (render's and doctor's --budget)
BudgetOpt = Annotated[
    str | None,
    typer.Option(
        "--budget",
        help="Hard cap in USD on the run's paid calls (earlier renders of it count too).",
        metavar="<float>",
    ),
]


def _say(text: str, *, markup: bool = True, highlight: bool = False) -> None:
    """A result line on stdout, never wrapped by rich: in a pipe rich wraps at 80 columns,
    which cut a long path (movie, plan.yaml, storyboard) in two lines a script cannot use;
    a terminal wraps it for display by itself. (Tables are printed with `out.print`.)"""
    out.print(text, markup=markup, highlight=highlight, soft_wrap=True)


def _say_json(data: Any, **dumps: Any) -> None:
    """`data` as JSON on stdout, written as is (not through rich, which would wrap or
    restyle it). stdout closed (`--json >&-`): Python's sys.stdout is None, and writing
    to it was an AttributeError traceback, exit 1; written nowhere, as rich's consoles
    write the other commands' output."""
    if sys.stdout is None:
        return
    try:
        sys.stdout.write(json.dumps(data, indent=2, **dumps) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # typer's: exit 1, silently, as the tables' commands
    except OSError as e:  # a full disk under `--json > file`: one line, not a traceback
        write_nowhere(sys.stdout)
        raise OutputFailed("stdout", e) from None


def _scene_lines(scene: str, facts: list[str], nxt: str, width: int) -> list[str]:
    """`status`'s line a scene (a terminal too narrow for its table), broken only between
    a label and the next: one long line, the terminal wrapped it anywhere, so at 30
    columns 'clip' ended a line and its '-,' began the next. "next render:" is kept with
    the first word of what it says when both fit; a word wider than the terminal (a job
    id at 20 columns) is on a line of its own, folded by the terminal. The lines after a
    scene's first are indented two spaces, so that each scene's first line stands out."""
    from mindmovie.costs import packed

    chunks = [f"{scene}:", *(f"{f}," for f in facts[:-1])]
    if facts:
        chunks.append(facts[-1] + (";" if nxt else ""))
    words = nxt.split()
    if words:
        head = "next render:"
        if len(head) + 1 + len(words[0]) <= width:
            chunks.append(f"{head} {words.pop(0)}")
        else:
            chunks.append(head)
        chunks += words
    first, *rest = packed(chunks, width - 2)
    return [first, *(f"  {line}" for line in rest)]


def _check_budget(given: str | None) -> float | None:
    """The --budget cap in dollars, refused first thing (`render`, `plan`) when it is no
    cap: not a number, nan (every call compared with it is refused), infinite (no cap,
    written as one; `1e999` too) or below 0. Taken as text and read here: typer's float
    said "Input should be a valid number" of `--budget 5$` without the value, and its
    `min=0` caught nan first and said "Input should be greater than or equal to 0"."""
    if given is None:
        return None
    try:
        # no thousands separator: `1,5` is one and a half dollars in much of the world
        budget = float(given.strip().removeprefix("$"))
    except ValueError:
        raise _fail(
            f"--budget: {given!r} is not a number of dollars; give the most the run may "
            "spend (like 5 or 12.50), or leave it out for no cap"
        ) from None
    if not math.isfinite(budget):
        raise _fail(f"--budget: {given} is not a number of dollars; leave it out for no cap")
    if budget < 0:
        raise _fail(
            f"--budget: {given} is below $0; give the most the run may spend, in dollars "
            "(0 or more), or leave it out for no cap"
        )
    return budget


def _check_until(until: str) -> None:
    """--until refused first thing (`render`, `doctor`) when it names no stage."""
    if until not in ("plan", "keyframes", "clips", "movie"):
        raise _fail(f"--until: '{until}' is not a stage; allowed: plan, keyframes, clips, movie")


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Say `message` as the command's one error line; the exit to raise. A key the
    person put where a value goes (`--budget sk-ant-...`, a key pasted into goals.yaml)
    is quoted by the message: hidden, as in ConfigError's (`hide_keys`)."""
    from mindmovie.config import hide_keys

    err.print(
        f"[bold red]error:[/bold red] {escape(hide_keys(message))}",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )
    return typer.Exit(code)


def _warn_environment(reporter: Any = None, settings: Any = None) -> None:
    """Say what is wrong in the environment itself (a .env line python-dotenv cannot
    read, a key `settings` use set under two names to different keys), once per command,
    through the reporter's warnings as the render's other warnings about settings
    (stderr `warning: ...`, shown with --quiet too)."""
    from mindmovie.config import environment_warnings
    from mindmovie.progress import WarningsReporter

    said = reporter if reporter is not None else WarningsReporter()
    for text in environment_warnings(settings):
        said.warn(text)


def _warn_shutdown(reporter: Any, settings: Any) -> None:
    """Warn of a model the settings use that is past the shutdown its provider lists
    (`doctor.shutdown_lines`), before a render spends: the google preset's default
    keyframe model was refused (404) only after the plan had been bought."""
    from mindmovie.doctor import shutdown_lines

    for _, said in shutdown_lines(settings):
        reporter.warn(said)


def _settings(
    config: Path | None,
    *,
    preset: str | None = None,
    aspect: str | None = None,
    resolution: str | None = None,
    fps: str | None = None,
    quality: str | None = None,
) -> Any:
    """Settings as `load_settings` builds them; a mistake is one error line (exit 2),
    after the environment's warnings (a skipped .env line may be why). On success the
    command says those warnings itself (`render` through its reporter)."""
    from mindmovie.config import ConfigError, load_settings

    try:
        return load_settings(config, _overrides(preset, aspect, resolution, fps, quality))
    except ConfigError as e:
        _warn_environment()
        raise _fail(str(e)) from None


def _overrides(
    preset: str | None,
    aspect: str | None,
    resolution: str | None,
    fps: str | None,
    quality: str | None,
) -> dict[str, Any]:
    """The settings flags as a config layer (the highest)."""
    overrides: dict[str, Any] = {"preset": preset}
    # `is not None`: a given value is checked even when falsy (`--fps 0` is an error)
    output = {
        k: v
        for k, v in (("aspect", aspect), ("resolution", resolution), ("fps", fps))
        if v is not None
    }
    if output:
        overrides["output"] = output
    if quality is not None:
        overrides["compose"] = {"quality": quality}
    return overrides


def _located(message: str, config: Path | None, overrides: dict[str, Any]) -> str:
    """`message` with where its setting was given in front, for the mistakes found after
    the settings load ("video.model 'seedance-9' is not a known byteplus video model",
    "keyframes.options: unknown option(s)"): they named the setting but not the file
    and line (or variable, or flag) to fix, as every other settings error does."""
    import re

    from mindmovie.config import Settings, setting_origin

    found = re.match(r"([a-z_]+(?:\.[a-z_0-9]+)+)(?=[:' ])", message)
    if found is None or found[1].split(".")[0] not in Settings.model_fields:
        return message
    where = setting_origin(found[1].split("."), config, overrides)
    return f"{where}: {message}" if where else message


def _user_errors() -> tuple[type[BaseException], ...]:
    from mindmovie.config import ConfigError
    from mindmovie.pipeline import RunDirError, RunLocked
    from mindmovie.store import StoreError
    from mindmovie.yamlsrc import SourceError

    return (SourceError, ConfigError, RunLocked, RunDirError, StoreError)


def _asked_on() -> Any:
    """Where the spend question is asked: stderr, under the estimate, unless only stdout
    is the terminal. `render 2> render.log` (or `2>/dev/null`) at a terminal put the
    estimate and the question in the file, and the person saw nothing and a wait; on
    stdout, their terminal, they are asked. Neither a terminal: stderr, else stdout
    (stderr closed)."""
    streams = [s for s in (sys.stderr, sys.stdout) if s is not None]
    for stream in streams:
        try:
            if stream.isatty():
                return stream
        except (OSError, ValueError):  # a stream closed under us
            continue
    return streams[0] if streams else sys.stdout


def _confirmer(yes: bool, budget: float | None, quiet: bool) -> Any:
    """How this run decides to spend: asked each run, never remembered (lessons.md)."""
    from mindmovie.costs import RunEstimate, budget_short, estimate_table, format_usd
    from mindmovie.pipeline import Declined, Interrupted

    def carried(est: RunEstimate) -> None:
        # `render --fresh` carrying paid clip jobs: the total counts their scenes' clips
        # as bought, which they are only if the new inputs differ (`carried_may_cover`)
        if est.carried_may_cover > 0:
            err.print(
                f"Up to {format_usd(est.carried_may_cover)} of it may not be spent: clip "
                "jobs of the previous run still in flight (paid there) are carried into "
                "this run, and a scene whose new plan and keyframe ask for the very clip "
                "one makes takes it instead of a new one (known once its keyframe is made).",
                markup=False,
            )

    def short(est: RunEstimate) -> None:
        # a budget below the estimate: the render stops at the cap, part of the movie
        # made. `--yes --budget` (or a script's budget) went ahead without a word of it,
        # and the person learnt it only when the render stopped, exit 3. (doctor GOALS
        # fails its budget row with the same words: `costs.budget_short`)
        if (line := budget_short(est, budget)) is not None:
            err.print(line, markup=False)

    def show(est: RunEstimate) -> None:
        if not quiet:
            err.print(estimate_table(est))
            carried(est)
        short(est)  # (with --quiet too: it says the render will not be whole)

    def accepting(why: str) -> Callable[[RunEstimate], bool]:
        def accept(est: RunEstimate) -> bool:
            show(est)
            if est.again:
                # the plan costs more than the first table said: the pipeline's warning
                # said "asked again" here too, where nothing is asked (with --quiet too)
                err.print(f"Not asked again: {why}; the render goes on.", markup=False)
            return True

        return accept

    if yes:
        return accepting("--yes accepts it")
    # stdin closed (`0<&-`, some service managers): Python's sys.stdin is None
    if sys.stdin is None or not sys.stdin.isatty():
        if budget is not None:
            return accepting(
                f"there is no terminal to ask at, and the budget {format_usd(budget)} caps "
                "the spend"
            )

        def refuse(est: RunEstimate) -> bool:
            show(est)
            raise Declined(
                f"this run would spend about {format_usd(est.total)} and nobody is here to "
                "confirm it: pass --yes to accept the estimate, or --budget USD to cap the spend"
            )

        return refuse

    def ask(est: RunEstimate) -> bool:
        shown = _asked_on()
        if est.again:
            err.print("Asked again, with what the plan just made costs:", markup=False)
        err.print(estimate_table(est))  # even with --quiet: the person is asked about it
        if shown is sys.stdout and sys.stderr is not None:
            out.print(estimate_table(est))  # the log is a file: on the terminal too
        carried(est)
        short(est)
        spent = f", {format_usd(est.spent)} of it spent already" if est.spent > 0 else ""
        cap = f" (budget {format_usd(budget)}{spent})" if budget is not None else ""
        try:
            # on stderr, under the estimate: on stdout (click's default) `render > log`
            # put the question in the file, and the person saw the estimate and a wait.
            # click writes the question's last character with input(), to sys.stdout: a
            # space began the log's result line (and stdout closed raised "lost
            # sys.stdout"), so input() writes to stderr too. With stderr closed (`2>&-`)
            # input() raised "lost sys.stderr": the person answered, and the render
            # ended, exit 1, without a word; asked on stdout then (`_asked_on`)
            question = f"Spend about {format_usd(est.total)}{cap}?"
            with contextlib.redirect_stdout(shown), contextlib.redirect_stderr(shown):
                return bool(typer.confirm(question, default=False))
        except typer.Abort:  # Ctrl-C (or end of input) at the question
            raise Interrupted("nothing was spent; render again when you are ready") from None

    return ask


def _budget_named(budget: float | None, config: Path | None, settings: Any = None) -> str:
    """The cap a budget stop says to raise: --budget when given, else budget_usd where it
    was set (config.yaml's line, MINDMOVIE_BUDGET_USD, .env's line), which --budget
    would override. With `settings` holding no budget_usd, nothing is read for it."""
    from mindmovie.config import setting_origin

    if budget is not None or (settings is not None and settings.budget_usd is None):
        return "--budget"
    where = setting_origin(["budget_usd"], config)
    return "--budget" if where is None else f"budget_usd (set in {where}; or give --budget)"


def _warn_config_beside(
    goals: Path | str | None, config: Path | None, reporter: Any = None
) -> None:
    """`config_beside_goals`'s warning, through `reporter` (else on stderr), for every
    command that reads the settings for a goals.yaml (render, plan, estimate, doctor,
    status, storyboard): run from elsewhere, doctor said "ready: the local preset can
    run" and "a render spends nothing" of a byteplus project, and storyboard marked its
    paid keyframes out of date."""
    from mindmovie.config import config_beside_goals
    from mindmovie.progress import WarningsReporter

    if goals and (unread := config_beside_goals(Path(goals), config)):
        (reporter or WarningsReporter()).warn(unread)


def _run_pipeline(
    goals: Path,
    settings: Any,
    out_dir: Path | None,
    *,
    fresh: bool = False,
    until: str = "movie",
    quiet: bool = False,
    verbose: bool = False,
    yes: bool = False,
    budget: float | None = None,
    skip_failed: bool = False,
    let_go: bool = False,
    located: Callable[[str], str] = str,
    config: Path | None = None,
) -> Any:
    """`config`: the --config given (None: not given), for `config_beside_goals`."""
    from mindmovie.config import ConfigError
    from mindmovie.pipeline import (
        BudgetStopped,
        Declined,
        DiskFull,
        Interrupted,
        Pipeline,
        RenderFailed,
        RunDirGone,
        input_gone,
        without_fresh,
    )
    from mindmovie.progress import make_reporter
    from mindmovie.providers.base import InvalidRequest, ProviderError

    cap = budget if budget is not None else settings.budget_usd
    # from here on, output that goes away (`render | head`, a log viewer quit) is
    # written nowhere and the render goes on to its end (`LogConsole`): a closed pipe
    # ended it at its next line, exit 1, paid answers on the wire lost
    out.goes_on = err.goes_on = True
    pipe: Pipeline | None = None

    def resume(said: object) -> str:
        """A stop's or failure's line: said to resume without --fresh once this render's
        --fresh set the old run aside (`without_fresh`)."""
        text = str(said)
        return without_fresh(text) if pipe is not None and pipe.fresh_set_aside else text

    try:
        reporter = make_reporter(quiet=quiet, verbose=verbose)
        _warn_environment(reporter, settings)
        _warn_shutdown(reporter, settings)
        _warn_config_beside(goals, config, reporter)
        try:
            try:
                pipe = Pipeline(
                    goals,
                    settings,
                    out=out_dir,
                    reporter=reporter,
                    budget=cap,
                    confirm=_confirmer(yes, cap, quiet),
                    budget_named=_budget_named(budget, config, settings),
                )
            except InvalidRequest as e:
                # a setting naming a model the catalog does not know: a mistake to fix
                # (exit 2, as `estimate` says it), found before anything runs
                raise _fail(located(e.message)) from None
            res = asyncio.run(
                pipe.run(
                    fresh=fresh,
                    until=until,  # type: ignore[arg-type]
                    skip_failed=skip_failed,
                    let_go=let_go,
                )
            )
            _finished.append(_made(res, until))
            if pipe.stopped:
                # a stop signal came as the render ended, which it did as done all the
                # same: exit 130 as for any stop (said by `command`, once the live view is
                # closed), with what was made. It was exit 0 after "stopping: nothing new
                # is sent", or 130 a moment later, once its handlers were removed
                raise KeyboardInterrupt
            return res
        finally:
            reporter.close()
    except ConfigError as e:  # a stage option a provider refuses: where it was set
        raise _fail(located(str(e))) from None
    except _user_errors() as e:
        raise _fail(str(e)) from None
    except FileNotFoundError as e:
        # a goal's photo moved or deleted after goals.yaml was checked, before the
        # estimate read it: a traceback, exit 1. A mistake to fix, as the next render
        # says it of goals.yaml
        if why := input_gone(e, pipe.run_dir if pipe is not None else None):
            raise _fail(why) from None
        raise
    except Declined as e:
        raise _fail(str(e), EXIT_FAILED) from None
    except BudgetStopped as e:
        raise _fail(resume(e), EXIT_BUDGET) from None
    except (RenderFailed, DiskFull, RunDirGone) as e:
        if isinstance(e, RunDirGone):
            # every thread of the render's loop has ended (asyncio.run waited for them):
            # what they wrote at the path after the render looked is not left there
            e.remove_remade()
            e.let_go()
        raise _fail(str(e) if isinstance(e, RunDirGone) else resume(e), EXIT_FAILED) from None
    except InvalidRequest as e:
        if e.setting:
            # the person's setting, refused by the provider (a model id it does not
            # know, an option it refuses): a mistake to fix, said where it was written
            raise _fail(located(e.message)) from None
        raise _fail(resume(e), EXIT_FAILED) from None
    except ProviderError as e:
        raise _fail(resume(e), EXIT_FAILED) from None
    except Interrupted as e:
        raise _stopped(f"interrupted: {resume(e)}") from None  # one line in a log
    except KeyboardInterrupt:
        if pipe is not None and pipe.finished is not None:
            # a stop signal once the render had ended (its graceful stop removed, run.db
            # and the providers being closed): it stopped nothing, which was said as a
            # stop ("resume where it stopped") of a render whose movie was made
            if not _finished:
                _finished.append(_made(pipe.finished, until))
            raise  # said by `command`, exit 130: the signal was sent all the same
        raise _stopped(
            resume("interrupted; run the same command again to resume where it stopped")
        ) from None


def _made(res: Any, until: str) -> str:
    """What a stop signal after a render that ended as done says: what it made."""
    if res.movie is not None:
        made = f"the movie is made: {res.movie}"
    elif until == "plan":
        made = f"the plan is made: {res.run_dir / 'plan.yaml'}"
    else:
        made = f"it stopped after {until}, as asked: {res.run_dir}"
    return f"interrupted as the render ended; {made}"


@command(
    """Render the movie for GOALS into outputs/<title>/movie.mp4 (outputs/ is the
    output_dir setting; a run rendered before goes on in its folder; --out chooses).

    With paid providers the cost estimate is shown first and you are asked to confirm
    (every run), unless --yes; --budget caps the spend and stops cleanly at the cap.

    Resumes the same run directory when run again: finished steps are reused, and only
    what changed (in goals.yaml, plan.yaml or settings) is redone.

    Exit codes: 0 done; 2 a mistake to fix (goals.yaml, plan.yaml, a setting, a missing
    key, a run already rendering, a damaged run folder or run.db); 1 a failure (a scene,
    the compose, a provider, a full disk, the spend declined or not confirmable); 3
    stopped at the budget; 130 interrupted. Output that goes away (a closed pipe:
    `| head`, a log viewer quit; a full disk) does not stop the render: it goes on to
    its end, writing nowhere (`mindmovie status RUN_DIR` shows what it did).
    """,
    "interrupted before anything was made or spent",
)
def render(
    goals: Annotated[
        Path,
        typer.Argument(help="Your goals.yaml.", show_default=False, metavar="GOALS", parser=_path),
    ],
    config: ConfigOpt = None,
    out_dir: OutOpt = None,
    preset: PresetOpt = None,
    aspect: AspectOpt = None,
    resolution: ResOpt = None,
    fps: FpsOpt = None,
    quality: QualityOpt = None,
    fresh: FreshOpt = False,
    until: UntilOpt = "movie",
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Accept the cost estimate without asking.")
    ] = False,
    budget: BudgetOpt = None,
    skip_failed: Annotated[
        bool,
        typer.Option("--skip-failed", help="Make the movie without scenes that failed (named)."),
    ] = False,
    let_go: Annotated[
        bool,
        typer.Option(
            "--let-go",
            help="For this render only: let go of the clip jobs (and lost job requests) kept "
            "because the provider settings changed since they were made, when the old "
            "settings cannot be put back. They stay counted as spent; their scenes' clips "
            "are bought again (in the estimate, asked first). Other scenes are untouched.",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only warnings and the result.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Every event on its own line (no live view).")
    ] = False,
) -> None:
    cap = _check_budget(budget)
    _check_until(until)
    if quiet and verbose:
        raise _fail(
            "--quiet and --verbose: give one of them (--quiet prints only warnings and the result)"
        )
    settings = _settings(
        config, preset=preset, aspect=aspect, resolution=resolution, fps=fps, quality=quality
    )
    flags = _overrides(preset, aspect, resolution, fps, quality)
    res = _run_pipeline(
        goals,
        settings,
        out_dir,
        fresh=fresh,
        until=until,
        quiet=quiet,
        verbose=verbose,
        yes=yes,
        budget=cap,
        skip_failed=skip_failed,
        let_go=let_go,
        located=lambda message: _located(message, config, flags),
        config=config,
    )
    ran = len([r for r in res.ran if r[1] in ("keyframe", "clip")])
    reused = len([r for r in res.reused if r[1] in ("keyframe", "clip")])
    encoded = len([r for r in res.ran if r[1] == "segment"])
    if res.movie is not None:
        _say(f"[bold green]movie:[/bold green] {escape(str(res.movie))}")
    else:
        _say(f"[bold]stopped after {until}:[/bold] {escape(str(res.run_dir))}")
    if not quiet and until == "plan":
        # (no keyframe or clip step is run: "steps run: 0, reused: 0" after a plan paid
        # for read as if nothing had been done)
        _say(f"plan: {res.run_dir / 'plan.yaml'}", markup=False)
    elif not quiet:
        _say(
            f"steps run: {ran}, reused: {reused}"
            + (f", movie segments encoded: {encoded}" if encoded else "")
            + f"; plan: {res.run_dir / 'plan.yaml'}",
            markup=False,
        )


#: the least room `plan`'s table gives the affirmations: less, and a line per scene
PLAN_WORDS = 20


@command(
    """Write plan.yaml (scenes, affirmations, prompts, seconds) without rendering.

    Edit plan.yaml, then `render`: only the scenes your edit touches are redone.
    """,
    "interrupted before anything was made or spent",
)
def plan(
    goals: Annotated[
        Path,
        typer.Argument(help="Your goals.yaml.", show_default=False, metavar="GOALS", parser=_path),
    ],
    config: ConfigOpt = None,
    out_dir: OutOpt = None,
    preset: PresetOpt = None,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Start a new run: the old one (plan, keyframes, clips, movie) is moved to "
            "previous/<time>/ in the run directory, so the next render makes (and, on a paid "
            "preset, pays for) every scene again.",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Accept the planner call's cost without asking.")
    ] = False,
    budget: Annotated[
        str | None, typer.Option("--budget", help="Hard cap in USD.", metavar="<float>")
    ] = None,
) -> None:
    cap = _check_budget(budget)
    settings = _settings(config, preset=preset)
    flags = _overrides(preset, None, None, None, None)
    res = _run_pipeline(
        goals,
        settings,
        out_dir,
        fresh=fresh,
        until="plan",
        quiet=True,
        yes=yes,
        budget=cap,
        located=lambda message: _located(message, config, flags),
        config=config,
    )
    from mindmovie.yamlsrc import plural

    path = res.run_dir / "plan.yaml"
    # on one line: a title written as a YAML block (`title: |`) has line breaks, and the
    # table's heading put ": 3 scenes" alone on a line below it
    one_line = " ".join(res.plan.title.split())
    title = f"{escape(one_line)}: {plural(len(res.plan.scenes), 'scene')}"
    ids = max((len(sc.id) for sc in res.plan.scenes), default=0)
    if ids + len("seconds") + PLAN_WORDS + 10 > out.width:  # 10: the box and padding
        # a line per scene, the id whole: the table cut every id to "01-hea…" at 30
        # columns (its rows could not be told apart) and "affirmation" to "affir…"
        from mindmovie.costs import packed

        out.print(Text(title))
        for sc in res.plan.scenes:
            words = [f"{sc.id} ({sc.seconds:g} s):", *sc.affirmation.split()]
            first, *rest = packed(words, out.width - 2)
            for line in [first, *(f"  {ln}" for ln in rest)]:
                _say(line, markup=False)
    else:
        table = Table("scene", "seconds", "affirmation", title=title)
        table.columns[0].no_wrap = True
        # folded, not ellipsed: a word longer than the column (Chinese or Japanese has no
        # spaces) ended in "…", the affirmation cut where the person checks it
        table.columns[2].overflow = "fold"
        for sc in res.plan.scenes:
            table.add_row(Text(sc.id), f"{sc.seconds:g}", Text(sc.affirmation))
        out.print(table)
    for note in res.notes:  # run quiet: the render's information, said here instead
        # wrapped at words on a terminal (one line of 300-400 characters, the terminal cut
        # it anywhere); in a pipe or a log not wrapped by rich (a note's own lines kept)
        err.print(note, markup=False, highlight=False, soft_wrap=not err.is_terminal)
    _say(f"[bold green]plan:[/bold green] {escape(str(path))}")


@command(
    """What rendering GOALS would cost, scene by scene. Spends nothing.

    Uses an edited plan.yaml when the run has one, and leaves out work a previous run
    already finished, so a resumed run shows only what is left to pay for.
    """,
)
def estimate(
    goals: Annotated[
        Path,
        typer.Argument(help="Your goals.yaml.", show_default=False, metavar="GOALS", parser=_path),
    ],
    config: ConfigOpt = None,
    out_dir: OutOpt = None,
    preset: PresetOpt = None,
    aspect: AspectOpt = None,
    resolution: ResOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Numbers and formula inputs as JSON.")
    ] = False,
    let_go: Annotated[
        bool,
        typer.Option(
            "--let-go",
            help="Price what `render --let-go` would buy: the clips of jobs kept because the "
            "provider settings changed since they were made (asks no provider: every such "
            "job is counted as let go of, so this is never below what that render buys).",
        ),
    ] = False,
) -> None:
    from mindmovie.config import ConfigError
    from mindmovie.costs import estimate_json, estimate_table
    from mindmovie.pipeline import estimate_for
    from mindmovie.progress import WarningsReporter
    from mindmovie.providers.base import InvalidRequest

    settings = _settings(config, preset=preset, aspect=aspect, resolution=resolution)
    _warn_environment(settings=settings)
    _warn_config_beside(goals, config)
    flags = _overrides(preset, aspect, resolution, None, None)
    try:
        # what render warns of before any keyframe is paid (stderr, so --json stays JSON)
        est = estimate_for(
            goals, settings, out=out_dir, warn=WarningsReporter().warn, let_go=let_go
        )
    except ConfigError as e:  # a stage option a provider refuses: where it was set
        raise _fail(_located(str(e), config, flags)) from None
    except _user_errors() as e:
        raise _fail(str(e)) from None
    except InvalidRequest as e:  # a model the catalog does not know (as `render` says it)
        raise _fail(_located(e.message, config, flags)) from None
    from mindmovie.storyboard import timeline_seconds

    # (each scene as long as plan.yaml says, not its clip: 13 s of a 12 s clip is 13 s)
    movie = timeline_seconds(
        [s.seconds if s.shown_seconds is None else s.shown_seconds for s in est.scenes], settings
    )
    if as_json:
        _say_json({**estimate_json(est), "movie_seconds": round(movie, 3)})
        return
    out.print(estimate_table(est, movie))


def _disk_size(n: int) -> str:
    """Bytes on disk as status says them: "6.4 MB", "52 KB" under a megabyte, and "412
    bytes" under a kilobyte (a set-aside folder of a few bytes was "0 KB", as if empty)."""
    if n < 1000:
        return "1 byte" if n == 1 else f"{n} bytes"
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


@command(
    """Show each scene's steps in RUN_DIR: stage, status, attempts, errors, and what the
    next render does.

    "next render" is checked the way `render` checks it, with the settings `render` would
    read (config.yaml or --config, MINDMOVIE_* variables) and the options given here, so
    give status the same options you will give render. Spends nothing, changes nothing.

    Exit codes: 2 when the next render would stop on a mistake before any step (in
    plan.yaml, goals.yaml, --goals or the settings, as `render` refuses them): the run is
    shown all the same (with --json as JSON, its "refused" field saying why), then the
    render's own error line. 2 also when RUN_DIR holds no run. Otherwise 0, also when the
    inputs could not be checked (e.g. the goals.yaml moved: said in the report), and when
    a key the settings use is not set or unusable (named in the report, never its value).
    """,
)
def status(
    run_dir: RunDirArg,
    goals: CompareGoalsOpt = None,
    config: ConfigOpt = None,
    preset: PresetOpt = None,
    aspect: AspectOpt = None,
    resolution: ResOpt = None,
    fps: FpsOpt = None,
    quality: QualityOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Every step as JSON.")] = False,
) -> None:
    from mindmovie.config import ConfigError, load_settings
    from mindmovie.status import collect_status
    from mindmovie.yamlsrc import plural

    settings_error = None
    flags = _overrides(preset, aspect, resolution, fps, quality)
    try:
        settings = load_settings(config, flags)
    except ConfigError as e:
        settings, settings_error = None, str(e)
    _warn_environment(settings=settings)
    try:
        info = collect_status(run_dir, settings=settings, goals=goals)
    except _user_errors() as e:
        raise _fail(str(e)) from None
    if info["inputs"].pop("refused_setting", False) and info.get("refused"):
        # render's own line: a setting refused once the settings loaded ("output.aspect:
        # veo-3-1-fast: ratio 1:1 not allowed") with where it was given in front
        info["refused"] = info["inputs"]["why"] = _located(info["refused"], config, flags)
    _warn_config_beside(info["inputs"].get("goals"), config)
    if settings_error is not None:
        info["inputs"]["why"] = f"settings: {settings_error}"
        info["refused"] = settings_error  # the render stops on its settings first
    # a key the settings use and that is not set: the next render refuses to start (exit
    # 2, naming it), and status said nothing of it. Named here, no value; exit 0 still
    # (the README's exit 2 is for a mistake in the files or settings: status is also
    # run to look at a run where the keys are not, e.g. another shell or machine)
    lacking: list[dict[str, Any]] | None = None
    if settings is not None:
        from mindmovie.config import Keys
        from mindmovie.doctor import missing_keys

        lacking = missing_keys(settings, Keys.from_env())
        # a key not set that the next render does not ask for: none of its stages is
        # called (every step reused, `Pipeline._keyless_spare`); a key set with a flaw is
        # refused whatever the render calls
        needed = info["inputs"].get("stages_needed")
        for key in lacking:
            key["needed"] = (
                key["state"] != "not set"
                or needed is None
                or not set(needed).isdisjoint(key["stages"])
            )
    info["missing_keys"] = lacking
    # a mistake the render stops on: the run is shown all the same, then the render's own
    # error line and exit code (2), so a script sees what `render` would say
    refused: str | None = info.get("refused")
    if as_json:
        _say_json(info, default=str)
        if refused:
            raise _fail(refused)
        return
    from mindmovie.costs import NARROW_TABLE, format_usd

    # Narrow on purpose (80 columns in a pipe): the job id goes in "next render", the
    # errors below the table in full; money columns only when the run has paid calls.
    paid = bool(info["ledger"])
    shown = {"succeeded": "done", "submitted": "in job", "pending": "-"}
    live = info.get("rendering")
    if not live:  # no render is running: a "running" step was stopped by a kill
        shown["running"] = "stopped"
    flying = paid and info["money"]["in_flight"] > 0
    # calls of unknown outcome (an answer lost: counted as spent): per scene, as money in
    # flight is; only the line under the table said it, and a row did not add up
    unsure = paid and (info["money"].get("unknown") or 0.0) > 0
    extra = [*(["in flight"] if flying else []), *(["unknown"] if unsure else [])]
    money_columns = ["est.", "billed", *extra] if paid else []

    def money_cells(spend: dict[str, float] | None) -> list[str]:
        if not paid:
            return []
        if not spend:
            # nothing asked of a paid provider yet (e.g. after `plan`): "free" here read
            # as if the scene cost nothing, while the storyboard priced it
            return ["-", "-", *([""] * len(extra))]
        cells = [format_usd(spend["estimated"]), format_usd(spend["billed"])]
        if flying:
            cells.append(format_usd(spend["in_flight"]) if spend.get("in_flight") else "")
        if unsure:
            cells.append(format_usd(spend["unknown"]) if spend.get("unknown") else "")
        return cells

    # each error once, with the scenes it is of: a budget stop's one error was 37 lines
    # of 37 scenes (the scale audit)
    errors: dict[str, list[str]] = {}

    def cell(row: dict[str, Any], stage: str) -> str:
        """The step's state; for a finished step whose file is gone or not the one made,
        the file's ("missing", "changed"): "done" there read as if nothing were to redo."""
        state = row.get(stage) or "-"  # (null in --json: not started)
        if state == "failed" and stage in row.get("stopped", {}):
            return "stopped"  # by the budget or Ctrl-C: the error line says which
        if state == "failed" and stage == "clip" and row.get("taken"):
            return "taken"  # its job given to a scene asking the same (the error line)
        if state == "submitted" and stage == "clip" and row.get("local_clip"):
            # made here, free: "in job" of a clip whose render was stopped midway
            return "rendering" if live else "stopped"
        file = row.get("files", {}).get(stage)
        if state == "succeeded" and file not in (None, "ok"):
            return str(file)
        return str(shown.get(state, state))

    # (scene, [image, clip, tries], [money...], next render)
    rows: list[tuple[str, list[str], list[str], str]] = []
    below = info["inputs"].get("new_plan_why", "") if info["inputs"].get("checked") else ""
    for row in info["scenes"]:
        states = [cell(row, "keyframe"), cell(row, "clip"), str(row.get("attempts", ""))]
        nxt = str(row.get("next", ""))
        cause = str(row.get("new_plan_cause") or "")
        if len(cause) > 30 and cause in below:
            # the line under the table says it once; in each row it took 6-8 lines of
            # "next render" at 80 columns ("the planner (anthropic/claude-sonne" ...)
            nxt = nxt.replace(f"(a new plan: {cause})", "(a new plan: see below)")
        # a Veo operation by its id: its whole name (models/veo-.../operations/<id>, or a
        # Vertex one of 120 letters) took ~13 lines a scene in "next render" at 80
        # columns; the error line below and --json keep the whole name
        nxt = _OPERATION_NAME.sub(r"\g<id>", nxt)
        rows.append((row["scene_id"], states, money_cells(row.get("spend")), nxt))
        if row.get("error"):
            # (its own id in it, "clip for 06-growth-1 not started", is "each" of many)
            # (the id standing alone, not inside a path: scenes/<id>/keyframe.png stays)
            alone = rf"(?<![\w/-]){re.escape(row['scene_id'])}(?![\w/-])"
            said = re.sub(alone, "\x00", str(row["error"]))
            errors.setdefault(said, []).append(row["scene_id"])
    plan = info.get("planner_spend")
    if plan:  # the planner call(s) are the run's, not a scene's
        rows.append(("(planner)", ["", "", ""], money_cells(plan), ""))

    def whole(header: str, cells: list[str]) -> int:
        """A value column's width: its header and every value on one line, whole."""
        return max(len(v) for v in [header, *cells])

    state_columns = ["image", "clip", "tries"]
    widths = [whole(h, [r[1][i] for r in rows]) for i, h in enumerate(state_columns)]
    money_widths = [whole(h, [r[2][i] for r in rows]) for i, h in enumerate(money_columns)]

    # Under 64 columns, as the estimate's table: one space between columns (the box's
    # blank divider; no padding, no edges). With two, at 40 columns "next render" had 8
    # and its words were folded mid-word ("01-healt" "h-1", "cgt-2026" "12011234").
    narrow = out.width < NARROW_TABLE
    gap, edges = (1, 0) if narrow else (2, 2)

    def beside(values: list[int], folded: int = 2) -> int:
        """What the value columns take with the space(s) before each column but the first
        (a cell's padding, the box's space) and the table's edges."""
        return sum(values) + gap * (len(values) + folded - 1) + edges

    ids = [r[0] for r in rows] + ["scene"]
    longest_id = max(len(i) for i in ids)
    longest_next = max(len(w) for w in ["next render", *(r[3] for r in rows)])
    # The money beside the steps needs more than a narrow terminal has (at 40 columns
    # every header and money value was cut to "es…", "$0…"): it goes in a table of its
    # own below, scene by scene, when the id (8 at least; whole when it is up to 28, as
    # `folded_widths` keeps it) and "next render" (12) would not fit beside it. With 8
    # for a short id, a paid run stopped with clip jobs "in job" had every id folded at
    # 80 columns ("01-healt" "h-1", "(planner" ")") and each job id in two.
    id_w = longest_id if longest_id <= 28 else 8
    apart = bool(money_columns) and id_w + beside(widths + money_widths) + 12 > out.width
    # Narrower still, not even the steps fit beside an id of 8 and "render" (the header's
    # longest word): rich cut "done" to "do…" and dropped "next render" (COLUMNS=30). A
    # line a scene then, each value named, wrapped by the terminal.
    listed = 8 + beside(widths) + len("render") > out.width
    beside_columns = [] if apart else money_columns

    def folded_widths(room: int, nxt: int | None) -> tuple[int | None, int | None]:
        """The widths of the id and "next render" (None: as wide as their text) in `room`
        columns. The id is folded, never cut: kept on one line, a long id (a category slug
        of 60 letters) took the whole width, so the other columns were squeezed to
        nothing at 80 columns, and an ellipsis hid its -1/-2/-3 suffix. Set, not left to
        rich: it shrinks the widest column first and then gives a column back its
        min_width, which made the table wider than the terminal, and rich cropped each
        line at its edge (letters missing from the middle of a job id)."""
        if longest_id + (nxt or 0) <= room:
            return None, None
        if nxt is None:
            return max(8, room), None
        if narrow:
            return words_widths(room, nxt)
        if longest_id <= 28 and room - longest_id >= 12:
            # a short id whole ("next render" 12 at least): squeezed to 8 so that "next
            # render" kept 20, a paid run's ids were folded at 80 columns ("01-healt" "h-1")
            return None, room - longest_id
        # "next render" whole when short ("make the clip"), else 12 at least and what an
        # id of 28 leaves; the id (8 at least) the rest
        nxt = min(nxt, max(12, room - min(longest_id, 28), min(nxt, 20)), max(1, room - 8))
        return max(8, min(longest_id, room - nxt)), nxt

    def words_widths(room: int, nxt: int) -> tuple[int, int]:
        """On a narrow terminal, the split of `room` between the id and "next render" that
        folds the fewest words that would fit whole (an id counted twice: it names the
        row), the id as narrow as that allows; a word longer than its column can be is
        folded wherever the split falls."""
        words = [len(w) for r in rows for w in r[3].split()]
        lengths = [len(i) for i in ids]

        def cost(scene_w: int) -> int:
            next_w = room - scene_w
            folded_ids = sum(scene_w < n <= room - 6 for n in lengths)
            return 2 * folded_ids + sum(next_w < n <= room - 8 for n in words)

        scene_w = min(range(8, max(9, room - 5)), key=lambda w: (cost(w), w))
        next_w = max(1, min(nxt, room - scene_w))
        return max(8, room - next_w), next_w

    def new_table() -> Table:
        if narrow:
            return Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0))
        # no side borders, and no padding at the table's edges
        return Table(box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)

    # the run folder on a line of its own, not as the table's title: a title wraps to the
    # table's width, which cut a long path in two lines in a pipe (80 columns)
    table = new_table()
    room = out.width - beside(widths + ([] if apart else money_widths))
    scene_w, next_w = folded_widths(room, longest_next)
    table.add_column("scene", width=scene_w, overflow="fold")
    # the values and their headers whole, on one line: rich folds the id and "next
    # render" to fit, never "done" to "do…"
    for c in state_columns:
        table.add_column(c, no_wrap=True)
    for c in beside_columns:
        table.add_column(c, justify="right", no_wrap=True)
    # folded too: the job id it would poll is one long word
    table.add_column("next render", width=next_w, overflow="fold")
    spend_table = new_table()
    spend_w, _ = folded_widths(out.width - beside(money_widths, 1), None)
    spend_table.add_column("scene", width=spend_w, overflow="fold")
    for c in money_columns:
        spend_table.add_column(c, justify="right", no_wrap=True)
    for scene, states, money_row, nxt in rows:
        if scene != "(planner)":
            table.add_row(Text(scene), *states, *([] if apart else money_row), Text(nxt))
        elif not apart:
            table.add_row(scene, *states, *money_row, "")
        if apart:
            spend_table.add_row(Text(scene), *money_row)
    _say(str(run_dir), markup=False)
    if note := info.get("put_back"):  # (a render --fresh stopped: the run set aside)
        _say(note, markup=False)
    if listed:
        for scene, states, money_row, nxt in rows:
            named = [] if scene == "(planner)" else list(zip(state_columns, states, strict=True))
            named += [(h, v) for h, v in zip(money_columns, money_row, strict=True) if v]
            for line in _scene_lines(scene, [f"{h} {v}" for h, v in named], nxt, out.width):
                _say(line, markup=False)
    else:
        for shown_table in [table, *([spend_table] if apart else [])]:
            if narrow:  # the blank line above each table its edges gave
                out.print()
            out.print(shown_table)
    from mindmovie.compose.timeline import name_some

    for said, of in errors.items():
        said = said.replace("\x00", of[0] if len(of) == 1 else "each")
        _say(f"[red]error[/red] {escape(f'{name_some(of)}: {said}')}", highlight=False)
    money = info["money"]
    # calls whose answer was lost and which nothing can settle: counted by the budget
    unknown = money.get("unknown") or 0.0
    maybe = f", outcome unknown {format_usd(unknown)} (counted as spent)" if unknown else ""
    _say(
        f"spend: billed {format_usd(money['billed'])}, in flight {format_usd(money['in_flight'])}"
        f"{maybe} (estimated {format_usd(money['estimated'])})"
    )
    movie = info.get("movie")
    state = movie["status"] if movie else "not yet composed"
    if state == "running" and not live:
        state = "stopped before it was finished (the next render composes it)"
        if (run_dir / "movie.mp4").is_file():
            # a recompose stopped (an edit, then Ctrl-C): the file is whole, written only
            # once done, and was taken for the edited movie
            state += "; the movie.mp4 there is the last one finished, from before the stop"
    if movie and movie.get("file") in ("missing", "changed"):
        state += f", but movie.mp4 is {movie['file']}: the next render composes it again"
    elif (
        movie
        and (movie.get("edited") or movie.get("scenes_changed") or movie.get("settings_changed"))
        and state == "succeeded"
    ):
        causes: list[str] = [f"{', '.join(movie['edited'])} edited"] if movie.get("edited") else []
        if changed := movie.get("scenes_changed"):
            names = ", ".join(changed[:3]) + (
                f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            )
            causes.append(f"{'scene' if len(changed) == 1 else 'scenes'} {names} changed")
        if movie.get("settings_changed"):
            causes.append(f"{', '.join(movie['settings_changed'])} changed")
        state += f"; the next render composes it again ({'; '.join(causes)})"
    _say(f"movie: {state}", markup=False)
    held = info.get("held") or {}
    if aside := held.get("previous"):
        _say(
            f"previous/: {_disk_size(aside['bytes'])} in {plural(aside['folders'], 'folder')} "
            "set aside (old runs by --fresh, files changed by hand); no render needs them: "
            "deleting previous/ frees that disk",
            markup=False,
        )
    if (kept := held.get("kept")) and not paid:
        # a run with no paid call (every provider local): what kept/ holds was made here,
        # free, and "paid pictures and clips ... without paying" was said of it too
        _say(
            f"kept/: {_disk_size(kept['bytes'])}, {plural(kept['files'], 'file')} an edit "
            "replaced (pictures and clips, plans with your edits), taken back when those "
            "inputs come back; deleting kept/ frees that disk, and what it held is made "
            "again if they come back",
            markup=False,
        )
    elif kept:
        _say(
            f"kept/: {_disk_size(kept['bytes'])}, {plural(kept['files'], 'file')} an edit "
            "replaced (paid pictures and clips, plans with your edits), taken back without "
            "paying when those inputs come back; deleting kept/ frees that disk, and what it "
            "held is made (or paid for) again if they come back",
            markup=False,
        )
    for key in lacking or []:
        var, *also = key["variables"]
        names = var + (f" (or {', '.join(also)})" if also else "")
        whose = f"{key['provider']}'s key, which {key['needed_by']} uses for " + " and ".join(
            key["stages"]
        )
        if key["why"]:  # set with a flaw (a space inside): status called it set, said nothing
            # named by the variable it was read from, when that is not the first one
            held = key["variable"] if key["variable"] != var else names
            _say(
                f"key: {held} is set but unusable ({whose}): it {key['why']} The next "
                "render refuses to start until it is set again",
                markup=False,
            )
            continue
        if not key["needed"]:
            _say(
                f"key: {names} is not set: {whose}; the next render calls none of them "
                "(their steps are reused), so it does not need it",
                markup=False,
            )
            continue
        _say(
            f"key: {names} is not set: {whose}; the next render refuses to start until it is set",
            markup=False,
        )
    if live:
        _say(f"a render is working on this run now (pid {live})", markup=False)
    for wait in info.get("late_wait") or []:
        # no clip is sent to the provider meanwhile: without this line every other scene
        # looked stuck for up to the grace (5 minutes)
        names = wait["scenes"]
        whose = f"scene{'s' if len(names) > 1 else ''} {', '.join(names)}"
        name = wait["provider"]
        if live:
            _say(
                f"waiting for a lost request of {whose} to show up at {name} (up to "
                f"{wait['seconds']:.0f} s more): no clip is sent to {name} until its job is "
                "listed (it is then the scene's clip, not paid again) or the wait is over",
                markup=False,
            )
        else:
            _say(
                f"the next render first waits up to {wait['seconds']:.0f} s for a lost "
                f"request of {whose} to show up at {name} (its job is then the scene's clip, "
                f"not paid again); no clip is sent to {name} meanwhile",
                markup=False,
            )
    if info.get("plan_error") and info["plan_error"] != refused:  # else the error line
        _say(f"plan.yaml: {info['plan_error']}", markup=False)
    inputs = info["inputs"]
    if inputs["checked"]:
        _say(f"next render checked against: {inputs['goals']}", markup=False)
        if inputs.get("plan_kept"):
            lacks = inputs.get("plan_kept_lacks") or []
            # (the render names them as it puts the plan back; said before it, now)
            lost = (
                ""
                if not lacks
                else "; your edits of plan.yaml since are not in it"
                if lacks == ["?"]
                else f"; your edits not in it: {', '.join(lacks)}"
            )
            _say(
                "the next render goes back to the plan these goals had before (kept in "
                f"kept/plan, with its edits); plan.yaml is kept as plan.previous.yaml{lost}",
                markup=False,
            )
        if inputs.get("new_plan"):
            _say(inputs.get("new_plan_why", "the next render makes a new plan"), markup=False)
        for change in inputs.get("settings_changed") or []:
            _say(f"setting changed since the last render: {change}", markup=False)
    else:
        # a refusal is said once, as the render says it: on stderr, below the report
        why = "the render refuses them (the error line below)" if refused else inputs["why"]
        _say(f"inputs not checked: {why}", markup=False)
    if refused:
        raise _fail(refused)


def _current_work(
    run_dir: Path, settings: Any, goals: Path | None
) -> tuple[dict[str, str], dict[str, str]] | None:
    """(keyframes, clips) by scene id, with their files' sha256, that the next render with
    `settings` would reuse, as `status` finds them; None when that cannot be checked (no
    goals.yaml recorded, a mistake the render would stop on): the storyboard then trusts
    what the last render recorded."""
    from mindmovie.fsutil import sha256_file
    from mindmovie.status import collect_status

    try:
        info = collect_status(run_dir, settings=settings, goals=goals)
    except _user_errors():
        return None  # the storyboard says what is wrong with the run
    if not info["inputs"].get("checked") or info.get("refused"):
        return None
    current: tuple[dict[str, str], dict[str, str]] = ({}, {})
    for row in info["scenes"]:
        sid, reuse = row["scene_id"], row.get("reuse") or {}
        for stage, name, found in (("keyframe", "keyframe.png", current[0]),
                                   ("clip", "clip.mp4", current[1])):  # fmt: skip
            path = run_dir / "scenes" / sid / name
            if reuse.get(stage) and path.is_file():
                found[sid] = sha256_file(path)
    return current


def _board_costs(
    run_dir: Path, settings: Any, goals: Path | None
) -> tuple[dict[str, float], float, dict[str, str]] | None:
    """Each scene's whole cost and the plan call's, priced with `settings` (the board
    drawn with --preset byteplus for a run rendered offline said "estimated free": it
    showed the costs the last render recorded), and the scenes that take an earlier
    one's very requests (`SceneEstimate.same_as`); or None when the plan or its goals.yaml
    (given, or the one the run recorded) cannot be read: the recorded costs then."""
    from mindmovie import costs
    from mindmovie.pipeline import Pipeline, goals_record, last_goals
    from mindmovie.plan import load_plan
    from mindmovie.store import Store

    unreadable: tuple[type[BaseException], ...] = (*_user_errors(), OSError)
    try:
        if goals is None:
            db = run_dir / "run.db"
            if not db.is_file():
                return None
            store = Store(db, read_only=True)
            try:
                recorded = last_goals(run_dir, *goals_record(run_dir, store.get_meta))
            finally:
                store.close()
            if not recorded:
                return None
            goals = Path(recorded)
        pipe = Pipeline(goals, settings, out=run_dir)
        plan = load_plan(run_dir / "plan.yaml")
        est = pipe.whole_estimate(plan)  # whole, not what is left
        planner = costs.estimate_planner(settings, pipe.goals).usd
    except unreadable:
        return None
    same = {s.scene_id: by for s in est.scenes if (by := s.same_as)}
    return {s.scene_id: s.total for s in est.scenes}, planner, same


def _board_movie(run_dir: Path, settings: Any) -> float | None:
    """The movie's length at `settings` (`storyboard.movie_seconds`), for the board drawn
    with them; None when plan.yaml cannot be read (load_plan's error is the board's to
    say) or the settings make no movie (the render says why)."""
    from mindmovie.plan import load_plan
    from mindmovie.storyboard import movie_seconds

    unreadable: tuple[type[BaseException], ...] = (*_user_errors(), OSError, ValueError)
    try:
        return movie_seconds(load_plan(run_dir / "plan.yaml"), settings)
    except unreadable:
        return None


@command(
    """Write storyboard.png and storyboard.html for RUN_DIR: keyframes, affirmations, costs.

    Open storyboard.html to review every scene (and play clips that exist) before paying
    for video: `render --until keyframes`, look, edit plan.yaml, then `render`.

    A keyframe or clip made before an edit of plan.yaml is marked out of date (its clip
    is not played). With --config, --goals or a setting option, so is one the next render
    with those settings would make again (another preset, size, fps...): checked as
    `status` checks it, over config.yaml and MINDMOVIE_* variables as `render` reads them.
    """,
    "interrupted; storyboard.png and storyboard.html are each written whole or not at "
    "all: run it again for both",
)
def storyboard(
    run_dir: RunDirArg,
    goals: BoardGoalsOpt = None,
    config: ConfigOpt = None,
    preset: PresetOpt = None,
    aspect: AspectOpt = None,
    resolution: ResOpt = None,
    fps: FpsOpt = None,
    quality: QualityOpt = None,
) -> None:
    from mindmovie.config import ConfigError, load_settings
    from mindmovie.storyboard import check_is_a_run, storyboard_from_run

    flags = _overrides(preset, aspect, resolution, fps, quality)
    current = priced = movie = None
    if config is not None or goals is not None or any(v is not None for v in flags.values()):
        try:  # the run folder first, as `status` says a wrong one before its settings
            check_is_a_run(run_dir)
        except _user_errors() as e:
            raise _fail(str(e)) from None
        try:
            settings = load_settings(config, flags)
        except ConfigError as e:
            raise _fail(str(e)) from None
        if goals is not None:
            # a --goals given that cannot be read (a typo in its name, a mistake in it)
            # was passed over in silence and the board written as if it were not given;
            # `status --goals` says what is wrong with it, and so does this
            from mindmovie.goals import GoalsError, load_goals

            try:
                load_goals(goals)
            except GoalsError as e:
                raise _fail(str(e)) from None
            _warn_config_beside(goals, config)
        current = _current_work(run_dir, settings, goals)
        priced = _board_costs(run_dir, settings, goals)
        movie = _board_movie(run_dir, settings)
    try:
        png, html = storyboard_from_run(
            run_dir,
            costs=None if priced is None else priced[0],
            planner_cost=None if priced is None else priced[1],
            same_as=None if priced is None else priced[2],
            current_keyframes=None if current is None else current[0],
            current_clips=None if current is None else current[1],
            movie=movie,
        )
    except _user_errors() as e:
        raise _fail(str(e)) from None
    except OSError as e:  # a full disk, a run folder this user cannot write
        import errno

        from mindmovie.pipeline import disk_full_message, is_disk_full

        if is_disk_full(e):  # (the board sends no paid call: no word of their rule)
            raise _fail(
                f"storyboard not written: {disk_full_message(run_dir, paid=False, out=False)}",
                EXIT_FAILED,
            ) from None
        why = f"cannot write in {run_dir} ({e.strerror or e})"
        unread = e.filename and os.path.isfile(e.filename) and not os.access(e.filename, os.R_OK)
        if e.errno in (errno.EACCES, errno.EPERM) and unread:
            # a keyframe or clip it draws that this user cannot read: "cannot write in
            # <run>" sent the person to a folder they could write
            raise _fail(
                f"storyboard not written: {e.filename}: cannot be read ({e.strerror}); fix "
                "its permissions (made by another user, or with sudo?) and run this again"
            ) from None
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            # the folder's problem, as `render` says it (exit 2, a person's to fix): it
            # was exit 1 here, as if the board itself had failed
            raise _fail(
                f"storyboard not written: {why}; check the run folder's permissions, or "
                "copy the run folder somewhere you can write"
            ) from None
        raise _fail(f"storyboard not written: {why}", EXIT_FAILED) from None
    _finished.append(f"interrupted; the storyboard is written: {png}")
    _say(
        f"[bold green]storyboard:[/bold green] {escape(str(png))}\n            {escape(str(html))}"
    )


def _end_prompt_line(guided: bool) -> None:
    """End the question's line: Ctrl-D or Ctrl-C at a prompt left the cursor after it, and
    the message was printed on the question's line ("[health] Your vision, in one line:
    error: stopped before the last answer"), on a terminal and in a log or pipe taking
    both outputs (`init --guided < answers.txt 2>&1 | tee init.log`) alike."""
    if guided:
        _asking().print()


def _asking() -> LogConsole:
    """Where `init --guided` asks its questions: on stdout, but on stderr when a person
    types the answers at a terminal and stdout is not one (`init --guided > init.log`):
    the questions went into the file, and the person typed blind. (The result lines stay
    on stdout.)"""
    typed = sys.stdin is not None and sys.stdin.isatty()
    return err if typed and not out.is_terminal and err.is_terminal else out


@command(
    """Start a goals.yaml: a commented template, or (--guided) your answers to a few questions.""",
    "interrupted; nothing was written",
)
def init(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Where to write goals.yaml (default: here).",
            metavar="DIR",
            parser=_out_path,  # as --out: a Windows path not here is refused, not made
            show_default=False,  # "(default: here). [default: .]" said it twice
        ),
    ] = Path("."),
    guided: Annotated[
        bool, typer.Option("--guided", help="Ask a few questions and write your answers.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace an existing goals.yaml (the old one is kept as goals.previous.yaml).",
        ),
    ] = False,
) -> None:
    from mindmovie.init_goals import guided as run_guided
    from mindmovie.init_goals import typed, write_template

    kept: list[Path] = []
    try:
        path = (
            run_guided(_asking(), directory, force=force, kept=kept)
            if guided
            else write_template(directory, force=force, kept=kept)
        )
    except FileExistsError as e:
        raise _fail(str(e)) from None
    except EOFError:
        _end_prompt_line(guided)
        raise _fail("stopped before the last answer; nothing was written") from None
    except KeyboardInterrupt:
        _end_prompt_line(guided)
        raise _stopped("interrupted before the last answer; nothing was written") from None
    except _user_errors() as e:
        raise _fail(str(e)) from None
    _finished.append(f"interrupted; {path} is written")
    _say(f"[bold green]goals:[/bold green] {escape(str(path))}")
    if kept:
        # `--force` replaced an edited goals.yaml and said only the line above
        earlier = f" (the earlier copy moved to {kept[1]})" if len(kept) > 1 else ""
        _say(f"kept: the goals.yaml it replaced is {kept[0]}{earlier}", markup=False)
    # one shell word ("my movie/goals.yaml" pasted as it was printed was two args)
    _say(f"next: mindmovie render {typed(path)}", markup=False)


@command(
    """Check Python, ffmpeg, fonts, the output folder, .env, the settings, provider keys
    (and Google's client mode), budget_usd and the catalog.

    Give it the GOALS and the flags you give `render` that change what is checked, as
    render reads them: GOALS (the budget checked against what rendering them would
    spend, as `estimate` prices it, the run's spend so far counted; without it, against
    the smallest goals), --config, --preset, --aspect, --resolution, --fps and
    --quality (the settings), --out (the run folder checked in place of output_dir),
    --budget (the cap checked in place of budget_usd), --until (the budget checked
    up to that stage) and --fresh (GOALS priced as a new run, the one there set aside
    as `render --fresh` would; doctor moves nothing; only with GOALS). With GOALS the
    budget row is ok only when their render surely finishes within it; else it says what
    render says of that budget: a FAIL where render stops at the cap, a warning where it
    may stop before its last call. With --out or GOALS, a render running in the run
    folder (which render refuses) is a FAIL.

    Exits 0 only when the configured preset can run, 1 when it cannot (the FAIL rows
    say why), 2 with the error line and no table when the settings, a flag or GOALS
    cannot be read (a bad value, an unknown setting; render's own error line). Keys are
    shown as set, not set or unusable (a space inside, say), never their values.
    """,
)
def doctor(
    goals: Annotated[
        Path | None,
        typer.Argument(
            help="Your goals.yaml (optional): the budget is checked against what rendering "
            "it would spend, as `estimate` prices it, and its run folder for a render "
            "running there. Without it, against the smallest goals.",
            show_default=False,
            metavar="GOALS",
            parser=_path,
        ),
    ] = None,
    config: ConfigOpt = None,
    out_dir: OutOpt = None,
    preset: PresetOpt = None,
    aspect: AspectOpt = None,
    resolution: ResOpt = None,
    fps: FpsOpt = None,
    quality: QualityOpt = None,
    budget: BudgetOpt = None,
    until: DoctorUntilOpt = "movie",
    fresh: DoctorFreshOpt = False,
) -> None:
    from mindmovie.doctor import can_run, doctor_table, run_checks

    cap = _check_budget(budget)  # as render: first, with render's messages
    _check_until(until)
    if fresh and goals is None:  # (it was passed over without a word)
        raise _fail(
            "--fresh prices a render --fresh of your goals: give them "
            "(`mindmovie doctor GOALS --fresh`); without GOALS doctor prices a new run "
            "of the smallest goals anyway"
        )
    settings = _settings(
        config, preset=preset, aspect=aspect, resolution=resolution, fps=fps, quality=quality
    )
    flags = _overrides(preset, aspect, resolution, fps, quality)
    if goals is not None:
        from mindmovie.goals import load_goals

        try:  # read as render reads it first: a bad goals.yaml is render's error line
            load_goals(goals)
        except _user_errors() as e:
            raise _fail(str(e)) from None
        _warn_config_beside(goals, config)
    checks = run_checks(
        settings,
        located=lambda message: _located(message, config, flags),
        out=out_dir,
        budget=cap,
        until=until,
        goals=goals,
        fresh=fresh,
    )
    out.print(doctor_table(checks, settings.preset, out.width))
    if not can_run(checks):
        raise _fail(f"the {settings.preset} preset cannot run here; fix the FAIL rows above", 1)
    _say(f"[bold green]ready:[/bold green] the {settings.preset} preset can run")


#: the least room `providers` gives its capabilities and its price columns: less, and
#: a line per model (at 80 columns, a pipe's, the table has a little more)
PROVIDERS_WORDS = 12


@command(
    """List the model catalog: stage, capabilities, price (date checked; --json adds the
    source), and whether its key is set (and usable).""",
)
def providers(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable rows.")] = False,
) -> None:
    from mindmovie.doctor import providers_rows

    _warn_environment()  # a key this lists as not set may be on a .env line it skipped
    rows = providers_rows()
    if as_json:
        _say_json(rows)
        return
    # 80 columns (a default terminal, a pipe) must show every model name whole: six
    # columns cut them to "claude-son…" (all four Claude rows alike) and the keys to
    # "ANTHROPIC…". The model column is never wrapped (its " / " and "(default)" start
    # lines), long words elsewhere break instead of ending in "…", and the key, the same
    # for every model of a provider, is said once per provider below the table.
    table = Table(box=box.SIMPLE_HEAD)
    for c in ("provider", "stage", "model", "capabilities", "price"):
        table.add_column(c, overflow="fold", no_wrap=c in ("provider", "stage", "model"))
    keys: dict[str, str] = {}
    cells = []
    for r in rows:
        model = str(r["model"]) + ("\n(default)" if r["default"] and r["stage"] != "all" else "")
        price = r["price"] + (f" (checked {r['price_checked']})" if r["price_checked"] else "")
        cells.append([str(v) for v in (r["provider"], r["stage"], model, r["capabilities"], price)])
        keys.setdefault(str(r["provider"]), str(r["key"]))
    # Narrower than the three columns never wrapped and PROVIDERS_WORDS of room for each
    # of the other two, a line per model instead: rich gave those two columns a letter
    # or two a line (COLUMNS=60: 844 lines, "ca/pa/bi/li/ti/es" as a heading), or
    # none (40: no capabilities, no price), and cut the provider and model at 20
    whole = sum(max(len(ln) for c in cells for ln in c[i].split("\n")) for i in range(3))
    if whole + 2 * PROVIDERS_WORDS + 16 > out.width:  # 16: padding, rules and edges
        from mindmovie.costs import packed

        for provider, stage, model, caps, price in cells:
            *named, last = model.split("\n")
            *able, least = caps.split() or ["-"]
            words = [provider, stage, *named, f"{last}:", "capabilities:", *able, f"{least};"]
            words += ["price:", *price.split()]
            first, *rest = packed(words, out.width - 2)
            for line in [first, *(f"  {ln}" for ln in rest)]:
                _say(line, markup=False)
    else:
        for row in cells:
            table.add_row(*(Text(v) for v in row))
        out.print(table)
    for provider, key in keys.items():
        _say(f"key ({provider}): {key}", markup=False)
    for r in rows:  # a model past the shutdown its provider lists (a default among them)
        if r.get("past_shutdown"):
            import textwrap

            note = (
                f"note ({r['provider']} {r['stage']} {r['model']}): its provider lists its "
                f"shutdown for {r['shutdown']}; {r['note']}"
            )
            # (wrapped here: a pipe's lines are not, and every line keeps to the width)
            for line in textwrap.wrap(note, max(20, out.width), subsequent_indent="  "):
                _say(line, markup=False)
    _say("Price sources: `mindmovie providers --json` (price_source), or catalog.toml.")


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        _say(f"mindmovie {__version__}")
        raise typer.Exit(0)


#: below this many columns `--help` is click's plain text, not typer's boxed panels
NARROW_HELP = 60


def _warnings_hide_keys() -> None:
    """Python warnings printed with provider keys hidden (`config.hide_keys`): an SDK's
    own warning quotes what an answer held (google-genai's "<text> is not a valid
    FinishReason"), and one echoing the key was printed whole (the secrets audit)."""
    import warnings

    from mindmovie.config import hide_keys

    shown = warnings.formatwarning
    if getattr(shown, "hides_keys", False):
        return

    def formatwarning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        line: str | None = None,
    ) -> str:
        return hide_keys(shown(message, category, filename, lineno, line))

    formatwarning.hides_keys = True  # type: ignore[attr-defined]
    warnings.formatwarning = formatwarning


def main() -> None:
    """The CLI, as `entry.main` (the console script) runs it once the stop signals interrupt."""
    # A path whose name is not UTF-8 (Python decodes its bytes to surrogates) is printed
    # escaped: in a UTF-8 locale stdout is strict and printing it was a traceback
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    # An answer whose bytes are not in stdin's encoding (`init --guided` typed or piped in
    # UTF-8 under PYTHONIOENCODING=ascii) was a UnicodeDecodeError traceback: read as lone
    # surrogates instead (as Python reads it in the C locale), which the questions ask
    # again for, saying the terminal may not be set to UTF-8
    reconfigure = getattr(sys.stdin, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="surrogateescape")
    stop_signals_interrupt()  # as `entry.main` did (for a caller of this main)
    _warnings_hide_keys()
    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    # Under 60 columns (COLUMNS=40) typer's boxed rich help cut option names and their
    # help to "--resolu…", "$MINDMO…", "(defaul…": click's plain help instead, wrapped to
    # the terminal (click's own floor of 50 columns overflowed a 40-column one)
    columns = shutil.get_terminal_size().columns
    narrow = columns < NARROW_HELP
    _flags_without_type()
    app.rich_markup_mode = None if narrow else "rich"
    width = {"terminal_width": max(columns - 2, 20)} if narrow else {}
    _said.clear()
    shown_nowhere = _output_closed()
    if shown_nowhere is not None:
        err.print(f"error: {shown_nowhere}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(EXIT_FAILED)
    try:
        # named as the docs name it, also under `python -m mindmovie` (or a test runner)
        code = app(prog_name="mindmovie", standalone_mode=False, **width)
    except NoArgsIsHelpError as e:  # the help was printed (as typer does)
        sys.exit(e.exit_code)
    except ClickException as e:
        # a flag's bad value (`--fps abc`, `--budget abc`), an unknown option, a missing
        # argument: one line, like every other mistake; typer drew a boxed panel under
        # a usage line (five lines and more) for these
        sys.exit(_usage_error(e))
    except typer.Abort:
        err.print("Aborted!", markup=False, highlight=False)
        sys.exit(1)
    except OutputFailed as e:
        # stdout's file on a full disk: said on stderr (written nowhere if it was stderr's),
        # with what the command made before (init's goals.yaml, the storyboard): exit 1
        # alone read as if nothing was made
        made = f" ({_finished[-1].removeprefix('interrupted; ')})" if _finished else ""
        err.print(f"error: {e}{made}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(EXIT_FAILED)
    except OSError as e:
        # typer prints --help with a console of its own (click's echo when narrow), so a
        # full disk under `--help > help.txt` was a traceback: as OutputFailed
        stream = _written_stream(e)
        if stream is None:
            raise
        write_nowhere(sys.stdout if stream == "stdout" else sys.stderr)
        failed = OutputFailed(stream, e)
        err.print(f"error: {failed}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(EXIT_FAILED)
    if code == 130 and not _said:
        # a stop while typer parsed the arguments (or ran the app's callback), before a
        # command's `command` took it up: typer made it a silent exit 130
        _stopped(interrupted_line())
    killpoint("command_returned")  # (a stop here is said by entry.main)
    sys.exit(code if isinstance(code, int) else 0)


def _written_stream(error: OSError) -> str | None:
    """Says "stdout" or "stderr" when `error` came out of writing to that stream (the last
    frame it passed holds the stream, as rich's console `self.file` or click's `file`);
    None for any other OSError, which is not to be blamed on the output."""
    tb = error.__traceback__
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    local = tb.tb_frame.f_locals
    held = [local.get("file"), local.get("stream"), getattr(local.get("self"), "file", None)]
    for stream in held:
        with contextlib.suppress(AttributeError, OSError, ValueError, TypeError):
            fd = stream.fileno()  # type: ignore[union-attr]
            if fd in (1, 2):
                return "stdout" if fd == 1 else "stderr"
    return None


def _flags_without_type() -> None:
    """typer (0.29) shows a flag's type in the boxed help as for a value, `--yes -y
    <bool>` (even `--help <bool>`), so a person typed `--yes true` and was told "Got
    unexpected extra argument(s) (true)": a flag takes no value, so none is shown.
    Values keep theirs (`--fps <int>`). Through typer's own hook, when it has it."""
    import typer.core

    option = getattr(typer.core, "TyperOption", None)
    shown = getattr(option, "display_type_rich", None)
    if option is None or shown is None or getattr(shown, "_mindmovie", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        return None if getattr(self, "is_flag", False) else shown(self, ctx)

    display_type_rich._mindmovie = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich


#: the commands whose work is files, not only their output (`_output_closed`)
_MAKES_FILES = frozenset(f"mindmovie {c}" for c in ("render", "plan", "storyboard", "init"))


def _output_closed() -> str | None:
    """Why the command is not run when its output has nowhere to go: stdout closed
    (`status >&-`, Python's sys.stdout None), for the commands whose output is all they
    make (status, estimate, doctor, providers, and the help): they exited 0 having shown
    nothing, and a script checking the exit code took it for success (a full disk under
    `> file` is exit 1, "cannot write to stdout"). render, plan, storyboard and init
    make files, their work, and go on (`init --guided < answers >&-` is a script's)."""
    if sys.stdout is not None:
        return None
    command = _command_path_from_argv()
    if command in _MAKES_FILES:
        return None
    return (
        "cannot write to stdout: it is closed; nothing was done (give "
        f"`{command or 'mindmovie'}` a stdout, e.g. `> /dev/null` to drop its output)"
    )


def _command_path_from_argv() -> str | None:
    """`mindmovie <command>` as typed, for an error click raised without its context
    (`--out` given no value): the first word that names one of the commands."""
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    word = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    return f"mindmovie {word}" if word in names else None


def _dashed_file_in_argv(option: str) -> str | None:
    """The first word of the command line that starts with `option` (an option click
    does not know, "-g" of "-goals.yaml") and names a file or folder here: click read
    it as options. None when none does."""
    for word in sys.argv[1:]:
        if option.startswith("-") and word.startswith(option) and word not in ("-", "--"):
            with contextlib.suppress(OSError, ValueError):
                if Path(word).exists() or Path(word).is_symlink():
                    return word
    return None


def _extra_yaml(e: Any) -> str | None:
    """The first extra argument click refused that names a .yaml/.yml file (a settings
    file given after GOALS, as a second argument); None otherwise."""
    message = str(e.format_message())
    found = re.fullmatch(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)", message.strip())
    if found is None:
        return None
    # (click names them in the message only, joined by spaces)
    return next((a for a in found[1].split() if a.lower().endswith((".yaml", ".yml"))), None)


def _usage_error(e: Any) -> int:
    """Print a click usage error as one `error:` line naming the command; its exit code."""
    ctx = getattr(e, "ctx", None)
    message = " ".join(str(e.format_message()).split())
    if (extra := _extra_yaml(e)) is not None:
        # `render goals.yaml config.yaml` said "Got unexpected extra argument(s)
        # (config.yaml)", not where a settings file goes
        message += f"; a settings file is given as --config {extra}"
    path = ctx.command_path if ctx is not None else _command_path_from_argv()
    if path is not None:
        message = f"{path}: {message} (see `{path} --help`)"
    refused = str(getattr(e, "option_name", "") or "")
    if e.__class__.__name__ == "NoSuchOption" and (named := _dashed_file_in_argv(refused)):
        # `render -goals.yaml` said "No such option: -g", of a file `ls` shows
        # (a folder named so, the run folder `status -my-run`, was said "a file")
        kind = "a folder" if Path(named).is_dir() else "a file"
        message += f"; {named} is {kind} here: give it as ./{named}, or after --"
    from mindmovie.config import hide_keys  # `--fps AIza...` is quoted by click

    err.print(
        f"[bold red]error:[/bold red] {escape(hide_keys(message))}",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )
    code: int = e.exit_code
    return code
