"""A provider's refusal of the person's own setting (a model id it does not know or has
not activated, a `*.options` parameter it refuses) names the setting and where it was
written, as the settings' own errors do, and stops the render after one request.

Through the CLI, the real SDKs and the simulator, which answers a missing model as each
real API does (`SimServer.missing_models`). Before, such an error was printed once per
scene without file:line ("6 scene(s) failed ... `render` again retries them"), after
one request per scene in flight."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mindmovie.cli import app
from tests.integration.support import claude_answer_for, cli_env, goals_file, ledger_rows
from tests.sim.server import SimServer


def _six_scenes(tmp_path: Path, sim: SimServer) -> Path:
    """The support goals with 6 scenes, and Claude's plan for them."""
    goals = goals_file(tmp_path, sim)
    goals.write_text(
        goals.read_text().replace("Living by the sea\n", "Living by the sea\n    scenes: 3\n")
    )
    claude_answer_for(sim, goals)
    return goals


def _render(goals: Path, cfg: Path, run: Path, env: dict[str, str]) -> tuple[int, str]:
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes", "-q"]
    r = CliRunner().invoke(app, args, env=env)
    return r.exit_code, " ".join(r.output.split())


def _line_of(cfg: Path, text: str) -> int:
    return next(i for i, ln in enumerate(cfg.read_text().splitlines(), 1) if text in ln)


def test_a_keyframes_model_ark_does_not_know_is_told_where_set_after_one_request(
    sim: SimServer, tmp_path: Path
) -> None:
    goals = _six_scenes(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    cfg.write_text(cfg.read_text() + "keyframes: {model: seedream-4-0-250101}\n")
    sim.missing_models["seedream-4-0-250101"] = "not_found"
    code, out = _render(goals, cfg, tmp_path / "run", env)
    print(code, out)
    assert code == 2, out
    assert (
        f"{cfg}:{_line_of(cfg, 'seedream-4-0-250101')}: keyframes.model: byteplus answered "
        "InvalidEndpointOrModel.NotFound: the model 'seedream-4-0-250101' does not exist"
    ) in out
    assert "nothing was billed for it" in out and "6 scene(s) not made" in out
    assert out.count("InvalidEndpointOrModel") == 1  # said once, not once a scene
    assert "Traceback" not in out
    sent = sim.requests(path="/images/generations")
    assert len(sent) == 1, f"{len(sent)} image requests sent for one model typo"
    rows = ledger_rows(tmp_path / "run", "keyframe")
    assert [r["state"] for r in rows] == ["refunded"], rows
    assert sim.stats()["totals"]["images"] == 0


def test_a_video_model_not_activated_is_told_where_set_and_keyframes_are_kept(
    sim: SimServer, tmp_path: Path
) -> None:
    goals = _six_scenes(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    cfg.write_text(cfg.read_text() + "video:\n  model: seedance-1-0-pro\n")
    sim.missing_models["seedance-1-0-pro-250528"] = "not_activated"
    code, out = _render(goals, cfg, tmp_path / "run", env)
    print(code, out)
    assert code == 2, out
    assert (
        f"{cfg}:{_line_of(cfg, 'seedance-1-0-pro')}: video.model: byteplus answered "
        "ModelNotOpen: the model 'seedance-1-0-pro-250528' is not activated for this "
        "account; activate it in the ModelArk console or choose another (known: "
    ) in out
    assert out.count("ModelNotOpen") == 1
    assert len(sim.requests(path="/contents/generations/tasks", method="POST")) == 1
    assert sim.stats()["totals"]["jobs_created"] == 0
    # the keyframes were paid for and are kept: the next render does not buy them again
    assert sim.stats()["totals"]["images"] == 6
    assert [r["state"] for r in ledger_rows(tmp_path / "run", "keyframe")] == ["billed"] * 6
    assert [r["state"] for r in ledger_rows(tmp_path / "run", "clip")] == ["refunded"]


def test_a_planner_model_anthropic_does_not_know_is_told_where_set(
    sim: SimServer, tmp_path: Path
) -> None:
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    cfg.write_text(cfg.read_text() + "planner:\n  model: claude-haiku-4-5-20990101\n")
    sim.missing_models["claude-haiku-4-5-20990101"] = "not_found"
    code, out = _render(goals, cfg, tmp_path / "run", env)
    print(code, out)
    assert code == 2, out
    assert (
        f"{cfg}:{_line_of(cfg, 'claude-haiku-4-5-2099')}: planner.model: anthropic answered "
        "HTTP 404 not_found_error: model: claude-haiku-4-5-20990101 (request "
    ) in out
    assert "the model 'claude-haiku-4-5-20990101' does not exist" in out
    assert "nothing was billed for it" in out
    assert len(sim.requests(path="/v1/messages")) == 1


def test_a_google_model_not_found_set_by_a_variable_names_the_variable(
    sim: SimServer, tmp_path: Path
) -> None:
    goals = goals_file(tmp_path, sim)
    cfg = tmp_path / "g.yaml"
    cfg.write_text(
        "preset: google\n"
        "output: {size: 320x180, fps: 12}\n"
        "plan: {scene_seconds: 4}\n"
        "planner: {provider: local}\n"
        "keyframes: {provider: local}\n"
        "providers:\n"
        f"  google: {{base_url: '{sim.base_url}', poll_interval: 0.05}}\n"
    )
    env = {"GOOGLE_API_KEY": "g", "MINDMOVIE_VIDEO__MODEL": "veo-3-1-fast-preview-0101"}
    sim.missing_models["veo-3-1-fast-preview-0101"] = "not_found"
    code, out = _render(goals, cfg, tmp_path / "run", env)
    print(code, out)
    assert code == 2, out
    assert (
        "environment (MINDMOVIE_VIDEO__MODEL): video.model: google answered 404 NOT_FOUND: "
        "the model 'veo-3-1-fast-preview-0101' is not found for "
    ) in out
    assert "is not found for API version" in out  # Google's own words kept
    assert out.count("NOT_FOUND") == 1
    assert len(sim.requests(path=":predictLongRunning")) == 1


def _google_cfg(tmp_path: Path, sim: SimServer, stages: str) -> Path:
    """A google preset config making `stages` at Google and the rest locally."""
    cfg = tmp_path / "g.yaml"
    cfg.write_text(
        "preset: google\n"
        "output: {size: 320x180, fps: 12}\n"
        "plan: {scene_seconds: 4}\n"
        "planner: {provider: local}\n" + stages + "providers:\n"
        f"  google: {{base_url: '{sim.base_url}', poll_interval: 0.05}}\n"
    )
    return cfg


def test_a_video_option_veo_refuses_is_told_as_that_option_where_set(
    sim: SimServer, tmp_path: Path
) -> None:
    """Google's 400 INVALID_ARGUMENT names the field in its message, in the API's
    spelling ("allow_all for personGeneration is currently not supported.", what the
    Gemini API answers where allow_all is not allowed)."""
    goals = _six_scenes(tmp_path, sim)
    cfg = _google_cfg(
        tmp_path,
        sim,
        "keyframes: {provider: local}\nvideo:\n  options:\n    person_generation: allow_all\n",
    )
    sim.add_fault(
        "http",
        path=":predictLongRunning",
        status=400,
        message="allow_all for personGeneration is currently not supported.",
        count=None,
    )
    code, out = _render(goals, cfg, tmp_path / "run", {"GOOGLE_API_KEY": "g"})
    print(code, out)
    assert code == 2, out
    assert (
        f"{cfg}:{_line_of(cfg, 'person_generation')}: video.options.person_generation: "
        "google refused 'allow_all' for veo-"
    ) in out
    assert "(400 INVALID_ARGUMENT: allow_all for personGeneration is currently not" in out
    assert "nothing was billed for it" in out and "scene(s) not made" in out
    assert out.count("INVALID_ARGUMENT") == 1
    assert len(sim.requests(path=":predictLongRunning")) == 1


def test_a_keyframes_option_gemini_refuses_in_a_field_violation_is_told_where_set(
    sim: SimServer, tmp_path: Path
) -> None:
    """A 400 whose google.rpc.BadRequest detail names the field (fieldViolations), the
    message saying only "Request contains an invalid argument."."""
    goals = _six_scenes(tmp_path, sim)
    cfg = _google_cfg(
        tmp_path, sim, "keyframes:\n  options: {image_size: 4K}\nvideo: {provider: local}\n"
    )
    violation = {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [
            {
                "field": "generation_config.image_config.image_size",
                "description": "4K is not supported by this model",
            }
        ],
    }
    sim.add_fault(
        "http",
        path=":generateContent",
        status=400,
        body={
            "error": {
                "code": 400,
                "message": "Request contains an invalid argument.",
                "status": "INVALID_ARGUMENT",
                "details": [violation],
            }
        },
        count=None,
    )
    code, out = _render(goals, cfg, tmp_path / "run", {"GOOGLE_API_KEY": "g"})
    print(code, out)
    assert code == 2, out
    assert (
        f"{cfg}:{_line_of(cfg, 'image_size')}: keyframes.options.image_size: google "
        "refused '4K' for gemini-"
    ) in out
    assert "nothing was billed for it" in out
    assert len(sim.requests(path=":generateContent")) == 1


def test_an_option_ark_refuses_is_told_as_that_option_where_set(
    sim: SimServer, tmp_path: Path
) -> None:
    goals = _six_scenes(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    cfg.write_text(cfg.read_text() + "keyframes:\n  options:\n    guidance_scale: 9\n")
    sim.add_fault(
        "http",
        path="/images/generations",
        status=400,
        code="InvalidParameter",
        param="guidance_scale",
        message="The parameter `guidance_scale` specified in the request is not valid.",
        count=None,
    )
    code, out = _render(goals, cfg, tmp_path / "run", env)
    print(code, out)
    assert code == 2, out
    assert (
        f"{cfg}:{_line_of(cfg, 'guidance_scale')}: keyframes.options.guidance_scale: "
        "byteplus refused 9 for seedream-4-0 (InvalidParameter: The parameter "
        "`guidance_scale` specified in the request is not valid."
    ) in out
    assert "nothing was billed for it" in out
    assert len(sim.requests(path="/images/generations")) == 1


def test_a_max_tokens_anthropic_refuses_is_told_as_the_planner_option_where_set(
    sim: SimServer, tmp_path: Path
) -> None:
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    cfg.write_text(cfg.read_text() + "planner:\n  options: {max_tokens: 100000}\n")
    sim.add_fault(
        "http",
        path="/v1/messages",
        status=400,
        message="max_tokens: 100000 > 64000, which is the maximum allowed number of output "
        "tokens for claude-sonnet-4-6",
        count=None,
    )
    code, out = _render(goals, cfg, tmp_path / "run", env)
    print(code, out)
    assert code == 2, out
    assert (
        f"{cfg}:{_line_of(cfg, 'max_tokens')}: planner.options.max_tokens: anthropic refused "
        "100000 for "
    ) in out
    assert "set it lower or leave it out; nothing was billed for it" in out
    assert len(sim.requests(path="/v1/messages")) == 1


async def test_ctrl_c_while_the_first_call_of_a_model_is_alone_sends_no_other(
    sim: SimServer, tmp_path: Path
) -> None:
    """The scenes waiting for a model's first call (`Pipeline._first_call`) had passed
    the Ctrl-C check before they waited: once that call was answered, each went on and
    sent a paid call after the person had said stop. Now none is sent."""
    import asyncio

    import pytest

    from mindmovie.pipeline import Interrupted, Pipeline
    from tests.integration.support import KEYS, settings_for

    goals = _six_scenes(tmp_path, sim)
    s = settings_for("byteplus", sim, planner={"provider": "local"}, video={"provider": "local"})
    held = sim.add_fault("delay", path="/images/generations", count=1, seconds=60)
    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS)

    async def ctrl_c_during_the_first_call() -> None:
        while not sim.requests(path="/images/generations"):
            await asyncio.sleep(0.05)
        pipe._stopping = True  # as the SIGINT handler does
        pipe._stop_event.set()
        sim.release(held)

    stopper = asyncio.ensure_future(ctrl_c_during_the_first_call())
    with pytest.raises(Interrupted):
        await asyncio.wait_for(pipe.run(until="keyframes"), timeout=60)
    await stopper
    sent = sim.requests(path="/images/generations")
    assert len(sent) == 1, f"{len(sent)} image requests sent, {len(sent) - 1} after Ctrl-C"
    assert [r["state"] for r in ledger_rows(tmp_path / "run", "keyframe")] == ["billed"]


def test_clip_settings_the_video_model_cannot_make_are_told_where_they_were_written(
    sim: SimServer, tmp_path: Path
) -> None:
    """`resolution: 480p` (or `aspect: 1:1`) with Veo is refused before anything is sent;
    the message began "settings: veo-3-1-fast: resolution 480p not allowed" and did not
    say which file and line to change, as every other settings error does. It leads with
    the setting now, so render and doctor say where it was written."""
    goals = goals_file(tmp_path, sim)
    cfg = tmp_path / "google.yaml"
    cfg.write_text(
        "preset: google\n"
        "plan: {scene_seconds: 4}\n"
        "output:\n"
        "  fps: 12\n"
        "  resolution: 480p\n"
        "providers:\n"
        f"  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  google: {{base_url: '{sim.base_url}'}}\n"
    )
    env = {"ANTHROPIC_API_KEY": "a", "GOOGLE_API_KEY": "b"}
    code, out = _render(goals, cfg, tmp_path / "run", env)
    print(code, out)
    assert code == 2, out
    assert (
        f"{cfg}:5: output.resolution: veo-3-1-fast: resolution 480p not allowed; allowed "
        "720p, 1080p;"  # (not Veo's 4k: output.resolution takes no 4k)
    ) in out
    assert "Nothing was spent" in out and "Traceback" not in out
    assert sim.stats()["requests"] == 0
    r = CliRunner().invoke(app, ["doctor", "-c", str(cfg)], env=env)
    assert r.exit_code == 1, r.output
    cells = "".join(ln.split("│")[3] for ln in r.output.splitlines() if ln.count("│") > 3)
    # (the detail column folds the long path anywhere: compared without spaces)
    assert f"{cfg}:5:output.resolution:veo-3-1-fast" in "".join(cells.split()), r.output
    # a flag is named as the flag
    args = ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run"), "--yes"]
    r = CliRunner().invoke(app, [*args, "--resolution", "720p", "--aspect", "1:1"], env=env)
    flat = " ".join(r.output.split())
    assert r.exit_code == 2, flat
    assert "command line (--aspect): output.aspect: veo-3-1-fast: ratio 1:1 not allowed" in flat


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("SSL_CERT_FILE", "{tmp}/none.pem", "the providers' HTTPS clients cannot load it"),
        ("HTTPS_PROXY", "ftp://proxy.example", "the providers' HTTP clients cannot be made"),
    ],
)
def test_an_environment_no_http_client_can_be_made_in_is_refused_before_any_work(
    sim: SimServer, tmp_path: Path, variable: str, value: str, said: str
) -> None:
    """SSL_CERT_FILE naming no file, or a proxy variable httpx cannot use: Claude's and
    Ark's SDK clients are made at their first call, so the render made its run folder,
    committed the plan call's ledger row (counted as spent) and then ended in a
    FileNotFoundError traceback, or (the proxy) committed four such rows "of unknown
    outcome" with nothing sent; doctor said "ready". Both refuse it now, in one line,
    before any work."""
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    env[variable] = value.format(tmp=tmp_path)
    code, out = _render(goals, cfg, tmp_path / "run", env)
    print(code, out)
    assert code == 2, out
    assert out.startswith(f"error: {variable}={env[variable]}: {said}"), out
    assert out.endswith("Nothing was made or spent"), out
    assert not (tmp_path / "run").exists()
    assert sim.stats()["requests"] == 0
    r = CliRunner().invoke(app, ["doctor", "-c", str(cfg)], env=env)
    assert r.exit_code == 1, r.output
    assert "http clients │ FAIL" in " ".join(r.output.split()), r.output


def test_a_finished_run_renders_again_where_no_http_client_can_be_made(
    sim: SimServer, tmp_path: Path
) -> None:
    """A render that calls no provider (every step reused) makes none of Claude's or
    Ark's clients: it is not refused for SSL_CERT_FILE, as it is not for a key not set."""
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    code, out = _render(goals, cfg, tmp_path / "run", env)
    assert code == 0, out
    sent = sim.stats()["requests"]
    env["SSL_CERT_FILE"] = str(tmp_path / "none.pem")
    code, out = _render(goals, cfg, tmp_path / "run", env)
    assert code == 0, out
    assert sim.stats()["requests"] == sent


def test_no_http_client_is_made_to_check_an_environment_without_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check made a client of each HTTP library (each loading the CA bundle, ~40 ms
    of CPU) at every paid render's start, though with no SSL_CERT_* or proxy variable
    set no client can fail to be made. Only a set variable is checked now."""
    import ssl

    from mindmovie.providers import base
    from mindmovie.providers.base import PROXY_VARIABLES, http_setup_problem

    base._http_setup_problem.cache_clear()  # (answered once per value of the variables)

    for k in ("SSL_CERT_FILE", "SSL_CERT_DIR", *PROXY_VARIABLES, "no_proxy"):
        monkeypatch.delenv(k, raising=False)
        monkeypatch.delenv(k.upper(), raising=False)
    built: list[object] = []
    real = ssl.create_default_context

    def counted(*a: Any, **kw: Any) -> ssl.SSLContext:
        built.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    assert http_setup_problem() is None
    assert built == []
    monkeypatch.setenv("HTTPS_PROXY", "ftp://proxy.example")  # a set one is still checked
    assert "cannot be made" in (http_setup_problem() or "")
    # a system proxy (macOS, Windows: urllib's getproxies, which httpx reads) too, though
    # no variable shows it
    monkeypatch.delenv("HTTPS_PROXY")
    import urllib.request

    import httpx._utils

    system = {"https": "ftp://proxy.example"}
    monkeypatch.setattr(urllib.request, "getproxies", lambda: system)
    monkeypatch.setattr(httpx._utils, "getproxies", lambda: system)
    assert "cannot be made" in (http_setup_problem() or "")


def test_status_says_a_setting_render_refuses_in_render_s_own_line(tmp_path: Path) -> None:
    """`status` exits 2 "with render's own error line": for a setting refused once the
    settings load (`--aspect 1:1` with Veo) it left out where the setting was given
    ("command line (--aspect): "), which render says (feature-combinations audit)."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from tests.integration.support import tiny_local_settings

    goals = goals_file(tmp_path)
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, tiny_local_settings(), out=run).run(until="plan"))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("preset: google\noutput: {size: 160x90, fps: 8}\n")
    env = {"ANTHROPIC_API_KEY": "a", "GOOGLE_API_KEY": "g", "COLUMNS": "400"}
    args = ["-c", str(cfg), "--aspect", "1:1"]
    rendered = CliRunner().invoke(app, ["render", str(goals), "--out", str(run), *args], env=env)
    looked = CliRunner().invoke(app, ["status", str(run), *args], env=env)
    said = [ln for ln in rendered.output.splitlines() if ln.startswith("error: ")]
    assert rendered.exit_code == looked.exit_code == 2, (rendered.output, looked.output)
    assert said and said[-1].startswith("error: command line (--aspect): output.aspect: veo")
    assert said[-1] in looked.output.splitlines(), looked.output
