"""doctor exits 0 only when the configured preset can run; keys never shown."""

from __future__ import annotations

import dataclasses
import errno
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mindmovie.cli import app
from mindmovie.config import Keys, load_settings
from mindmovie.doctor import FILTERS, Check, can_run, doctor_table, run_checks

KEYVARS = (
    "ANTHROPIC_API_KEY",
    "ARK_API_KEY",
    "BYTEPLUS_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
)


#: what `gcloud auth application-default login` writes (no key in it is real)
AUTHORIZED_USER = {
    "type": "authorized_user",
    "client_id": "id.apps.googleusercontent.com",
    "client_secret": "not-a-secret",
    "refresh_token": "not-a-token",
}


#: doctor's ffmpeg rows per ffmpeg executable, as this process first read them
_FFMPEG_ROWS: dict[str, list[Check]] = {}


@pytest.fixture(autouse=True)
def _ffmpeg_rows_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """doctor's ffmpeg rows run ffmpeg six times (-version, then its filters, encoders,
    decoders, muxers and demuxers: ~0.4 s, most of a doctor run); the same ffmpeg gives
    the same rows, so they are read once per executable in this process, by doctor's own
    code. A test that swaps in another ffmpeg (`_fake_ffmpeg`) gets that one's rows."""
    import mindmovie.doctor
    import mindmovie.media

    real = mindmovie.doctor._ffmpeg_checks

    def read_once() -> list[Check]:
        try:
            exe = mindmovie.media.ffmpeg_exe()
        except (OSError, RuntimeError):
            return real()
        if exe not in _FFMPEG_ROWS:
            _FFMPEG_ROWS[exe] = real()
        return [dataclasses.replace(c) for c in _FFMPEG_ROWS[exe]]

    monkeypatch.setattr(mindmovie.doctor, "_ffmpeg_checks", read_once)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for k in KEYVARS:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.chdir(tmp_path)


def test_local_preset_is_ready_without_keys(clean_env: None) -> None:
    r = CliRunner().invoke(app, ["doctor"])
    assert r.exit_code == 0, r.output
    assert "ready" in r.output and "libx264" in r.output


def test_paid_preset_with_a_key_missing_fails(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    r = CliRunner().invoke(app, ["doctor", "--preset", "byteplus"])
    assert r.exit_code == 1
    assert "ARK_API_KEY" in r.output and "not set" in r.output
    assert "sk-ant-very-secret" not in r.output


def test_paid_preset_with_keys_present_passes(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    monkeypatch.setenv("ARK_API_KEY", "ark-very-secret")
    r = CliRunner().invoke(app, ["doctor", "--preset", "byteplus"])
    assert r.exit_code == 0, r.output
    assert "very-secret" not in r.output


def test_a_key_that_is_not_ascii_fails_naming_its_variable_not_its_value(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The render refuses a key that is not plain ASCII before any call (it cannot go
    in an HTTP header); doctor said "set" and "ready". A used one fails (exit 1), an
    unused one is a warning; the key itself is never shown."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk\u2013ant-very-secret")  # a typographic dash
    monkeypatch.setenv("ARK_API_KEY", "ark-very-secret")
    monkeypatch.setenv("GEMINI_API_KEY", "gem-very-secr\u00e9t")
    r = CliRunner().invoke(app, ["doctor", "--preset", "byteplus"])
    assert r.exit_code == 1, r.output
    assert "ready" not in r.output and "very-secr" not in r.output
    rows = {c.name: c for c in run_checks(load_settings(None, overrides={"preset": "byteplus"}))}
    bad = "set, but it holds a character that is not plain ASCII"
    assert rows["key anthropic"].status == "FAIL", rows["key anthropic"]
    assert rows["key anthropic"].detail.startswith(f"ANTHROPIC_API_KEY: {bad}")
    assert rows["key google"].status == "warn" and bad in rows["key google"].detail
    assert rows["key byteplus"].status == "ok"
    assert not [c for c in rows.values() if "very-secr" in c.detail]
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    r = CliRunner().invoke(app, ["doctor", "--preset", "byteplus"])
    assert r.exit_code == 0, r.output  # Gemini's is not used by this preset: a warning
    assert "very-secr" not in r.output


def test_a_key_with_a_space_inside_fails_naming_its_variable_not_its_value(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two values pasted into ARK_API_KEY (a space between them) was "set" and "ready":
    the render refuses it before any call now, and doctor fails it, never showing it.
    Blanks at its ends are dropped when it is read, so a paste's trailing newline is ok."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret\n")
    monkeypatch.setenv("ARK_API_KEY", "ark-very-secret ark-other")
    r = CliRunner().invoke(app, ["doctor", "--preset", "byteplus"])
    assert r.exit_code == 1, r.output
    assert "very-secr" not in r.output and "ark-other" not in r.output
    rows = {c.name: c for c in run_checks(load_settings(None, overrides={"preset": "byteplus"}))}
    assert rows["key byteplus"].status == "FAIL", rows["key byteplus"]
    assert rows["key byteplus"].detail.startswith(
        "ARK_API_KEY: set, but it holds a space, tab, line break"  # the variable holding it
    ), rows["key byteplus"]
    assert rows["key anthropic"].status == "ok", rows["key anthropic"]


def test_a_model_the_catalog_does_not_know_is_not_ready(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`render` refuses to start with an unknown model; doctor said 'ready'."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    monkeypatch.setenv("ARK_API_KEY", "ark-very-secret")
    (tmp_path / "c.yaml").write_text("video:\n  model: seedance-9\n")
    r = CliRunner().invoke(app, ["doctor", "--preset", "byteplus", "-c", "c.yaml"])
    assert r.exit_code == 1, r.output
    assert "model video" in r.output and "seedance-9" in r.output and "ready" not in r.output


def test_google_preset_names_the_client_mode(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("GOOGLE_API_KEY", "g")
    r = CliRunner().invoke(app, ["doctor", "--preset", "google"])
    assert r.exit_code == 0, r.output
    assert "vertex express" in r.output


def test_google_developer_mode_is_not_ready_for_veo(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An API key in developer mode (vertexai false) makes Gemini images but not Veo
    (google-genai 3.x refuses it): doctor must say so and exit 1, as render would fail."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("GOOGLE_API_KEY", "g")
    monkeypatch.setenv("MINDMOVIE_PROVIDERS__GOOGLE__VERTEXAI", "false")
    r = CliRunner().invoke(app, ["doctor", "--preset", "google"])
    assert r.exit_code == 1, r.output
    checks = run_checks(load_settings(None, overrides={"preset": "google"}))
    (check,) = [c for c in checks if c.name == "google mode"]
    assert not check.ok and check.required and "Veo needs Vertex mode" in check.detail
    # developer mode is fine when only the keyframes come from google
    monkeypatch.setenv("MINDMOVIE_VIDEO__PROVIDER", "local")
    r = CliRunner().invoke(app, ["doctor", "--preset", "google"])
    assert r.exit_code == 0, r.output


def test_google_project_mode_without_adc_is_not_ready(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """providers.google.project + location authenticate with Application Default
    Credentials. With none on the machine doctor said "ready" (exit 0) and the render
    then failed every google call: "no usable Application Default Credentials"."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    (tmp_path / "c.yaml").write_text(
        "providers:\n  google: {project: my-proj, location: us-central1}\n"
    )
    r = CliRunner().invoke(app, ["doctor", "--preset", "google", "-c", "c.yaml"])
    assert r.exit_code == 1, r.output
    settings = load_settings(tmp_path / "c.yaml", overrides={"preset": "google"})
    (mode,) = [c for c in run_checks(settings) if c.name == "google mode"]
    assert mode.status == "FAIL" and "Application Default Credentials" in mode.detail
    assert mode.detail.startswith("vertex project my-proj/us-central1 (ADC): ")

    # with credentials found (where google-genai finds them) the preset can run
    (tmp_path / "adc.json").write_text(json.dumps(AUTHORIZED_USER))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "adc.json"))
    r = CliRunner().invoke(app, ["doctor", "--preset", "google", "-c", "c.yaml"])
    assert r.exit_code == 0, r.output
    # a preset that does not use google is ready without ADC
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    for k in KEYVARS:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("ARK_API_KEY", "b")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    r = CliRunner().invoke(app, ["doctor", "--preset", "byteplus", "-c", "c.yaml"])
    assert r.exit_code == 0, r.output


def test_doctor_in_a_folder_that_was_removed_is_a_fail_row_not_a_traceback(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Run in a shell whose folder was deleted meanwhile, doctor ended in a
    FileNotFoundError traceback (resolving the relative output folder)."""
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    r = CliRunner().invoke(app, ["doctor"])
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    (row,) = [c for c in run_checks(load_settings(None, env={})) if c.name == "output dir"]
    assert row.status == "FAIL" and "the current folder no longer exists" in row.detail


def test_no_usable_temp_folder_is_a_fail_row(
    clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TMPDIR, /tmp, /var/tmp and the working folder unwritable: `render` refuses to start
    (ffmpeg's logs go there), and doctor said every row was ok. It fails a row naming
    TMPDIR. (`tempfile` is given one candidate, a file, where it cannot make one.)"""
    import tempfile

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setattr(tempfile, "_candidate_tempdir_list", lambda: [str(blocked)])
    rows = [c for c in run_checks(load_settings(None, env={})) if c.name == "temp folder"]
    assert [(r.status, r.detail) for r in rows] == [
        (
            "FAIL",
            f"No usable temporary directory found in [{str(blocked)!r}]: set TMPDIR to a "
            "folder this user can write",
        )
    ]
    assert not can_run(run_checks(load_settings(None, env={})))


def test_an_output_folder_name_too_long_for_the_system_is_a_fail_row(
    clean_env: None, tmp_path: Path
) -> None:
    """`output_dir` with a name longer than the system allows: render refuses it in one
    line ("run folder ...: cannot create the folder"); doctor ended in an OSError
    (File name too long) traceback."""
    (tmp_path / "c.yaml").write_text(f"output_dir: {'a' * 300}\n")
    r = CliRunner().invoke(app, ["doctor", "-c", "c.yaml"])
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    settings = load_settings(tmp_path / "c.yaml", env={})
    (row,) = [c for c in run_checks(settings) if c.name == "output dir"]
    assert row.status == "FAIL" and "File name too long" in row.detail


def test_no_font_for_letters_beyond_ascii_is_a_warning_row(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The built-in font draws little more than ASCII; an affirmation with é or CJK is
    drawn with a system font, or as boxes when there is none. doctor said "fonts ok"
    either way: it now names the fonts found, and warns (exit still 0) when none is."""
    from mindmovie import fonts

    monkeypatch.setattr(fonts, "FALLBACK_FONTS", ("no-such-font-mm.ttf",))
    checks = run_checks(load_settings(None, env={}))
    (row,) = [c for c in checks if c.name == "fallback fonts"]
    assert row.status == "warn" and "drawn as boxes" in row.detail
    assert can_run(checks)
    r = CliRunner().invoke(app, ["doctor"])
    assert r.exit_code == 0 and re.search(r"fallback fonts +│ warn", r.output), r.output


def test_the_fallback_font_row_says_the_font_files_searched_for_other_scripts(
    font_folder: Callable[[str], str],
) -> None:
    """Letters no listed font has (Devanagari, Thai...) are looked for in the system's
    other font files (`fonts.font_having`): the row says how many there are and the
    scripts named among them, and no longer only "no system font found" where one is."""
    font_folder("NotoSansArmenian-Regular.ttf")
    font_folder("Other.ttf")
    from mindmovie.doctor import _fallback_font_check

    row = _fallback_font_check()  # (as run_checks has it: the row alone, fast)
    assert row.status == "warn" and "drawn as boxes where no font has them" in row.detail
    assert (
        "looked for in 2 other font files in the system's font folders (named for "
        "Armenian)" in row.detail
    ), row.detail


def test_the_fallback_font_row_writes_cjk_as_cjk_and_one_file_is_searched(
    font_folder: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row said "named for Cjk" (the script's name title-cased) and "1 other font
    file ... are searched"."""
    from mindmovie import fonts
    from mindmovie.doctor import _fallback_font_check

    monkeypatch.setattr(fonts, "FALLBACK_FONTS", ("DejaVuSans.ttf",))
    font_folder("wqy-microhei.ttc")
    row = _fallback_font_check()
    assert row.status == "ok" and row.detail == (
        "DejaVuSans.ttf; for letters none of these has, 1 other font file in the system's "
        "font folders (named for CJK) is searched"
    ), row.detail


def test_pillow_laying_text_out_without_libraqm_is_an_info_row(
    clean_env: None, no_raqm: None
) -> None:
    """Without FriBiDi, Pillow lays text out with its basic layout, and mindmovie orders
    right-to-left text and joins Arabic itself: doctor says so, and how to have libraqm,
    as information (exit still 0)."""
    checks = run_checks(load_settings(None, env={}))
    (row,) = [c for c in checks if c.name == "text layout"]
    assert row.status == "info" and "basic layout" in row.detail and "FriBiDi" in row.detail
    assert can_run(checks)


def test_the_fallback_font_row_finds_fonts_xdg_data_dirs_leaves_out(
    clean_env: None, xdg_without_usr_share: str
) -> None:
    """XDG_DATA_DIRS set without /usr/share: doctor warned "no system font found ...
    install one, e.g. DejaVu Sans" of a machine that had it installed there."""
    checks = run_checks(load_settings(None, env={}))
    (row,) = [c for c in checks if c.name == "fallback fonts"]
    # (the fonts named, then, where the system has others, "; for letters none of these
    # has, N other font files ... are searched")
    named = row.detail.split("; ")[0].split(", ")
    assert row.status == "ok" and xdg_without_usr_share in named, row


def test_a_dotenv_link_to_nothing_is_a_warning_not_every_statement_read(
    clean_env: None, tmp_path: Path
) -> None:
    """./.env a link whose file is gone: the .env row said "<target>: every statement
    read" (ok), while nothing was set from it."""
    (tmp_path / ".env").symlink_to(tmp_path / "gone.env")
    (row,) = [c for c in run_checks(load_settings(None, env={})) if c.name == ".env"]
    assert row.status == "warn", row
    assert row.detail == (
        f"{tmp_path / '.env'}: a link to {tmp_path / 'gone.env'}, which is missing; "
        "nothing is set from it"
    )


def test_providers_lists_catalog_with_key_state(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARK_API_KEY", "ark-very-secret")
    r = CliRunner().invoke(app, ["providers", "--json"])
    assert r.exit_code == 0
    rows = json.loads(r.output)
    seedance = [x for x in rows if x["model"].startswith("seedance-1-5-pro")]
    assert seedance and "ARK_API_KEY" in seedance[0]["key"] and "not set" not in seedance[0]["key"]
    assert any(x["provider"] == "google" and "not set" in x["key"] for x in rows)
    assert "very-secret" not in r.output
    # what a person picks a model by: stage, capabilities, price
    s15 = seedance[0]
    assert s15["stage"] == "video"
    for cap in ("first frame", "last frame", "audio", "4-12 s", "1080p"):
        assert cap in s15["capabilities"]
    assert "audio_on 2.4" in s15["price"] and "$/1M tokens" in s15["price"]
    lite = next(x for x in rows if x["model"].startswith("seedance-1-0-lite"))
    assert "audio" not in lite["capabilities"] and "2-12 s" in lite["capabilities"]
    (s45,) = [x for x in rows if x["model"].startswith("seedream-4-5")]
    assert s45["stage"] == "keyframes" and "0.04" in s45["price"]
    # every paid model's price names its source and the date it was checked
    paid = [x for x in rows if x["provider"] != "local"]
    assert paid and all(x["price_source"] and x["price_checked"][:2] == "20" for x in paid)
    table = CliRunner().invoke(app, ["providers"])
    assert table.exit_code == 0 and "checked" in table.output


def test_doctor_leaves_nothing_behind(clean_env: None, tmp_path: Path) -> None:
    """Checking that renders can write must not make ./outputs (or leave a probe)."""
    r = CliRunner().invoke(app, ["doctor"])
    assert r.exit_code == 0, r.output
    assert list(tmp_path.iterdir()) == []
    (row,) = [c for c in run_checks(load_settings(None)) if c.name == "output dir"]
    assert row.ok and "outputs" in row.detail and str(tmp_path) in row.detail
    assert list(tmp_path.iterdir()) == []
    # an existing output folder is probed in place, and left as it was
    (tmp_path / "outputs").mkdir()
    (row,) = [c for c in run_checks(load_settings(None)) if c.name == "output dir"]
    assert row.ok and row.detail.endswith(" free") and "outputs is writable; " in row.detail
    assert list((tmp_path / "outputs").iterdir()) == []
    # a file where the folder should be cannot hold renders
    (tmp_path / "outputs").rmdir()
    (tmp_path / "outputs").write_text("x", encoding="utf-8")
    (row,) = [c for c in run_checks(load_settings(None)) if c.name == "output dir"]
    assert not row.ok and row.required and "not a folder" in row.detail
    assert CliRunner().invoke(app, ["doctor"]).exit_code == 1


def _filter_names(graph: str) -> set[str]:
    """The filters named in a filtergraph (chains split by ';', filters by ',' that is
    not escaped: `if(a\\,b\\,c)` is one argument)."""
    names = set()
    for chain in graph.split(";"):
        for f in re.split(r"(?<!\\),", chain):
            f = re.sub(r"^(\[[^\]]*\])+", "", f.strip())
            if f and not f[0].isdigit():  # not an argument of the previous filter
                names.add(re.split(r"[=\[]", f, maxsplit=1)[0])
    return names


def test_filter_list_covers_the_real_filter_graphs(tmp_path: Path) -> None:
    """Every filter the compositor, the soundtrack and the local renderer put in a graph
    is one doctor checks for (a system ffmpeg lacking one fails mid-render otherwise)."""
    from mindmovie.compose import audio, ffmpeg
    from mindmovie.compose.timeline import MovieInput, OutputSpec, SceneInput, build_timeline
    from mindmovie.providers.local_media import CLIP_FILTERS

    scenes = tuple(
        SceneInput(
            id=sid,
            affirmation=f"I am {sid}",
            seconds=2.0,
            clip=tmp_path / f"{sid}.mp4",
            clip_sha256=sid,
            has_audio=True,
            clip_matrix="bt709",
        )
        for sid in ("a", "b")
    )
    tl = build_timeline(
        MovieInput("T", "Thanks", scenes, None, None), OutputSpec(64, 36, fps=12, crossfade=0.5)
    )
    assert tl.audio.clips and any(s.kind == "transition" for s in tl.segments)
    chunk = ffmpeg._Chunk(list(tl.segments))
    args = ffmpeg.chunk_args(tl, chunk, ffmpeg._Assets(tl, tmp_path), "seg-%03d.mp4", 1)
    used = _filter_names(args[args.index("-filter_complex") + 1])
    sound = audio.audio_args(tl.audio, tmp_path / "m.wav", tmp_path / "a.m4a")
    used |= _filter_names(sound[sound.index("-filter_complex") + 1])
    used |= _filter_names(CLIP_FILTERS)  # the local Ken Burns clip's
    # the graphs really were read (these are only in one of them each)
    assert {"extractplanes", "split", "overlay", "loudnorm", "amix", "setparams"} <= used
    assert used <= set(FILTERS), used - set(FILTERS)


def _fake_ffmpeg(tmp_path: Path, hide: str) -> str:
    """A system ffmpeg built without some parts: the real one, with those lines hidden."""
    from mindmovie.media import ffmpeg_exe

    fake = tmp_path / "ffmpeg"
    fake.write_text(f'#!/bin/sh\n"{ffmpeg_exe()}" "$@" | grep -v -E "{hide}"\n')
    fake.chmod(0o755)
    return str(fake)


@pytest.mark.skipif(sys.platform == "win32", reason="a shell-script ffmpeg")
def test_a_missing_filter_or_muxer_is_reported(
    clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mindmovie.media

    fake = _fake_ffmpeg(tmp_path, r"^ *[TSC.|]{2,3} +extractplanes |^ *E +segment ")
    monkeypatch.setattr(mindmovie.media, "ffmpeg_exe", lambda: fake)
    checks = {c.name: c for c in run_checks(load_settings(None))}
    assert not checks["ffmpeg filters"].ok and checks["ffmpeg filters"].required
    assert checks["ffmpeg filters"].detail.startswith("missing: extractplanes; use an")
    assert checks["ffmpeg muxers"].detail.startswith("missing: segment; use an")
    assert checks["ffmpeg encoders"].ok and checks["ffmpeg demuxers"].ok
    r = CliRunner().invoke(app, ["doctor"])
    assert r.exit_code == 1 and "missing: extractplanes" in r.output


@pytest.mark.skipif(sys.platform == "win32", reason="a shell-script ffmpeg")
def test_an_ffmpeg_without_the_hdr_filters_is_a_warning(
    clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """zscale needs an ffmpeg built with zimg: without it only an HDR clip is affected
    (composed unconverted, with a warning), so doctor warns and does not fail."""
    import mindmovie.media

    fake = _fake_ffmpeg(tmp_path, r"^ *[TSC.|]{2,3} +zscale ")
    monkeypatch.setattr(mindmovie.media, "ffmpeg_exe", lambda: fake)
    assert mindmovie.media.hdr_filters_missing() == ("zscale",)
    checks = {c.name: c for c in run_checks(load_settings(None))}
    row = checks["ffmpeg HDR filters"]
    assert row.status == "warn" and row.detail.startswith("missing: zscale"), row.detail
    assert checks["ffmpeg filters"].ok
    r = CliRunner().invoke(app, ["doctor"])
    assert r.exit_code == 0 and "missing: zscale" in r.output, r.output
    monkeypatch.undo()
    assert mindmovie.media.hdr_filters_missing() == ()


def test_google_project_mode_with_half_its_place_shows_no_none(clean_env: None) -> None:
    """providers.google.project without location (or the other way) read "vertex project
    my-proj/None (ADC)": Python's None, not a word of the settings."""
    for place, shown in (({"project": "my-proj"}, "my-proj/?"), ({"location": "eu"}, "?/eu")):
        settings = load_settings(
            None, overrides={"preset": "google", "providers": {"google": place}}, env={}
        )
        (row,) = [c for c in run_checks(settings) if c.name == "google mode"]
        assert row.status == "FAIL" and "None" not in row.detail, row.detail
        assert row.detail == (
            f"providers.google.{next(iter(place))}: vertex project {shown} (ADC): set both "
            "providers.google.project and providers.google.location"
        ), row.detail


@pytest.mark.parametrize(
    ("google", "line", "said"),
    [
        ("project: p", 4, "set both providers.google.project and providers.google.location"),
        ("location: eu", 4, "set both providers.google.project and providers.google.location"),
        ("vertexai: false", 4, "Veo needs Vertex mode"),
    ],
)
def test_doctor_names_the_config_line_of_a_google_mode_mistake(
    clean_env: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    google: str,
    line: int,
    said: str,
) -> None:
    """doctor's google mode row for a half-set project/location (or Veo in developer
    mode) named no file or line, where render's error for the same mistake does."""
    monkeypatch.setenv("GOOGLE_API_KEY", "g-test")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"preset: google\nproviders:\n  google:\n    {google}\n")
    r = CliRunner().invoke(app, ["doctor", "-c", str(cfg)], env={"COLUMNS": "400"})
    # the row's detail cell, its lines joined: the table may be folded whatever COLUMNS
    # says (CI's console was 80 wide, and the folded temp path failed the test there)
    cells = [ln.split("│") for ln in r.output.splitlines() if ln.count("│") >= 4]
    start = next(i for i, c in enumerate(cells) if "google mode" in c[1])
    end = next((i for i in range(start + 1, len(cells)) if cells[i][1].strip()), len(cells))
    row = "".join(c[3].strip() for c in cells[start:end])
    key = google.split(":")[0]
    flat = f"{cfg}:{line}: providers.google.{key}: ".replace(" ", "")
    assert flat in row.replace(" ", ""), r.output
    assert said.replace(" ", "") in row.replace(" ", "") and r.exit_code == 1


def test_google_mode_is_not_ok_when_its_key_is_missing(clean_env: None) -> None:
    """Unused by the preset and missing its key: 'info', never 'ok' beside 'not set';
    the preset still runs. Used by the preset: FAIL."""
    checks = run_checks(load_settings(None))
    (row,) = [c for c in checks if c.name == "google mode"]
    assert row.status == "info" and not row.ok and not row.required
    assert "not set" in row.detail and "not used by this preset" in row.detail
    assert can_run(checks)
    checks = run_checks(load_settings(None, overrides={"preset": "google"}))
    (row,) = [c for c in checks if c.name == "google mode"]
    assert row.status == "FAIL" and not can_run(checks)
    # every row marked ok says nothing is missing, except keys this preset does not use
    for c in run_checks(load_settings(None)):
        if c.status == "ok" and "not set" in c.detail:
            assert c.name.startswith("key ") and "not used by this preset" in c.detail


@pytest.mark.parametrize(
    ("variable", "vertexai"), [("GOOGLE_VERTEX_BASE_URL", True), ("GOOGLE_GEMINI_BASE_URL", False)]
)
def test_the_google_endpoint_google_genai_takes_from_the_environment_is_said(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, variable: str, vertexai: bool
) -> None:
    """google-genai reads GOOGLE_VERTEX_BASE_URL or GOOGLE_GEMINI_BASE_URL when
    providers.google.base_url is null: the calls, and the key, went there while doctor
    said only "vertex express (API key)". (A Veo job's recorded origin stays Google's
    endpoint, as it was recorded before: another would read as made elsewhere.)"""
    from mindmovie.providers.google import job_origin

    monkeypatch.setenv(variable, "http://proxyuser:pw9@127.0.0.1:9/")
    monkeypatch.setenv("GOOGLE_API_KEY", "g" * 39)
    google = {"vertexai": vertexai}  # (developer mode makes no Veo video: local clips)
    settings = load_settings(
        None,
        overrides={"preset": "google", "providers": {"google": google}}
        | ({} if vertexai else {"video": {"provider": "local"}}),
    )
    (row,) = [c for c in run_checks(settings) if c.name == "google mode"]
    assert row.ok and f"calls go to http://<not shown>@127.0.0.1:9/ ({variable}" in row.detail
    origin = job_origin(settings, Keys.from_env(), b"salt")
    monkeypatch.delenv(variable)
    assert job_origin(settings, Keys.from_env(), b"salt") == origin


def test_google_preset_without_google_genai_cannot_run(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("GOOGLE_API_KEY", "g")
    monkeypatch.setitem(sys.modules, "mindmovie.providers.google", None)  # ImportError
    checks = run_checks(load_settings(None, overrides={"preset": "google"}))
    (row,) = [c for c in checks if c.name == "google mode"]
    assert row.status == "FAIL" and "not importable" in row.detail and not can_run(checks)
    local = [c for c in run_checks(load_settings(None)) if c.name == "google mode"]
    assert local[0].status == "warn" and not local[0].required


def test_table_shows_long_paths_whole_at_80_columns() -> None:
    """In a pipe (80 columns) the ffmpeg path ended in 'imageio_ffmp…'."""
    from rich.console import Console

    path = "/work/venv/lib/python3.11/site-packages/imageio_ffmpeg/binaries/ffmpeg-linux-x86_64-v9"
    checks = [
        Check("ffmpeg", True, path),
        Check("google mode", False, "[not markup] not set", required=False, info=True),
    ]
    buf = io.StringIO()
    Console(file=buf, width=80, color_system=None).print(doctor_table(checks, "local"))
    text = buf.getvalue()
    assert "…" not in text
    cells = "".join(
        line.split("│")[3].strip() for line in text.splitlines() if line.count("│") == 4
    )
    assert path in cells and "[not markup] not set" in cells
    assert re.search(r"│ ffmpeg +│ ok +│", text) and re.search(r"│ google mode +│ info +│", text)


@pytest.mark.parametrize("columns", [20, 30])
def test_a_narrow_terminal_shows_each_checks_status_and_detail(
    monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    """At 30 columns (COLUMNS=30) the table gave the detail one letter a line, at 20 none,
    and cut the status to "…": a FAIL row said neither that it failed nor why. A line per
    check instead, the status first."""
    from rich.console import Console

    from mindmovie import cli

    checks = [
        Check("python", True, "3.11.7 (needs 3.11+)"),
        Check("ffmpeg demuxers", False, "missing: concat"),
        Check("google mode", False, "[not markup] not set", required=False, info=True),
    ]
    monkeypatch.setattr("mindmovie.doctor.run_checks", lambda settings, **kw: checks)
    buf = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=buf, width=columns, color_system=None))
    r = CliRunner().invoke(app, ["doctor"], env={})
    assert r.exit_code == 1, r.output
    text = " ".join(buf.getvalue().split())  # the lines as the terminal wraps them
    assert "…" not in buf.getvalue()
    assert "ok python: 3.11.7 (needs 3.11+)" in text, buf.getvalue()
    assert "FAIL ffmpeg demuxers: missing: concat" in text, buf.getvalue()
    assert "info google mode: [not markup] not set" in text, buf.getvalue()


def test_doctor_in_a_pipe_shows_the_whole_ffmpeg_path(tmp_path: Path) -> None:
    from mindmovie.media import ffmpeg_exe

    env = {k: v for k, v in os.environ.items() if k not in KEYVARS and k != "COLUMNS"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).parents[2] / "src"), env.get("PYTHONPATH", "")]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mindmovie", "doctor"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folded = "".join(
        line.split("│")[3].strip() for line in proc.stdout.splitlines() if line.count("│") == 4
    )
    assert ffmpeg_exe() in folded and re.search(r"│ google mode +│ info +│", proc.stdout)


def test_providers_table_shows_every_model_name_whole_in_80_columns(clean_env: None) -> None:
    """The model name is what a person writes in config.yaml: at 80 columns (a default
    terminal, a pipe) six columns cut every Claude row to the same "claude-son…"."""
    rows = json.loads(CliRunner().invoke(app, ["providers", "--json"]).output)
    r = CliRunner().invoke(app, ["providers"], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    assert "…" not in r.output and max(len(ln) for ln in r.output.splitlines()) <= 80
    words = {w for ln in r.output.splitlines() for w in ln.split()}
    for row in rows:
        assert row["model"].split(" ")[0] in words, row["model"]
    assert "key (byteplus): ARK_API_KEY or BYTEPLUS_API_KEY not set" in r.output


@pytest.mark.parametrize("columns", [20, 40, 60, 70])
def test_providers_narrower_than_its_table_shows_every_word_whole(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    """Below 80 columns rich gave the capabilities and price columns a letter or two a
    line (COLUMNS=60: 844 lines, their headings "ca/pa/bi/li/ti/es"), or dropped them
    (40), and cut the provider and model to "anthr", "claud" (20). A line per model
    instead, each word whole: the provider, stage, model, capabilities and price."""
    from rich.console import Console

    from mindmovie import cli

    rows = json.loads(CliRunner().invoke(app, ["providers", "--json"]).output)
    buf = io.StringIO()  # the terminal (cli.out's width is read once, when it is made)
    monkeypatch.setattr(cli, "out", Console(file=buf, width=columns, color_system=None))
    r = CliRunner().invoke(app, ["providers"], env={})
    said = buf.getvalue()
    assert r.exit_code == 0, said
    shown = {w.strip("():;") for w in said.split()}
    for row in rows:
        for field in ("provider", "stage", "model", "capabilities", "price", "price_checked"):
            missing = [w for w in str(row[field]).split() if w.strip("():;") not in shown]
            assert not missing, (row["model"], field, missing, said)
    listed = said.split("\nkey (")[0].splitlines()  # (the key lines: a terminal wraps)
    assert all(len(ln) <= columns or " " not in ln.strip() for ln in listed), said


def test_doctor_fails_settings_no_clip_of_the_video_model_can_have(clean_env: None) -> None:
    """`doctor` exits 0 only when the preset can run: with Veo and `output.aspect: 1:1`
    every clip is refused (render refuses to start), yet doctor said "ready"."""
    for aspect, refused in (("1:1", True), ("16:9", False)):
        settings = load_settings(overrides={"preset": "google", "output": {"aspect": aspect}})
        rows = [c for c in run_checks(settings) if c.name == "clip settings"]
        if refused:
            (row,) = rows
            assert not row.ok and "ratio 1:1 not allowed; allowed 16:9, 9:16" in row.detail
        else:
            assert rows == []


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"preset": "byteplus", "video": {"options": {"camerafixed": True}}}, "camerafixed"),
        ({"preset": "byteplus", "keyframes": {"options": {"watermark": "false"}}}, "watermark"),
        ({"preset": "google", "video": {"options": {"enhance_prompt": "false"}}}, "enhance"),
        ({"preset": "google", "planner": {"options": {"max_tokens": "lots"}}}, "max_tokens"),
        ({"preset": "byteplus", "video": {"options": {"camera_fixed": True}}}, None),
    ],
)
def test_doctor_estimate_and_status_refuse_options_render_refuses(
    clean_env: None, tmp_path: Path, overrides: dict[str, object], why: str | None
) -> None:
    """A stage option render refuses to start with (misspelt, or of the wrong type: a
    ConfigError when the provider is built) made doctor say "ready" and estimate price
    the render: both only build no provider. They now make the same checks, keyless."""
    from mindmovie.config import ConfigError
    from mindmovie.pipeline import estimate_for
    from mindmovie.status import collect_status
    from mindmovie.store import Store

    settings = load_settings(overrides=overrides)
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: T\ngoals:\n  - category: health\n    vision: I run each day\n")
    rows = [c for c in run_checks(settings) if c.name == "options"]
    if why is None:
        assert rows == []
        estimate_for(goals, settings, out=tmp_path / "run")
        return
    (row,) = rows
    assert not row.ok and why in row.detail, row
    with pytest.raises(ConfigError, match=why):
        estimate_for(goals, settings, out=tmp_path / "run")
    # status does not check the next render against settings render refuses
    (tmp_path / "run").mkdir()
    Store(tmp_path / "run" / "run.db").close()
    inputs = collect_status(tmp_path / "run", settings=settings, goals=goals)["inputs"]
    assert not inputs["checked"] and why in inputs["why"], inputs


@pytest.mark.parametrize(
    ("preset", "keys", "code"),
    [
        ("local", {}, 0),
        ("byteplus", {}, 1),
        ("byteplus", {"ARK_API_KEY": "k"}, 1),  # the planner (Claude) needs its key too
        ("byteplus", {"ANTHROPIC_API_KEY": "k", "BYTEPLUS_API_KEY": "k"}, 0),  # 2nd name
        ("google", {"ANTHROPIC_API_KEY": "k"}, 1),
        ("google", {"GEMINI_API_KEY": "k"}, 1),
        ("google", {"ANTHROPIC_API_KEY": "k", "GEMINI_API_KEY": "k"}, 0),
        ("google", {"ANTHROPIC_API_KEY": "k", "GOOGLE_API_KEY": " "}, 1),  # blank: not set
        ("nope", {}, 2),  # a preset that is not one: a mistake, not "cannot run"
    ],
)
def test_doctor_exit_code_per_preset_and_keys(
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    preset: str,
    keys: dict[str, str],
    code: int,
) -> None:
    """0 only when the preset can run here, 1 when a key it needs is missing, 2 for a
    mistake in the command (as every command's mistakes); keys never shown."""
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    r = CliRunner().invoke(app, ["doctor", "--preset", preset])
    assert r.exit_code == code, r.output


@pytest.mark.parametrize(
    ("preset", "budget", "status", "words"),
    [
        # the cap counts the run's earlier renders too (BudgetGate: the run's ledger)
        ("local", None, "ok", "budget_usd: unset, no cap (`render --budget USD` caps the run's"),
        ("byteplus", None, "ok", "spend, what its earlier renders spent included)"),
        ("local", "0", "ok", "budget_usd: $0.00 (preset local pays for nothing)"),
        ("byteplus", "0", "FAIL", "budget_usd: $0.00: render stops before its first paid"),
        ("google", "0", "FAIL", "budget_usd: $0.00: render stops before its first paid"),
        # the plan (its prompt at least, ~$0.001, billed first) + seedream $0.03 + a 4 s
        # seedance clip's hold ($0.10): no clip fits under $0.136
        ("byteplus", "0.12", "FAIL", "budget_usd: $0.12 is below $0.14"),
        # at about its estimate (~$0.005) the plan leaves no room: its bill decides
        ("byteplus", "0.137", "warn", "budget_usd: $0.14: the render may stop at the budget"),
        ("byteplus", "0.2", "ok", "budget_usd: $0.20 (a new movie needs at least $0.15"),
        # the plan + gemini image $0.04 + a 4 s veo fast clip ($0.32)
        ("google", "0.2", "FAIL", "budget_usd: $0.20 is below $0.36"),
        ("google", "5", "ok", "budget_usd: $5.00 (a new movie needs at least $0.37"),
    ],
)
def test_budget_the_render_would_stop_at_is_a_fail_row(
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    preset: str,
    budget: str | None,
    status: str,
    words: str,
) -> None:
    """budget_usd was not looked at: `budget_usd: 0` with a paid preset (the render:
    "the budget $0.00 is already used", exit 3, before anything) or one below the
    least a scene's keyframe and clip hold (the render stops at the gate before any
    clip) was "ready". The row names the setting and the figure; unset says so."""
    for name in KEYVARS:
        monkeypatch.setenv(name, "k")
    if budget is not None:
        monkeypatch.setenv("MINDMOVIE_BUDGET_USD", budget)
    checks = run_checks(load_settings(None, overrides={"preset": preset}))
    (row,) = [c for c in checks if c.name == "budget"]
    assert row.status == status and words in row.detail, row
    r = CliRunner().invoke(app, ["doctor", "--preset", preset])
    assert r.exit_code == (1 if status == "FAIL" else 0), r.output
    assert "budget_usd" in r.output


def test_budget_floor_counts_the_plan_call_when_only_it_is_paid(clean_env: None) -> None:
    """With only the planner paid (local keyframes and clips) the first call the gate
    holds is the plan: a budget below its hold stops the render before anything."""
    from mindmovie import costs
    from mindmovie.goals import Goal, Goals

    local = {"keyframes": {"provider": "local"}, "video": {"provider": "local"}}
    settings = load_settings(overrides={"preset": "byteplus", **local})
    smallest = Goals(title="x", goals=[Goal(category="x", vision="x", scenes=1)])
    hold = costs.planner_hold(settings, smallest)
    assert 0 < hold < 0.1
    for cap, status in ((hold * 0.9, "FAIL"), (hold, "ok")):
        s = settings.model_copy(update={"budget_usd": cap})
        (row,) = [c for c in run_checks(s) if c.name == "budget"]
        assert row.status == status and "the plan call" in row.detail, row


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every socket connect or name lookup is refused and recorded."""
    import socket

    tried: list[object] = []

    def refuse(*args: object, **kwargs: object) -> object:
        tried.append(args[1:] if args and isinstance(args[0], socket.socket) else args)
        raise OSError("this test sends no request")

    for obj, name in (
        (socket.socket, "connect"),
        (socket.socket, "connect_ex"),
        (socket, "create_connection"),
        (socket, "getaddrinfo"),
    ):
        monkeypatch.setattr(obj, name, refuse)
    return tried


EXTERNAL_ACCOUNT = {  # workload identity federation: its project is a network lookup
    "type": "external_account",
    "audience": "//iam.googleapis.com/projects/123/locations/global/"
    "workloadIdentityPools/pool/providers/prov",
    "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
    "token_url": "https://sts.googleapis.com/v1/token",
    "credential_source": {"file": "/nowhere/token"},
}


@pytest.mark.parametrize(
    ("explicit", "gcloud", "vm", "status", "words"),
    [
        (AUTHORIZED_USER, None, False, "ok", "adc.json (GOOGLE_APPLICATION_CREDENTIALS), found"),
        (EXTERNAL_ACCOUNT, None, False, "ok", "adc.json (GOOGLE_APPLICATION_CREDENTIALS), found"),
        (None, AUTHORIZED_USER, False, "ok", "application_default_credentials.json (gcloud)"),
        # google-auth does not look further when the variable names a file it cannot use
        ("{not json", AUTHORIZED_USER, False, "FAIL", "adc.json (GOOGLE_APPLICATION_CRE"),
        ({"type": "nope"}, None, False, "FAIL", "does not have a valid type"),
        # JSON but not an object: google-auth's AttributeError was doctor's traceback
        ("[]", None, False, "FAIL", "not a credentials file (its JSON is not an object)"),
        ("\xff", None, False, "FAIL", "is not a valid json file; run"),
        (None, None, False, "FAIL", "metadata server is not asked"),
        (None, None, True, "warn", "says it is a Compute Engine VM"),
    ],
)
def test_adc_are_looked_for_in_local_files_only(
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    no_network: list[object],
    explicit: object,
    gcloud: object,
    vm: bool,
    status: str,
    words: str,
) -> None:
    """Vertex project mode: doctor looked for ADC with google.auth.default(), which,
    with no file found, asks the Compute Engine metadata server (169.254.169.254): ~3.5 s
    of retries where nothing answers, minutes where the address is blackholed, and a
    request from a command that sends none. It now reads GOOGLE_APPLICATION_CREDENTIALS
    and gcloud's file only, in google-auth's order, and says so; none is still a FAIL."""
    from mindmovie import doctor

    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.delenv("NO_GCE_CHECK", raising=False)
    for var, _ in doctor.HOSTED_ON_GOOGLE:  # a CI runner may well be a Kubernetes pod
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    machine = tmp_path / "product_name"
    machine.write_text("Google Compute Engine\n" if vm else "Standard PC (Q35)\n")
    monkeypatch.setattr(doctor, "GCE_PRODUCT_NAME_FILE", machine, raising=False)
    if gcloud is not None:
        (tmp_path / "gcloud").mkdir()
        well_known = tmp_path / "gcloud" / "application_default_credentials.json"
        well_known.write_text(json.dumps(gcloud))
    if explicit is not None:
        adc = tmp_path / "adc.json"
        adc.write_text(explicit if isinstance(explicit, str) else json.dumps(explicit))
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    else:
        monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    (tmp_path / "c.yaml").write_text("providers:\n  google: {project: p, location: us-central1}\n")
    settings = load_settings(tmp_path / "c.yaml", overrides={"preset": "google"})
    (row,) = [c for c in run_checks(settings) if c.name == "google mode"]
    assert no_network == []  # not even a name lookup
    assert row.status == status and words in row.detail, row
    assert row.detail.startswith("vertex project p/us-central1 (ADC)")
    if status == "FAIL":
        assert "gcloud auth application-default login" in row.detail
    if status == "ok":
        assert row.detail.endswith("found without the network")
    r = CliRunner().invoke(app, ["doctor", "--preset", "google", "-c", "c.yaml"])
    assert r.exit_code == (1 if status == "FAIL" else 0), r.output
    assert no_network == []
    assert "not-a-secret" not in r.output and "not-a-token" not in r.output


@pytest.mark.parametrize(
    ("var", "words"),
    [
        ("K_SERVICE", "Cloud Run (K_SERVICE is set)"),
        ("FUNCTION_TARGET", "Cloud Functions (FUNCTION_TARGET is set)"),
        ("GAE_APPLICATION", "App Engine (GAE_APPLICATION is set)"),
        ("KUBERNETES_SERVICE_HOST", "a Kubernetes pod"),
    ],
)
def test_adc_on_googles_hosted_runtimes_is_a_warning_not_a_failure(
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    no_network: list[object],
    var: str,
    words: str,
) -> None:
    """With no credentials file, Cloud Run, Cloud Functions, App Engine and GKE serve
    ADC from their metadata server, as a Compute Engine VM does, but only a VM was
    recognised (by its machine name), so doctor said the preset could not run there.
    They are now a warning naming the variable that gave them away; nothing is asked."""
    from mindmovie import doctor

    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.delenv("NO_GCE_CHECK", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    for other, _ in doctor.HOSTED_ON_GOOGLE:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(var, "x")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    machine = tmp_path / "product_name"
    machine.write_text("Standard PC (Q35)\n")
    monkeypatch.setattr(doctor, "GCE_PRODUCT_NAME_FILE", machine, raising=False)
    (tmp_path / "c.yaml").write_text("providers:\n  google: {project: p, location: us-central1}\n")
    settings = load_settings(tmp_path / "c.yaml", overrides={"preset": "google"})
    (row,) = [c for c in run_checks(settings) if c.name == "google mode"]
    assert row.status == "warn" and words in row.detail, row
    assert "metadata server, which doctor does not" in row.detail
    r = CliRunner().invoke(app, ["doctor", "--preset", "google", "-c", "c.yaml"])
    assert r.exit_code == 0, r.output
    assert no_network == []
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # google-auth's own "not on Google": FAIL
    (row,) = [c for c in run_checks(settings) if c.name == "google mode"]
    assert row.status == "FAIL", row


@pytest.mark.parametrize(("preset", "free", "status"), [
    ("byteplus", 99_000_000, "FAIL"),
    ("byteplus", 100_000_000, "ok"),
    ("local", 99_000_000, "warn"),
    ("local", 100_000_000, "ok"),
])  # fmt: skip
def test_a_paid_preset_with_too_little_disk_space_cannot_run(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, preset: str, free: int, status: str
) -> None:
    """A render sends no paid call with less than 100 MB free on the run's disk (every
    scene stops "no space left on the disk"), yet doctor said the output folder was
    writable and the preset "ready". The row now says the free space, and FAILs a paid
    preset below the render's own threshold; an offline one is warned (0 MB free was
    "ok", and the render after it stopped "no space left")."""
    import shutil

    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("ARK_API_KEY", "b")
    real = shutil.disk_usage

    def usage(path: object) -> object:
        return real(path)._replace(free=free)  # type: ignore[arg-type]

    monkeypatch.setattr(shutil, "disk_usage", usage)
    (row,) = [
        c
        for c in run_checks(load_settings(None, overrides={"preset": preset}))
        if c.name == "output dir"
    ]
    assert row.status == status, row
    shown = "99 MB free" if free < 100_000_000 else "100 MB free"
    assert shown in row.detail
    if status == "FAIL":
        assert "no paid call (anthropic, byteplus) with less than 100 MB free" in row.detail
    if status == "warn":
        assert "too little, perhaps, for a render" in row.detail
    r = CliRunner().invoke(app, ["doctor", "--preset", preset])
    assert r.exit_code == (1 if status == "FAIL" else 0), r.output


def test_adc_named_only_in_dotenv_is_not_found_and_the_row_says_why(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_network: list[object]
) -> None:
    """mindmovie reads its keys from ./.env, but google-auth (the render's ADC) reads
    GOOGLE_APPLICATION_CREDENTIALS from the real environment only: a FAIL that said
    "not set" beside a .env that sets it. It now says to export it."""
    from mindmovie import doctor

    monkeypatch.setattr(doctor, "GCE_PRODUCT_NAME_FILE", tmp_path / "none", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    (tmp_path / "adc.json").write_text(json.dumps(AUTHORIZED_USER))
    (tmp_path / ".env").write_text(
        f"ANTHROPIC_API_KEY=a\nGOOGLE_APPLICATION_CREDENTIALS={tmp_path / 'adc.json'}\n"
    )
    (tmp_path / "c.yaml").write_text("providers:\n  google: {project: p, location: us-central1}\n")
    settings = load_settings(tmp_path / "c.yaml", overrides={"preset": "google"})
    (row,) = [c for c in run_checks(settings) if c.name == "google mode"]
    assert row.status == "FAIL" and "./.env sets it" in row.detail and "export it" in row.detail
    assert no_network == []


def test_a_key_needed_by_a_stage_setting_names_it_not_the_preset(clean_env: None) -> None:
    """`video.provider: byteplus` over the local preset: the key row said "needed by
    preset local" (which needs no key); the render names video.provider, as now does
    the row."""
    settings = load_settings(overrides={"video": {"provider": "byteplus"}}, env={})
    (row,) = [c for c in run_checks(settings, Keys()) if c.name == "key byteplus"]
    assert row.status == "FAIL", row
    assert "not set (needed by video.provider 'byteplus');" in row.detail, row
    settings = load_settings(overrides={"preset": "byteplus"}, env={})
    (row,) = [c for c in run_checks(settings, Keys()) if c.name == "key byteplus"]
    assert "not set (needed by preset byteplus);" in row.detail, row


@pytest.mark.parametrize("output_dir", ["outputs", "outputs/movies"])
def test_an_output_folder_through_a_link_to_nothing_is_a_fail_row(
    clean_env: None, tmp_path: Path, output_dir: str
) -> None:
    """`outputs` a link to a folder that is gone (an unmounted disk): doctor probed the
    folder above it, said "created on the first render" and "ready"; render refused
    ("cannot create the folder: File exists", exit 2)."""
    (tmp_path / "outputs").symlink_to(tmp_path / "gone")
    (tmp_path / "goals.yaml").write_text("title: T\ngoals:\n  - category: c\n    vision: v\n")
    settings = load_settings(overrides={"output_dir": output_dir}, env={})
    (row,) = [c for c in run_checks(settings) if c.name == "output dir"]
    assert row.status == "FAIL" and f"a link to {tmp_path / 'gone'}, which is missing" in row.detail
    env = {"MINDMOVIE_OUTPUT_DIR": output_dir}
    assert CliRunner().invoke(app, ["doctor"], env=env).exit_code == 1
    r = CliRunner().invoke(app, ["render", "goals.yaml", "--until", "plan", "-q"], env=env)
    assert r.exit_code == 2 and "cannot create the folder" in r.output, r.output
    assert not (tmp_path / "gone").exists()


def test_doctor_out_a_folder_render_refuses_is_a_fail_row(clean_env: None, tmp_path: Path) -> None:
    """`doctor --out DIR` without GOALS, DIR a folder of other files: doctor said "output
    dir ok ... writable" and ready, and `render goals.yaml --out DIR` refused it (exit 2:
    not a mindmovie run folder and not empty; options audit). The row fails in
    render's words."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    r = CliRunner().invoke(app, ["doctor", "--out", "mine"])
    assert r.exit_code == 1, r.output
    assert "not empty" in " ".join(r.output.split()), r.output
    assert CliRunner().invoke(app, ["doctor", "--out", "new-run"]).exit_code == 0


def test_the_catalog_is_stale_the_day_after_its_limit() -> None:
    """The prices row warns once the catalog was checked more than CATALOG_STALE_DAYS
    ago, not later."""
    import datetime as dt

    from mindmovie.catalog import catalog_checked_date
    from mindmovie.doctor import CATALOG_STALE_DAYS, _catalog_age

    checked = catalog_checked_date()
    fresh = _catalog_age(checked + dt.timedelta(days=CATALOG_STALE_DAYS))
    stale = _catalog_age(checked + dt.timedelta(days=CATALOG_STALE_DAYS + 1))
    assert fresh.ok and "re-check" not in fresh.detail
    assert not stale.ok and not stale.required and stale.status == "warn"
    assert stale.detail.endswith("; re-check prices and model ids before paying")
    # a clock behind the catalog's date: "(-3635 days ago)"
    behind = _catalog_age(checked - dt.timedelta(days=20))
    assert behind.ok and "days ago" not in behind.detail, behind.detail
    assert "a date ahead of this machine's clock" in behind.detail, behind.detail


def test_providers_json_gives_model_ids_and_the_default_apart(clean_env: None) -> None:
    """`providers --json` gave "claude-sonnet-5-5 (default)" as the model, which is no id
    config.yaml takes, and the local row's model was a phrase: a script had to cut them.
    Each row's model is what `planner.model` etc. take, and `default` is a flag."""
    from mindmovie.catalog import models

    rows = json.loads(CliRunner().invoke(app, ["providers", "--json"]).output)
    ids = {m.key for m in models()}
    assert [r["model"] for r in rows] == ["local", *[m.key for m in models()]]
    assert all(isinstance(r["default"], bool) for r in rows)
    paid = [r for r in rows if r["provider"] != "local"]
    assert all(r["model"] in ids for r in paid)
    defaults = [(r["provider"], r["stage"]) for r in paid if r["default"]]
    assert defaults and len(defaults) == len(set(defaults))  # one per provider and stage
    table = CliRunner().invoke(app, ["providers"], env={"COLUMNS": "120"}).output
    assert "(default)" in table
    # every row has every key: the local row lacked note, shutdown and past_shutdown, and
    # a script reading r["past_shutdown"] met a KeyError (options audit)
    assert all(r.keys() == rows[-1].keys() for r in rows), [sorted(r) for r in rows[:2]]


def test_a_flawed_key_under_its_second_name_is_named_by_that_name(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """GEMINI_API_KEY set with its quotes kept (a docker --env-file) and GOOGLE_API_KEY
    not set: render said "GOOGLE_API_KEY (or GEMINI_API_KEY): google's key holds a
    quote" and doctor "GOOGLE_API_KEY or GEMINI_API_KEY: set, but it holds a quote",
    sending the person to GOOGLE_API_KEY, which is not set. The variable the key was
    read from is named."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    monkeypatch.setenv("GEMINI_API_KEY", '"AIza-very-secret"')
    rows = {c.name: c for c in run_checks(load_settings(None, overrides={"preset": "google"}))}
    assert rows["key google"].detail.startswith("GEMINI_API_KEY: set, but it holds a quote")
    (tmp_path / "goals.yaml").write_text(
        "title: T\ngoals:\n  - category: health\n    vision: I run\n"
    )
    closed = "{base_url: 'http://127.0.0.1:9'}"  # nothing may be sent, nor reach the internet
    (tmp_path / "c.yaml").write_text(
        f"preset: google\nproviders:\n  anthropic: {closed}\n  google: {closed}\n"
    )
    r = CliRunner().invoke(app, ["render", "goals.yaml", "-c", "c.yaml", "--yes"])
    assert r.exit_code == 2, r.output
    said = " ".join(r.stderr.split())
    # (after the warning of the preset's keyframe model past its listed shutdown)
    assert said.split("error: ", 1)[1].startswith("GEMINI_API_KEY: google's key holds a quote")
    assert "very-secret" not in r.output
    # status, of a run planned offline, as the next render would need the key
    assert CliRunner().invoke(app, ["plan", "goals.yaml", "--out", "run"]).exit_code == 0
    r = CliRunner().invoke(app, ["status", "run", "--preset", "google"], env={"COLUMNS": "300"})
    lines = [" ".join(ln.split()) for ln in r.stdout.splitlines() if ln.startswith("key:")]
    assert lines and lines[0].startswith("key: GEMINI_API_KEY is set but unusable"), lines
    assert "very-secret" not in r.output
    # and providers, which said "GOOGLE_API_KEY or GEMINI_API_KEY set but unusable"
    r = CliRunner().invoke(app, ["providers"], env={"COLUMNS": "300"})
    said = " ".join(r.stdout.split())
    assert "key (google): GEMINI_API_KEY set but unusable" in said, said
    assert "very-secret" not in r.output


def _no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variable of this machine's left to change what a test sets."""
    for name in list(os.environ):
        if name.lower() in ("https_proxy", "http_proxy", "all_proxy"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("SSL_CERT_FILE", "{tmp}/none.pem", "SSL_CERT_FILE={tmp}/none.pem: the providers' HTTPS"),
        ("SSL_CERT_FILE", "{tmp}/c.yaml", "SSL_CERT_FILE={tmp}/c.yaml: the providers' HTTPS"),
        ("HTTPS_PROXY", "socks5://127.0.0.1:1", "a SOCKS proxy needs the socksio package"),
        ("https_proxy", "ftp://me:pw@proxy.example", "https_proxy=ftp://<not shown>@proxy"),
    ],
)
def test_an_environment_no_http_client_can_be_made_in_is_a_fail_row(
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str,
    value: str,
    said: str,
) -> None:
    """SSL_CERT_FILE naming no file (or no PEM file), a SOCKS proxy without socksio, a
    proxy of a scheme httpx cannot use: no SDK client can be made, and the render
    refuses to start (`test_setting_errors.py`); doctor said "ready". A paid preset
    FAILs the row, the local one (no client made) is told it in an info row."""
    if variable == "HTTPS_PROXY" and importlib.util.find_spec("socksio") is not None:
        pytest.skip("socksio is installed: a SOCKS proxy can be used")
    _no_proxy_variables(monkeypatch)
    (tmp_path / "c.yaml").write_text("preset: byteplus\n")  # a file that is no PEM
    monkeypatch.setenv(variable, value.format(tmp=tmp_path))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("ARK_API_KEY", "b")
    r = CliRunner().invoke(app, ["doctor", "-c", "c.yaml"])
    assert r.exit_code == 1, r.output
    rows = {c.name: c for c in run_checks(load_settings(tmp_path / "c.yaml"))}
    row = rows["http clients"]
    assert row.status == "FAIL", row
    assert said.format(tmp=tmp_path) in row.detail, row
    assert "pw" not in row.detail
    r = CliRunner().invoke(app, ["doctor", "--preset", "local"])
    assert r.exit_code == 0, r.output
    rows = {c.name: c for c in run_checks(load_settings(None, overrides={"preset": "local"}))}
    assert rows["http clients"].status == "info", rows["http clients"]
    assert rows["http clients"].detail.endswith("(not used by this preset)")


def test_the_http_clients_row_names_the_proxy_without_its_password(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_proxy_variables(monkeypatch)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://me:pw@127.0.0.1:3128")
    rows = {c.name: c for c in run_checks(load_settings(None, overrides={"preset": "byteplus"}))}
    assert rows["http clients"].status == "ok", rows["http clients"]
    assert rows["http clients"].detail == (
        "certificates: certifi; proxy: HTTPS_PROXY=http://<not shown>@127.0.0.1:3128"
    )


@pytest.mark.parametrize("code", [errno.ENOLCK, errno.EOPNOTSUPP])
def test_an_output_folder_on_a_filesystem_without_locks_is_a_fail_row(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, code: int
) -> None:
    """The render locks its run folder before any work and refuses a filesystem that
    cannot lock (NFS without lockd: ENOLCK; some FUSE mounts: EOPNOTSUPP; see
    test_environment.py's `test_a_run_folder_on_a_filesystem_without_locks_is_one_line`);
    doctor made its probe file there and said "writable", "ready"."""
    import fcntl

    def no_locks(fd: int, op: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    r = CliRunner().invoke(app, ["doctor"])
    assert r.exit_code == 1, r.output
    (row,) = [c for c in run_checks(load_settings(None)) if c.name == "output dir"]
    assert row.status == "FAIL", row
    assert row.detail == (
        f"{tmp_path}: this filesystem cannot lock the run folder ({os.strerror(code)}), "
        "which keeps two renders out of one run; render into a folder on a local disk "
        "with --out (or set output_dir)"
    )
    assert list(tmp_path.iterdir()) == []  # the probe removed


def _output_dir_of(base: Path, size: int) -> Path:
    """A folder under `base` whose full path is `size` bytes long (folders of at most
    200 letters each, as a filesystem takes them)."""
    d, left = base, size - len(os.fsencode(os.path.realpath(base)))
    while left > 0:
        part = min(200, left - 1)
        if left - 1 - part == 1:  # never a last step of "/" alone
            part -= 2
        d, left = d / ("d" * part), left - 1 - part
    assert len(os.fsencode(os.path.realpath(d))) == size
    return d


@pytest.mark.parametrize(
    ("room", "status", "code"),
    [(0, "FAIL", 2), (1, "warn", 0), (59, "warn", None), (60, "ok", None)],
)
def test_an_output_dir_too_deep_for_run_db_is_a_fail_row_as_render_refuses_it(
    clean_env: None, tmp_path: Path, room: int, status: str, code: int | None
) -> None:
    """run.db's full path may be at most 504 bytes (SQLite: `store.SQLITE_MAX_PATH`).
    With output_dir too deep for any run folder's, the render made the folder and then
    stopped, "run.db cannot be opened: its full path is N bytes long" (exit 2), while
    doctor said "writable" and "ready". `room`: the bytes left for the run folder's name
    (the title's, up to 60 characters). A title of one letter renders with 1 left."""
    out = _output_dir_of(tmp_path, 504 - len("/run.db") - 1 - room)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"output_dir: {out}\noutput: {{size: 160x90, fps: 8}}\nplan: {{scene_seconds: 2}}\n"
        "compose: {quality: draft}\n"
    )
    (row,) = [c for c in run_checks(load_settings(cfg)) if c.name == "output dir"]
    assert row.status == status, row
    if status == "FAIL":
        assert "would be at least 505 bytes long" in row.detail, row
    if status == "warn":
        assert f"may be at most {room} bytes here" in row.detail, row
    r = CliRunner().invoke(app, ["doctor", "-c", str(cfg)])
    assert r.exit_code == (1 if status == "FAIL" else 0), r.output
    if code is not None:
        goals = tmp_path / "goals.yaml"
        goals.write_text("title: X\ngoals:\n  - {category: health, vision: Run, scenes: 1}\n")
        r = CliRunner().invoke(app, ["render", str(goals), "-c", str(cfg), "-q"])
        assert r.exit_code == code, r.output
        assert (out / "x" / "movie.mp4").exists() == (code == 0)


@pytest.mark.parametrize(
    ("setting", "row", "said"),
    [
        ("video:\n  model: seedance-9\n", "model video", "video.model 'seedance-9' is not"),
        ("keyframes:\n  options: {sizee: 2K}\n", "options", "keyframes.options: unknown"),
        ("planner:\n  options: {max_tokens: abc}\n", "options", "planner.options.max_tokens:"),
    ],
)
def test_a_model_or_option_row_names_the_file_and_line_as_render_does(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, setting: str, row: str, said: str
) -> None:
    """render says a model the catalog does not know, or an option it refuses, led by
    where it was written ("c.yaml:3: video.model 'seedance-9' is not a known ..."); the
    doctor row said the same without the file and line to fix."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("ARK_API_KEY", "b")
    Path("c.yaml").write_text("preset: byteplus\n# the stage:\n" + setting)
    r = CliRunner().invoke(app, ["doctor", "-c", "c.yaml"], env={"COLUMNS": "300"})
    assert r.exit_code == 1, r.output
    (line,) = [ln for ln in r.output.splitlines() if f"│ {row} " in ln]
    assert f"│ FAIL │ c.yaml:4: {said}" in line, line


@pytest.mark.parametrize(
    ("preset", "budget", "below", "up"),
    [("byteplus", 0.13, 0.14, 0.15), ("google", 0.35, 0.36, 0.37)],
)
def test_the_budget_floor_is_named_rounded_up_so_setting_it_passes(
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    preset: str,
    budget: float,
    below: float,
    up: float,
) -> None:
    """The least a new movie needs ($0.140008 with byteplus) was shown rounded to the
    nearest cent: `budget_usd: 0.14` read "budget_usd: $0.14 is below $0.14 ... Raise
    budget_usd", and setting the figure shown failed again. Both figures are named
    rounded up: the floor set is no FAIL (the plan's bill decides: a warning), and the
    figure to raise it to passes."""
    for name in KEYVARS:
        monkeypatch.setenv(name, "k")

    def row_for(usd: float) -> Check:
        monkeypatch.setenv("MINDMOVIE_BUDGET_USD", str(usd))
        settings = load_settings(None, {"preset": preset})
        (row,) = [c for c in run_checks(settings) if c.name == "budget"]
        return row

    row = row_for(budget)
    assert row.status == "FAIL", row
    assert row.detail.startswith(f"budget_usd: ${budget:.2f} is below ${below:.2f}, the least")
    assert row.detail.endswith(f"Raise budget_usd to at least ${up:.2f}"), row.detail
    assert row_for(below).status == "warn"
    assert row_for(up).status == "ok"


@pytest.mark.parametrize(
    ("preset", "until"), [("byteplus", "movie"), ("google", "movie"), ("byteplus", "plan")]
)
def test_the_figure_an_ok_budget_row_names_passes_when_set(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, preset: str, until: str
) -> None:
    """An ok budget row names what the render needs ("a new movie needs at least
    $0.36", "the plan needs at least $0.02") rounded to the nearest cent, under the need
    ($0.3605, $0.0234): a person who set the figure named was told it may stop at the
    budget (google), or FAIL (the plan), and the render stopped there. It is named
    rounded up, as the FAIL row names it, and set as the budget it passes."""
    import re

    for name in KEYVARS:
        monkeypatch.setenv(name, "k")
    settings = load_settings(None, {"preset": preset})

    def row_for(usd: float) -> Check:
        (row,) = [c for c in run_checks(settings, budget=usd, until=until) if c.name == "budget"]
        return row

    row = row_for(5.0)
    assert row.status == "ok", row
    named = re.search(r"needs at least \$([0-9.]+)", row.detail)
    assert named is not None, row.detail
    assert row_for(float(named[1])).status == "ok", (named[0], row_for(float(named[1])))


@pytest.mark.parametrize("case", ["under a file", "too deep", "fits"])
def test_doctor_out_checks_the_run_folder_render_out_writes(
    clean_env: None, tmp_path: Path, case: str
) -> None:
    """doctor took no --out: a person rendering with `--out DIR` was told about
    output_dir (here fine) and "ready", and the render refused DIR (under a file, or
    too deep a path for run.db), exit 2. `doctor --out` checks DIR as render uses it:
    the run folder itself, run.db at DIR/run.db."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "output: {size: 160x90, fps: 8}\nplan: {scene_seconds: 2}\ncompose: {quality: draft}\n"
    )
    (tmp_path / "blocker").write_text("")
    out = {
        "under a file": tmp_path / "blocker" / "run",
        "too deep": _output_dir_of(tmp_path, 505 - len("/run.db")),
        "fits": _output_dir_of(tmp_path, 504 - len("/run.db")),
    }[case]
    fits = case == "fits"
    r = CliRunner().invoke(app, ["doctor", "-c", str(cfg), "--out", str(out)])
    assert r.exit_code == (0 if fits else 1), r.output
    (row,) = [c for c in run_checks(load_settings(cfg), out=out) if c.name == "output dir"]
    assert row.status == ("ok" if fits else "FAIL"), row
    assert row.detail.startswith(str(out)), row
    if case == "too deep":
        assert "its run.db would be 505 bytes long" in row.detail, row
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: X\ngoals:\n  - {category: health, vision: Run, scenes: 1}\n")
    r = CliRunner().invoke(app, ["render", str(goals), "-c", str(cfg), "--out", str(out), "-q"])
    assert r.exit_code == (0 if fits else 2), r.output
    assert (out / "movie.mp4").exists() == fits


#: a mindmovie process rendering the folder in argv[1]: it holds the run's lock (as a
#: render does, `RunLock`) until its stdin closes
_HOLDS_THE_LOCK = """
import sys
from pathlib import Path
from mindmovie.pipeline import RunLock
with RunLock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()
"""


@pytest.mark.parametrize("given", ["--out", "GOALS"])
def test_doctor_out_names_a_render_running_in_the_run_folder(
    clean_env: None, tmp_path: Path, given: str
) -> None:
    """`render --out DIR` refuses while another render holds DIR ("another mindmovie
    process (pid N) is rendering DIR", exit 2), and `doctor --out DIR` said "ready".
    doctor's output dir row fails with render's words, naming the pid, and leaves the
    lock alone: the render holding it goes on holding it. Given GOALS, doctor checks
    the run folder their render uses (here output_dir/<title>) as well."""
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: X\ngoals:\n  - {category: health, vision: Run, scenes: 1}\n")
    run = tmp_path / "run" if given == "--out" else Path("outputs", "x")
    out = run if given == "--out" else None
    doctor = ["doctor", "--out", str(run)] if given == "--out" else ["doctor", str(goals)]
    render = ["render", str(goals), "-q", *(["--out", str(run)] if out else [])]
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDS_THE_LOCK, str(run)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        env = {"COLUMNS": "400"}
        r = CliRunner().invoke(app, render, env=env)
        assert r.exit_code == 2, r.output
        said = r.output.strip().splitlines()[-1].removeprefix("error: ")
        d = CliRunner().invoke(app, doctor, env=env)
        assert d.exit_code == 1, d.output
        checks = run_checks(load_settings(None), out=out, goals=None if out else goals)
        (row,) = [c for c in checks if c.name == "output dir"]
        assert row.status == "FAIL", row
        # (the minutes since it took the lock may tick between the two)
        since = re.compile(r", since [^)]*\)")
        assert since.sub(")", row.detail) == since.sub(")", said), (row.detail, said)
        assert row.detail.startswith(f"another mindmovie process (pid {holder.pid}, since ")
        assert list(_fail_rows(d.output)) == ["output dir"], d.output
        assert f"(pid {holder.pid}, since " in d.output, d.output
        assert holder.poll() is None and (run / ".lock").read_text() == str(holder.pid)
    finally:
        holder.communicate("")
    checks = run_checks(load_settings(None), out=out, goals=None if out else goals)
    (row,) = [c for c in checks if c.name == "output dir"]
    assert row.status == "ok", row  # the render gone: nothing in the way


@pytest.mark.parametrize(
    "text",
    [None, "", "title: X\ngoals: 3\n", "title: X\ngoals:\n  - {category: health}\n"],
)
def test_doctor_goals_are_read_as_render_reads_them(
    clean_env: None, tmp_path: Path, text: str | None
) -> None:
    """`doctor GOALS` reads goals.yaml as render does: a missing, empty or wrong one is
    render's own error line (exit 2, no table), before anything is checked."""
    goals = tmp_path / "goals.yaml"
    if text is not None:
        goals.write_text(text)
    env = {"COLUMNS": "400"}
    r = CliRunner().invoke(app, ["render", str(goals), "-q"], env=env)
    assert r.exit_code == 2 and r.output.startswith("error: "), r.output
    d = CliRunner().invoke(app, ["doctor", str(goals)], env=env)
    assert (d.exit_code, d.output) == (2, r.output), d.output


def test_doctor_goals_budget_row_fails_warns_or_passes_as_their_render_needs(
    clean_env: None, tmp_path: Path
) -> None:
    """With GOALS, the budget is judged against their render (its estimate, as the
    spend question's): ok only from what the budget counts the calls at (each call at
    its hold), where the render surely finishes; under it what render says up front of
    that budget (`costs.budget_short`, word for word): a FAIL under the estimate (with
    whether the calls' bills could still let it finish), a warning from it (render only
    says it may stop before its last call, and goes ahead). The two middle budgets
    were warnings (exit 0) while render said it "stops at the cap". The smallest goals'
    figures (doctor without GOALS) said "ok" to all but the first of these."""
    from mindmovie.doctor import price_goals

    goals = tmp_path / "goals.yaml"
    goals.write_text(
        "title: X\ngoals:\n  - {category: health, vision: Run, scenes: 2}\n"
        "  - {category: career, vision: Lead, scenes: 2}\n"
    )
    settings = load_settings(overrides={"preset": "byteplus"}, env={})
    priced = price_goals(settings, goals)
    assert priced.est is not None and priced.est.planner is not None
    est = priced.est
    least = est.total - est.planner.usd + priced.plan_least
    assert priced.plan_least < est.planner.usd and est.total < est.most_held

    def row(budget: float, goals: Path | None = goals) -> Check:
        (found,) = [
            c for c in run_checks(settings, budget=budget, goals=goals) if c.name == "budget"
        ]
        return found

    for budget, status, says in [
        # (under the plan's hold: it was told "it stops at the cap, keeping what is paid
        # for" of a render that could buy nothing, and asked to spend $2.09 so)
        (est.plan_hold / 2, "FAIL", "The render stops at the cap before the plan, its first"),
        (least - 0.001, "FAIL", "However little the plan bills, it stops before the movie is "),
        ((least + est.total) / 2, "FAIL", "finish only if the calls bill less than estimated"),
        ((est.total + est.most_held) / 2, "warn", "may stop at the cap before that call"),
        (est.most_held, "ok", f"(enough for a render of {goals}: about $"),
    ]:
        found = row(budget)
        assert found.status == status and says in found.detail, (budget, found)
        from mindmovie.costs import budget_short

        line = budget_short(est, budget)  # what render says under its estimate
        assert (line is None) == (status == "ok"), line
        if line is not None:
            assert found.detail.startswith(f"--budget (a render of {goals}): {line}"), found
        if budget > est.plan_hold:  # (under it no goals' render makes anything)
            assert row(budget, None).status == "ok"  # the smallest goals' figure
    (goals_row,) = [c for c in run_checks(settings, goals=goals) if c.name == "goals"]
    assert goals_row.status == "ok", goals_row
    assert goals_row.detail == f"{goals}: a render spends about ${est.total:.2f}, in outputs/x"


def test_doctor_goals_fresh_counts_the_clip_jobs_render_fresh_carries_and_moves_nothing(
    clean_env: None, tmp_path: Path
) -> None:
    """`doctor GOALS --fresh` prices the run as `render --fresh` does: its ledger set
    aside, but a clip job still in flight there is carried into the new run, whose
    budget counts its hold before the question (`Pipeline._fresh_carry_held`). Without
    --fresh doctor counts that run's ledger as it is. Nothing is moved or written."""
    from mindmovie.doctor import price_goals
    from mindmovie.store import Store

    goals = tmp_path / "goals.yaml"
    goals.write_text("title: X\ngoals:\n  - {category: health, vision: Run, scenes: 1}\n")
    run = tmp_path / "run"
    run.mkdir()
    store = Store(run / "run.db")
    plan = store.ledger_commit("_run", "plan", "anthropic", "m", 0.01)
    store.ledger_bill(plan, 0.01, {})
    job = store.ledger_commit("01-health-1", "clip", "byteplus", "seedance", 0.25, 0.3)
    store.ledger_set_remote(job, "cgt-1")
    store.close()
    files = sorted((p.name, p.stat().st_mtime_ns) for p in run.iterdir())
    settings = load_settings(overrides={"preset": "byteplus"}, env={})
    fresh = price_goals(settings, goals, out=run, fresh=True)
    assert fresh.est is not None and fresh.est.planner is not None, fresh
    assert fresh.spent == pytest.approx(0.3), fresh  # the job's hold, not the plan's bill
    assert price_goals(settings, goals, out=run).spent == pytest.approx(0.31)
    (row,) = [
        c
        for c in run_checks(settings, out=run, budget=5.0, goals=goals, fresh=True)
        if c.name == "goals"
    ]
    assert "a render --fresh spends about $" in row.detail, row
    assert "($0.30 held for clip jobs of the run set aside, still in flight" in row.detail
    assert sorted((p.name, p.stat().st_mtime_ns) for p in run.iterdir()) == files


def _fail_rows(output: str) -> dict[str, str]:
    """doctor's FAIL rows in its table (`output`), at whatever width it was drawn: each
    check's name and its detail, the detail's wrapped lines joined."""
    rows: dict[str, str] = {}
    name = None
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if not line.startswith("│") or len(cells) != 3:
            name = None
        elif cells[1] == "FAIL":
            name = cells[0]
            rows[name] = cells[2]
        elif name and not cells[0] and not cells[1]:
            rows[name] += " " + cells[2]
        else:
            name = None
    return rows


@pytest.mark.parametrize(
    ("flags", "render_code", "row"),
    [
        (["--preset", "google", "--aspect", "1:1"], 2, "clip settings"),
        (["--preset", "google", "--resolution", "480p"], 2, "clip settings"),
        (["--fps", "0"], 2, None),
        (["--quality", "ultra"], 2, None),
        (["--budget", "abc"], 2, None),
        (["--until", "later"], 2, None),
        (["--preset", "byteplus", "--budget", "0"], 3, "budget"),
    ],
)
def test_doctor_takes_renders_setting_and_budget_flags_and_refuses_as_render_does(
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    flags: list[str],
    render_code: int,
    row: str | None,
) -> None:
    """doctor took only --config and --preset: `doctor --preset google --aspect 1:1`
    (or `--resolution 480p`, `--budget 0`) was "No such option", exit 2, and without
    the flag doctor said "ready" of what the render refuses. Each is read as render
    reads it: a bad value is render's own error line (exit 2, no table); what the
    preset cannot run with, a FAIL row (exit 1) led by what render says."""
    for name in KEYVARS:
        monkeypatch.setenv(name, "k")
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: X\ngoals:\n  - {category: health, vision: Run, scenes: 1}\n")
    env = {"COLUMNS": "400"}
    render = CliRunner().invoke(app, ["render", str(goals), "-q", "--yes", *flags], env=env)
    assert render.exit_code == render_code, render.output
    said = render.output.strip().splitlines()[-1].removeprefix("error: ")
    r = CliRunner().invoke(app, ["doctor", *flags], env=env)
    if row is None:
        assert r.exit_code == 2 and r.output.strip() == f"error: {said}", r.output
        return
    assert r.exit_code == 1, r.output
    failed = _fail_rows(r.output)
    assert list(failed) == [row], r.output
    detail = failed[row]
    if row == "budget":
        assert detail.startswith("--budget: $0.00: render stops before its first paid"), detail
        assert "the budget $0.00 lets no paid call through" in said, said
    else:  # render's line, word for word: the problem and what to do
        assert said == f"{detail}. Nothing was spent", (said, detail)


@pytest.mark.parametrize(
    ("case", "row", "ending"),
    [
        (
            "ffmpeg parts",
            "ffmpeg filters",
            "missing: xfade; use an ffmpeg built with them (imageio-ffmpeg's own has them: "
            "unset IMAGEIO_FFMPEG_EXE, or reinstall with the README's install line)",
        ),
        ("ffmpeg", "ffmpeg", "; unset IMAGEIO_FFMPEG_EXE or point it at an ffmpeg that runs"),
        ("file in the way", "output dir", "; move the file, or set output_dir to another folder"),
        ("name too long", "output dir", "(File name too long); set output_dir to another folder"),
        (
            "clip settings",
            "clip settings",
            "; change output.aspect to one the model makes, or pick another video.model",
        ),
        ("key", "key byteplus", "not set (needed by preset byteplus); set ARK_API_KEY in the "
         "environment or in ./.env"),
        ("google key", "google mode", "GOOGLE_API_KEY (or GEMINI_API_KEY) not set; set "
         "GOOGLE_API_KEY in the environment or in ./.env (or set providers.google.project "
         "and location to use ADC)"),
        ("google key, developer mode", "google mode", "GOOGLE_API_KEY (or GEMINI_API_KEY) not "
         "set; set GOOGLE_API_KEY in the environment or in ./.env"),
        ("google-genai", "google mode", "; reinstall mindmovie with the README's install line "
         "(google-genai is one of its dependencies)"),
    ],
)  # fmt: skip
def test_a_fail_row_says_what_to_do(
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    case: str,
    row: str,
    ending: str,
) -> None:
    """`doctor` ends "fix the FAIL rows above", but these rows said only what was wrong
    ("missing: xfade", "cannot be used (... is a file, not a folder)", "ratio 1:1 not
    allowed", "ARK_API_KEY ...: not set", the google mode row's "GOOGLE_API_KEY (or
    GEMINI_API_KEY) not set" and "google-genai not importable: ..."), where the render's
    refusal of the same says what to do, or nothing did. Each now says it."""
    import mindmovie.media

    overrides: dict[str, object] = {}
    if case == "ffmpeg parts":
        fake = _fake_ffmpeg(tmp_path, r"^ *[TSC.|]{2,3} +xfade ")
        monkeypatch.setattr(mindmovie.media, "ffmpeg_exe", lambda: fake)
    elif case == "ffmpeg":  # named, but not a program (no x bit): not started
        bad = tmp_path / "ffmpeg"
        bad.write_text("not a program")
        monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(bad))
        monkeypatch.setattr(mindmovie.media, "ffmpeg_exe", lambda: str(bad))
    elif case == "file in the way":
        (tmp_path / "blocker").write_text("")
        overrides = {"output_dir": str(tmp_path / "blocker" / "outputs")}
    elif case == "name too long":
        overrides = {"output_dir": "a" * 300}
    elif case == "clip settings":
        overrides = {"preset": "google", "output": {"aspect": "1:1"}}
    elif case == "google key":
        overrides = {"preset": "google"}
    elif case == "google key, developer mode":  # keyframes only: Veo refuses the mode
        overrides = {
            "preset": "google",
            "video": {"provider": "local"},
            "keyframes": {"model": "gemini-2-5-flash-image"},
            "providers": {"google": {"vertexai": False}},
        }
    elif case == "google-genai":
        monkeypatch.setenv("GOOGLE_API_KEY", "g")
        monkeypatch.setitem(sys.modules, "mindmovie.providers.google", None)  # ImportError
        overrides = {"preset": "google"}
    else:
        overrides = {"preset": "byteplus"}
    checks = run_checks(load_settings(overrides=overrides, env={}))
    (found,) = [c for c in checks if c.name == row]
    assert found.status == "FAIL" and found.detail.endswith(ending), found


def test_doctor_fresh_without_goals_is_refused_in_one_line(clean_env: None) -> None:
    """`doctor --fresh` without GOALS printed the same table as without --fresh, exit 0:
    a person who meant to check their render --fresh's budget had checked nothing of it."""
    r = CliRunner().invoke(app, ["doctor", "--fresh", "--preset", "local"], env={"COLUMNS": "300"})
    assert r.exit_code == 2, r.output
    assert r.output.startswith("error: --fresh prices a render --fresh of your goals"), r.output
    assert len(r.output.strip().splitlines()) == 1, r.output


def test_a_model_past_the_shutdown_its_provider_lists_is_a_warning_and_a_providers_note(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The google preset's default keyframe model is past the shutdown date catalog.toml
    records for it (2026-10-02): `doctor` said "ready" and `providers` listed it as the
    default with no word of it, and a render bought its plan, then every keyframe was
    refused (404). doctor warns (the preset may still run: the date is the provider's
    list's), and providers says it below its table and in --json."""
    import datetime as dt

    from mindmovie.catalog import resolve
    from mindmovie.doctor import shutdown_said

    spec = resolve("google", "keyframes", "gemini-2-5-flash-image")
    assert spec.shutdown == dt.date(2026, 10, 2)
    assert shutdown_said(spec, today=dt.date(2026, 10, 1)) is None
    assert "shutdown for 2026-10-02" in (shutdown_said(spec, today=spec.shutdown) or "")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("GOOGLE_API_KEY", "g")
    checks = run_checks(load_settings(None, overrides={"preset": "google"}))
    (row,) = [c for c in checks if c.name == "model keyframes"]
    assert row.status == "warn" and "gemini-3-1-flash-image" in row.detail, row
    r = CliRunner().invoke(app, ["providers", "--json"])
    rows = {x["model"]: x for x in json.loads(r.stdout)}
    assert rows["gemini-2-5-flash-image"]["past_shutdown"] is True
    assert rows["gemini-3-1-flash-image"]["past_shutdown"] is False
    # each rate in its own unit: tokens an image are no dollars
    price = rows["gemini-2-5-flash-image"]["price"]
    assert "image 0.0387 $/image" in price and "1290 tokens/image" in price, price
    assert "output 30 $/1M tokens" in price, price
    r = CliRunner().invoke(app, ["providers"], env={"COLUMNS": "300"})
    said = " ".join(r.stdout.split())
    assert "note (google keyframes gemini-2-5-flash-image): its provider lists its " in said
    # and a render warns before it spends (the plan was bought, then every keyframe 404)
    from mindmovie.cli import _warn_shutdown

    warned: list[str] = []

    class Warn:
        warn = warned.append

    _warn_shutdown(Warn(), load_settings(None, overrides={"preset": "google"}))
    assert [w.split(":")[0] for w in warned] == ["gemini-2-5-flash-image (google keyframes)"]
    _warn_shutdown(Warn(), load_settings(None, overrides={"preset": "byteplus"}))
    assert len(warned) == 1


def test_settings_the_local_providers_ignore_are_warnings(clean_env: None) -> None:
    """`video.audio: true` and keyframes options on the local preset: render warns that
    they are ignored as it starts, and doctor said "ready" with no word of them, though
    its help says it checks "an audio the video model cannot make, a stage option its
    provider does not read". Each is a warning row; the preset still runs."""
    settings = load_settings(
        None, overrides={"video": {"audio": True}, "keyframes": {"options": {"size": "2K"}}}
    )
    checks = run_checks(settings)
    rows = [c for c in checks if c.name == "settings"]
    assert [r.status for r in rows] == ["warn", "warn"], rows
    assert "keyframes.options (size): the local keyframes provider" in rows[0].detail
    assert "video.audio: the local video provider makes no sound" in rows[1].detail
    assert can_run(checks)
    assert not [c for c in run_checks(load_settings(None)) if c.name == "settings"]


def test_doctor_goals_fails_where_their_run_folder_s_run_db_path_is_too_long(
    clean_env: None, tmp_path: Path
) -> None:
    """output_dir with 8 bytes left for a run folder's name: `doctor` warns a title "may"
    not fit; given GOALS (title "Test Movie", folder test-movie: 10 bytes) it said the
    same and "ready", and their render stopped, "run.db cannot be opened: its full path
    is 506 bytes long" (exit 2). Their run folder is known: a FAIL naming it."""
    out = _output_dir_of(tmp_path, 504 - len("/run.db") - 1 - 8)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"output_dir: {out}\n")
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: Test Movie\ngoals:\n  - {category: health, vision: Run}\n")
    r = CliRunner().invoke(app, ["doctor", str(goals), "-c", str(cfg)])
    assert r.exit_code == 1, r.output
    (row,) = [c for c in run_checks(load_settings(cfg), goals=goals) if c.name == "output dir"]
    assert row.status == "FAIL", row
    assert "too long a path for these goals' run folder: its run.db would be 506" in row.detail
    short = tmp_path / "short.yaml"
    short.write_text("title: Go\ngoals:\n  - {category: health, vision: Run}\n")
    r = CliRunner().invoke(app, ["doctor", str(short), "-c", str(cfg)])
    assert r.exit_code == 0, r.output
    (row,) = [c for c in run_checks(load_settings(cfg), goals=short) if c.name == "output dir"]
    assert row.status == "warn" and "may be at most 8 bytes here" in row.detail, row
