"""A provider key leaves the process only in its request's header.

The standard: keys are `SecretStr`, never printed, never stored, never in tracebacks. The
unit tests check the `Keys` object's repr; these run the real CLI (subprocesses, the real
SDKs, the simulator) through a paid render, its failures and the commands that read a
run, and look for the keys in everything a person or a file could see: stdout, stderr
and every byte under the run folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import mindmovie_fork
from tests.integration.support import goals_file, preset_config
from tests.sim import SimServer

#: the part every key shares: found anywhere, a key (or the middle of one) leaked
MARK = "SeCrEtVaLuE"
KEYS = {
    "ANTHROPIC_API_KEY": f"sk-ant-api03-{MARK}-anthropic-0001",
    "ARK_API_KEY": f"ark-{MARK}-byteplus-0002",
    "GEMINI_API_KEY": f"AIza{MARK}-google-0003",
}


def _env() -> dict[str, str]:
    drop = ("MINDMOVIE_", "ANTHROPIC_", "ARK_", "GEMINI_", "GOOGLE_", "BYTEPLUS_", "VOLC")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, **KEYS, "COLUMNS": "200"}


def _mindmovie(
    tmp: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m mindmovie ARGS` in its own process (forked with the SDKs imported:
    tests/mindmovie_fork.py); `env` adds to the keys' environment."""
    return mindmovie_fork.run(list(args), env={**_env(), **(env or {})}, cwd=tmp, timeout=120)


def _leaks_in_files(folder: Path) -> list[str]:
    mark = MARK.encode()
    return [str(p) for p in folder.rglob("*") if p.is_file() and mark in p.read_bytes()]


def _check(r: subprocess.CompletedProcess[str]) -> None:
    assert MARK not in r.stdout and MARK not in r.stderr, (r.args, r.stdout, r.stderr)


def test_a_paid_render_and_every_command_after_it_show_no_key(
    sim: SimServer, tmp_path: Path
) -> None:
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg = preset_config(tmp_path, sim, "byteplus")
    out = tmp_path / "run"
    r = _mindmovie(tmp_path, "render", str(goals), "-c", str(cfg), "--out", str(out),
                   "--yes", "--verbose")  # fmt: skip
    assert r.returncode == 0, r.stderr
    _check(r)
    assert (out / "movie.mp4").is_file()
    # the key did go out, in the header the provider reads (the simulator redacts it)
    assert sim.requests(path="/images/generations")
    for cmd in (
        ["status", str(out), "--json", "-c", str(cfg)],
        ["status", str(out), "-c", str(cfg)],
        ["storyboard", str(out), "-c", str(cfg)],
        ["estimate", str(goals), "-c", str(cfg)],
        ["doctor", "-c", str(cfg)],
        ["providers", "--json"],
    ):
        done = _mindmovie(tmp_path, *cmd)
        assert done.returncode == 0, (cmd, done.stdout, done.stderr)
        _check(done)
    assert _leaks_in_files(tmp_path) == []


def test_refused_and_failing_calls_name_no_key(sim: SimServer, tmp_path: Path) -> None:
    """The provider's answers to a bad key, and to calls that keep failing, become
    messages, ledger notes and step errors: none holds the key."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg = preset_config(tmp_path, sim, "byteplus")
    # a key the provider refuses, at the first keyframe
    sim.add_fault("http", path="/images/generations", status=401, code="AuthenticationError",
                  message="The API key or AK/SK in the request is missing or invalid.")  # fmt: skip
    r = _mindmovie(tmp_path, "render", str(goals), "-c", str(cfg), "--out",
                   str(tmp_path / "refused"), "--yes", "--verbose")  # fmt: skip
    assert r.returncode != 0 and "ARK_API_KEY" in r.stdout + r.stderr, (r.stdout, r.stderr)
    _check(r)
    # video creates that fail on every try (server errors); a 503 may have made the task
    # (looked for, waited for ANSWERED_GRACE once, then not again: ANSWERED_AGAIN_GRACE;
    # the wait cut to 1 s here, as the crash tests cut it); a short Retry-After, honoured,
    # so the retries do not wait out their backoff (~7 s)
    sim.clear_faults()
    sim.add_fault("http", path="/contents/generations/tasks", method="POST", status=503,
                  count=None, retry_after=0.05)  # fmt: skip
    r = _mindmovie(tmp_path, "render", str(goals), "-c", str(cfg), "--out",
                   str(tmp_path / "failing"), "--yes", "--verbose",
                   env={"MINDMOVIE_LATE_JOB_GRACE": "1"})  # fmt: skip
    assert r.returncode != 0, r.stdout
    _check(r)
    status = _mindmovie(tmp_path, "status", str(tmp_path / "failing"), "--json")
    assert status.returncode == 0 and "HTTP 503" in status.stdout, status.stdout
    _check(status)
    # a video job the provider failed, its reason quoting the key: the reason is the
    # refund's note in the ledger, which held it whole (and `status --json` said it)
    sim.clear_faults()
    sim.add_fault("fail", path="/contents/generations/tasks", code="InternalError",
                  message=f"task failed for key {KEYS['ARK_API_KEY']}")  # fmt: skip
    r = _mindmovie(tmp_path, "render", str(goals), "-c", str(cfg), "--out",
                   str(tmp_path / "job-failed"), "--yes")  # fmt: skip
    assert r.returncode != 0 and "InternalError" in r.stderr, (r.stdout, r.stderr)
    _check(r)
    status = _mindmovie(tmp_path, "status", str(tmp_path / "job-failed"), "--json")
    assert status.returncode == 0 and "task failed for key" in status.stdout, status.stdout
    _check(status)
    assert _leaks_in_files(tmp_path) == []


def test_a_google_render_refused_shows_no_key(sim: SimServer, tmp_path: Path) -> None:
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg = preset_config(tmp_path, sim, "google")
    sim.add_fault("http", status=403, message="Permission denied on resource.",
                  path=":generateContent")  # fmt: skip
    r = _mindmovie(tmp_path, "render", str(goals), "-c", str(cfg), "--out",
                   str(tmp_path / "run"), "--yes", "--verbose")  # fmt: skip
    assert r.returncode != 0, r.stdout
    assert "403" in r.stderr and "GEMINI_API_KEY" in r.stderr, r.stderr
    _check(r)
    doctor = _mindmovie(tmp_path, "doctor", "-c", str(cfg))
    assert "GEMINI_API_KEY" in doctor.stdout, doctor.stdout
    _check(doctor)
    assert _leaks_in_files(tmp_path) == []


#: runs `mindmovie ARGS...` with the planner's construction replaced by a bug that holds
#: the key in a local variable, so the CLI ends in its pretty traceback
_BUG_WITH_A_KEY_IN_A_LOCAL = """
import runpy, sys
from mindmovie.providers.anthropic import ClaudePlanner

def from_settings(cls, settings, keys):
    key = keys.anthropic.get_secret_value()
    raise RuntimeError(f"an unexpected bug ({len(key)})")

ClaudePlanner.from_settings = classmethod(from_settings)
sys.argv = ["mindmovie", *sys.argv[1:]]
runpy.run_module("mindmovie", run_name="__main__")
"""


def test_a_traceback_of_an_unexpected_bug_shows_no_key(tmp_path: Path) -> None:
    """lessons.md: keys showed up in rich tracebacks' locals. A bug (not a provider
    error, so no one-line message) ends in typer's pretty traceback, which shows each
    frame's code but not its locals: the key in `key` is not printed."""
    (tmp_path / "goals.yaml").write_text(
        "title: T\ngoals:\n  - category: health\n    vision: I run\n"
    )
    # every provider at a closed loopback port: nothing can reach the internet even if
    # a call came before the planner's
    closed = "{base_url: 'http://127.0.0.1:9'}"
    (tmp_path / "c.yaml").write_text(
        f"preset: byteplus\nproviders:\n  anthropic: {closed}\n  byteplus: {closed}\n"
    )
    (tmp_path / "bug.py").write_text(_BUG_WITH_A_KEY_IN_A_LOCAL)  # a file: its lines are shown
    r = subprocess.run(
        [sys.executable, "bug.py", "render", "goals.yaml", "-c", "c.yaml", "--yes"],
        env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert r.returncode == 1 and "an unexpected bug" in r.stderr, (r.stdout, r.stderr)
    assert "Traceback" in r.stderr and "key = keys.anthropic" in r.stderr  # the frame is shown
    _check(r)
    assert _leaks_in_files(tmp_path) == []


def test_a_jobs_origin_holds_no_key_only_a_salted_one_way_fingerprint() -> None:
    """Where a video job is made is recorded with its ledger row (to tell a poll's 404
    asked of other settings from a job forgotten): the key only as a fingerprint, which
    differs per run (salt) and per key, and holds no part of the key."""
    import json

    from pydantic import SecretStr

    from mindmovie.config import Keys, load_settings
    from mindmovie.providers import byteplus, google

    keys = Keys(byteplus=SecretStr(KEYS["ARK_API_KEY"]), google=SecretStr(KEYS["GEMINI_API_KEY"]))
    s = load_settings(overrides={"preset": "byteplus"}, env={})
    made = byteplus.job_origin(s, keys, b"salt-of-run-1")
    assert made["base_url"] == byteplus.DEFAULT_BASE_URL, made
    assert MARK not in json.dumps(made) and len(made["key"]) == 32, made
    assert byteplus.job_origin(s, keys, b"salt-of-run-1") == made  # the same key: the same
    assert byteplus.job_origin(s, keys, b"salt-of-run-2")["key"] != made["key"]
    other = Keys(byteplus=SecretStr(KEYS["ARK_API_KEY"] + "x"))
    assert byteplus.job_origin(s, other, b"salt-of-run-1")["key"] != made["key"]
    g = load_settings(overrides={"preset": "google"}, env={})
    express = google.job_origin(g, keys, b"salt")
    assert express["mode"] == "express" and MARK not in json.dumps(express), express
    g = load_settings(
        overrides={"preset": "google", "providers": {"google": {"project": "p", "location": "l"}}},
        env={},
    )
    assert google.job_origin(g, keys, b"salt") == {
        "mode": "project",
        "base_url": "https://l-aiplatform.googleapis.com",  # google-genai's for location l
        "project": "p",
        "location": "l",
    }


def test_a_key_s_fingerprint_is_made_once_a_process_and_its_memo_holds_no_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fingerprint's 100,000 PBKDF2 rounds (~25 ms of CPU) were run at every render
    of a process that renders many times (~400 in the test suite). Its answers are
    remembered by the key's SHA-256 and the salt; another key or salt is worked out anew,
    and the memo holds no part of the key."""
    import hashlib

    from mindmovie.providers import base

    rounds: list[bytes] = []
    real = hashlib.pbkdf2_hmac

    def counted(name: str, password: bytes, salt: bytes, n: int) -> bytes:
        rounds.append(salt)
        return real(name, password, salt, n)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counted)
    monkeypatch.setattr(base, "_FINGERPRINTS", {}, raising=False)  # (fails on its asserts without)
    key = KEYS["ARK_API_KEY"]
    want = real("sha256", key.encode(), b"salt-a", base.KEY_FINGERPRINT_ROUNDS).hex()[:32]
    assert base.key_fingerprint(key, b"salt-a") == want
    assert base.key_fingerprint(key, b"salt-a") == want
    assert rounds == [b"salt-a"]
    assert base.key_fingerprint(key, b"salt-b") != want
    assert base.key_fingerprint(key + "x", b"salt-a") != want
    assert base.key_fingerprint(key, b"salt-a") == want
    assert rounds == [b"salt-a", b"salt-b", b"salt-a"]
    assert MARK not in repr(base._FINGERPRINTS) and key not in repr(base._FINGERPRINTS)


def test_a_jobs_origin_is_the_same_for_the_same_place_however_it_is_written() -> None:
    """Where a job is made, written another way that says the same (the provider's own
    endpoint given explicitly or left out, a trailing slash, the host's case or its
    default port, the key under GOOGLE_API_KEY or GEMINI_API_KEY or with spaces around
    it), is the same origin: a difference would keep a job the provider really forgot
    for ever, asking to put back a setting that never changed. Veo's endpoint left out
    is the one google-genai calls for the mode: aiplatform.googleapis.com (express, or
    location global), <location>-aiplatform.googleapis.com, or the multi-region's."""
    from mindmovie.config import Keys, load_settings
    from mindmovie.providers import byteplus, google

    salt = b"salt"
    keys = Keys.from_env({"ARK_API_KEY": KEYS["ARK_API_KEY"], "GOOGLE_API_KEY": "g-1"})
    spaced = Keys.from_env({"ARK_API_KEY": f" {KEYS['ARK_API_KEY']}\n", "GEMINI_API_KEY": "g-1 "})

    def ark(base_url: str | None, k: Keys = keys) -> dict[str, str]:
        s = load_settings(
            overrides={"preset": "byteplus", "providers": {"byteplus": {"base_url": base_url}}},
            env={},
        )
        return byteplus.job_origin(s, k, salt)

    same = ark(None)
    for written in (
        byteplus.DEFAULT_BASE_URL,
        byteplus.DEFAULT_BASE_URL + "/",
        byteplus.DEFAULT_BASE_URL.replace("https://ark", "HTTPS://Ark"),
        byteplus.DEFAULT_BASE_URL.replace(".com/", ".com:443/"),
    ):
        assert ark(written) == same, written
    assert ark(None, spaced) == same

    def veo(base_url: str | None, k: Keys = keys, **place: str) -> dict[str, str]:
        g = {"base_url": base_url, **place}
        s = load_settings(overrides={"preset": "google", "providers": {"google": g}}, env={})
        return google.job_origin(s, k, salt)

    for place, written in (
        ({}, "https://aiplatform.googleapis.com/"),
        ({}, "https://aiplatform.googleapis.com"),
        (
            {"project": "p", "location": "us-central1"},
            "https://us-central1-aiplatform.googleapis.com/",
        ),
        ({"project": "p", "location": "global"}, "https://aiplatform.googleapis.com/"),
        ({"project": "p", "location": "eu"}, "https://aiplatform.eu.rep.googleapis.com/"),
    ):
        assert veo(written, **place) == veo(None, **place), (place, written)
    assert veo(None, spaced) == veo(None)
    assert veo("https://proxy.example.com") != veo(None)  # another place: differs


def test_credentials_in_a_base_url_are_used_and_never_kept_or_shown(
    sim: SimServer, tmp_path: Path
) -> None:
    """A provider's base_url through a proxy can hold its credentials: a user name and
    token (`https://user:token@proxy.example/...`) or a `?key=`. The calls use the
    address as set; run.db kept it whole (meta `settings`; a video job's origin held the
    `?key=`). Neither the run folder nor any command's output holds them."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg = preset_config(tmp_path, sim, "google")
    url = sim.base_url.replace("://", f"://proxyuser:tok{MARK}@") + f"?key=q{MARK}"
    cfg.write_text(cfg.read_text().replace(f"google: {{base_url: '{sim.base_url}'",
                                           f"google: {{base_url: '{url}'"))  # fmt: skip
    out = tmp_path / "run"
    r = _mindmovie(tmp_path, "render", str(goals), "-c", str(cfg), "--out", str(out),
                   "--yes", "--verbose")  # fmt: skip
    assert r.returncode == 0, r.stderr
    _check(r)
    # the calls went to the address as set, its query with them
    called = [q["path"] for q in sim.requests() if ":predictLongRunning" in q["path"]]
    assert called and all(p.endswith(f"?key=q{MARK}") for p in called), called
    for cmd in (
        ["status", str(out), "--json", "-c", str(cfg)],
        ["status", str(out), "-c", str(cfg)],
        ["doctor", "-c", str(cfg)],
    ):
        done = _mindmovie(tmp_path, *cmd)
        assert done.returncode == 0, (cmd, done.stdout, done.stderr)
        _check(done)
    assert _leaks_in_files(out) == []


def test_an_origin_recorded_with_a_base_url_s_key_is_the_same_place() -> None:
    """A video job's origin recorded by an earlier mindmovie holds its base_url's `?key=`;
    now it is recorded without. The two are the same place (a job still in flight is
    polled, not taken for one made with other settings), and a real change is said
    without the key."""
    from mindmovie.pipeline import origin_changes

    names = {"base_url": "providers.google.base_url"}
    then = {"base_url": f"https://proxy.example/v1?key=q{MARK}", "mode": "express"}
    now = {"base_url": "https://proxy.example/v1?key=<not shown>", "mode": "express"}
    assert origin_changes(then, now, names) == []
    moved = {**now, "base_url": "https://other.example/v1?key=<not shown>"}
    (said,) = origin_changes(then, moved, names)
    assert "other.example" in said and MARK not in said, said


def test_a_key_typed_where_a_value_goes_is_not_said_back(tmp_path: Path) -> None:
    """A key pasted as a flag's value (`--budget sk-ant-...`, `--fps`) or into goals.yaml
    (a photo's name, a goal's scenes) was quoted whole by the one error line, on a
    screen shared or pasted when asking for help; ConfigError's already were hidden.
    Each is refused as before, its key not shown."""
    key = KEYS["ANTHROPIC_API_KEY"]
    goal = "title: T\ngoals:\n  - category: health\n    vision: v\n"
    (tmp_path / "goals.yaml").write_text(goal)
    (tmp_path / "scenes.yaml").write_text(f"{goal}    scenes: {key}\n")
    (tmp_path / "photo.yaml").write_text(f"{goal}    photos: [{key}]\n")
    for args in (
        ["render", "goals.yaml", "--budget", key],
        ["render", "goals.yaml", "--fps", key],
        ["render", "goals.yaml", key],  # click's usage error quotes it
        ["plan", "scenes.yaml"],
        ["plan", "photo.yaml"],
        ["status", key],
    ):
        r = _mindmovie(tmp_path, *args)
        assert r.returncode == 2 and "error: " in r.stderr, (args, r.returncode, r.stderr)
        assert "not shown" in r.stderr, (args, r.stderr)
        _check(r)


def test_an_ark_key_written_as_a_provider_s_settings_is_not_said_back(tmp_path: Path) -> None:
    """`providers: {byteplus: <key>}` in config.yaml (or as MINDMOVIE_PROVIDERS__BYTEPLUS),
    with ARK_API_KEY not set: the error quoted the key whole ("got '3f6c...'"), as an
    Ark key has no shape `hide_keys` knows and it was in no variable to hide."""
    ark = f"3f6c-{MARK}-9e21-0c5a8d4f7b10"  # an Ark key's length (36)
    (tmp_path / "goals.yaml").write_text("title: T\ngoals:\n  - category: health\n    vision: v\n")
    (tmp_path / "c.yaml").write_text(f"preset: byteplus\nproviders:\n  byteplus: {ark}\n")
    (tmp_path / "p.yaml").write_text(f"preset: byteplus\nproviders: {ark}\n")
    no_key = {"ARK_API_KEY": "", "BYTEPLUS_API_KEY": ""}
    for args, env in (
        (["doctor", "-c", "c.yaml"], no_key),
        (["estimate", "goals.yaml", "-c", "p.yaml"], no_key),
        (["estimate", "goals.yaml"], {**no_key, "MINDMOVIE_PROVIDERS__BYTEPLUS": ark}),
    ):
        r = _mindmovie(tmp_path, *args, env=env)
        assert r.returncode != 0 and "must be a block of settings" in r.stdout + r.stderr, (
            args, r.stdout, r.stderr)  # fmt: skip
        assert "not shown" in r.stdout + r.stderr, (args, r.stdout, r.stderr)
        _check(r)


def test_keys_cut_short_typed_elsewhere_or_in_a_proxy_are_not_said_back(tmp_path: Path) -> None:
    """The secrets audit: a Google key typed as goals.yaml's `goals:` was quoted cut to 37
    characters (AIza and 33 more: no longer its shape, 36 of its 39 shown); a Vertex
    express key ("AQ.") and an Ark key (a UUID) typed where a value goes were quoted
    whole; a proxy password holding a `#` was shown by the http check, and httpx's words
    quoted a piece of it. None is shown now. And ANTHROPIC_BASE_URL, which sends the
    planner's calls (the key with them) elsewhere, is said by doctor."""
    google = ("AIzaSy" + MARK + "0123456789abcdefghijklmnop")[:39]
    express = f"AQ.Ab8R{MARK}cccccccccccccccccccc"
    ark = "3f6c1a2b-9e21-4c5a-8d4f-7b10c0ffee42"
    goal = "title: T\ngoals:\n  - category: health\n    vision: v\n"
    (tmp_path / "goals.yaml").write_text(goal)
    (tmp_path / "g.yaml").write_text(f"title: T\ngoals: {google}\n")
    (tmp_path / "x.yaml").write_text(f"title: T\ngoals: {express}\n")
    (tmp_path / "u.yaml").write_text(f"{goal}    scenes: {ark}\n")
    for args in (
        ["plan", "g.yaml"],
        ["plan", "x.yaml"],
        ["render", "goals.yaml", "--fps", express],
    ):
        r = _mindmovie(tmp_path, *args)
        assert r.returncode == 2 and "not shown" in r.stderr, (args, r.stderr)
        _check(r)
    r = _mindmovie(tmp_path, "plan", "u.yaml")
    assert r.returncode == 2 and "shaped as a key" in r.stderr and ark not in r.stderr, r.stderr
    proxy = {"HTTPS_PROXY": f"http://u:{MARK}#{MARK}x@h"}
    (tmp_path / "c.yaml").write_text("preset: byteplus\n")
    r = _mindmovie(tmp_path, "doctor", "-c", "c.yaml",
                   env={**proxy, "ANTHROPIC_BASE_URL": "http://127.0.0.1:9/"})  # fmt: skip
    assert "http clients" in r.stdout and "not shown" in r.stdout, r.stdout
    _check(r)
    assert "calls go to http://127.0.0.1:9/ (ANTHROPIC_BASE_URL" in " ".join(r.stdout.split())


def test_hiding_keys_leaves_text_that_only_looks_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """The review of the hiding above: a proxy's user name (`jsmith@proxy`) was hidden
    in every home folder's path, a short password ("http") in every address; a file
    named AQ.<words> was taken for a Vertex key; a photo an iPhone named by a UUID was
    not said back where it is the mistake."""
    from mindmovie.config import hide_keys
    from mindmovie.yamlsrc import _describe

    monkeypatch.setenv("HTTPS_PROXY", "http://jsmith@proxy.corp:3128")
    assert hide_keys("could not read /home/jsmith/goals.yaml").endswith("/jsmith/goals.yaml")
    monkeypatch.setenv("HTTPS_PROXY", "http://bob:http@proxy.corp:3128")
    assert hide_keys("see https://x") == "see https://x"
    assert hide_keys("photos/AQ.beach_at_dusk.jpg") == "photos/AQ.beach_at_dusk.jpg"
    photo = "3F2A9C1E-1B2C-4D5E-8F90-123456789ABC.JPG"
    assert photo[:30] in _describe(photo) and "not shown" not in _describe(photo)
    assert "not shown" in _describe("3f6c1a2b-9e21-4c5a-8d4f-7b10c0ffee42")


def test_key_hiding_comes_before_a_cut_and_covers_warnings_and_recorded_addresses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error page cut to 300 characters before its keys were hidden kept 26 of an Ark
    key's 36 characters; a Python warning (google-genai's "<answer text> is not a valid
    FinishReason") was printed as it came; run.db's settings kept a key set in the
    environment written into a base_url under a parameter not named as a secret."""
    import warnings

    from mindmovie import cli
    from mindmovie.config import Settings, recorded_settings
    from mindmovie.providers.base import ANSWER_TEXT_CHARS, answer_text

    key = f"3f6c1a2b-{MARK}-4c5a-8d4f-7b10c0ffee42"
    monkeypatch.setenv("ARK_API_KEY", key)
    page = "<html><body>" + "x" * (ANSWER_TEXT_CHARS - 60) + f" Bearer {key}</body></html>"
    assert key[:9] not in answer_text(page, "text/html")
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)
    cli._warnings_hide_keys()
    shown = warnings.formatwarning(f"{key} is not a valid FinishReason", UserWarning, "x.py", 1)
    assert MARK not in shown and "not a valid FinishReason" in shown
    s = Settings.model_validate({"providers": {"byteplus": {"base_url": f"http://h/?q={key}"}}})
    assert MARK not in str(recorded_settings(s))
