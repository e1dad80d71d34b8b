"""Settings precedence and errors: env < config.yaml < flags; prefix-only env; keys hidden."""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path

import pytest

from mindmovie.config import ConfigError, Keys, Settings, load_settings


def test_defaults_are_the_offline_preset() -> None:
    s = load_settings(env={})
    assert s.preset == "local"
    assert (s.output.aspect, s.output.resolution, s.output.fps) == ("16:9", "720p", 24)
    assert s.stage_provider("video") == "local"
    # lessons.md: moviepy's per-frame Python compositing ran at ~2x real time or worse;
    # ffmpeg's filter graphs compose by default (moviepy is the reference engine only)
    assert s.compose.engine == "ffmpeg"


def test_rising_order_env_then_file_then_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  fps: 25\n  aspect: '9:16'\n")
    env = {"MINDMOVIE_OUTPUT__FPS": "30", "MINDMOVIE_OUTPUT__RESOLUTION": "480p"}
    s = load_settings(cfg, env=env)
    assert s.output.fps == 25  # file over env
    assert s.output.resolution == "480p"  # env over default
    s = load_settings(cfg, {"output": {"fps": 12}}, env=env)
    assert s.output.fps == 12  # flag over file
    assert s.output.aspect == "9:16"


def test_aspect_or_resolution_from_a_higher_layer_wins_over_a_lower_size(tmp_path: Path) -> None:
    """`output.size` overrides aspect/resolution within a layer, but a flag is still the
    highest layer: `render --aspect 9:16` with a preview size in config.yaml makes a 9:16
    movie, not silently the config's frame."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  size: 320x180\n")
    assert load_settings(cfg, env={}).output.frame() == (320, 180)
    s = load_settings(cfg, {"output": {"aspect": "9:16"}}, env={})
    assert s.output.frame() == (720, 1280)
    s = load_settings(cfg, {"output": {"resolution": "480p"}}, env={})
    assert s.output.frame() == (854, 480)
    assert load_settings(cfg, {"output": {"fps": 12}}, env={}).output.frame() == (320, 180)
    # the same between the environment and the file
    cfg.write_text("output:\n  aspect: '1:1'\n")
    s = load_settings(cfg, env={"MINDMOVIE_OUTPUT__SIZE": "320x180"})
    assert s.output.frame() == (720, 720)
    # a size in the same layer as an aspect still overrides it (previews)
    s = load_settings(cfg, {"output": {"aspect": "9:16", "size": "200x100"}}, env={})
    assert s.output.frame() == (200, 100)


def test_a_variable_s_blanks_and_windows_line_end_are_not_part_of_its_value() -> None:
    """A value read from a file saved on Windows (`export X=$(cat f)`, a docker
    --env-file with CRLF lines) ends in "\\r". Kept, a base_url ending in it passed the
    address check, the plan was paid for, and every scene failed "Invalid non-printable
    ASCII character in URL"; an output_dir made a folder named "movies\\r"; a preset or
    true/false was refused. YAML drops the blanks around a value; so does a variable."""
    env = {
        "MINDMOVIE_PRESET": "byteplus\r",
        "MINDMOVIE_OUTPUT_DIR": "movies\r",
        "MINDMOVIE_VIDEO__AUDIO": " true\r\n",
        "MINDMOVIE_PROVIDERS__BYTEPLUS__BASE_URL": "http://127.0.0.1:9/api/v3\r",
        "MINDMOVIE_VIDEO__OPTIONS__NEGATIVE_PROMPT": "blurry\r",
        "MINDMOVIE_PROVIDERS__GOOGLE": '{"project": "p"}\r',
    }
    s = load_settings(env=env)
    assert (s.preset, str(s.output_dir), s.video.audio) == ("byteplus", "movies", True)
    assert s.providers.byteplus.base_url == "http://127.0.0.1:9/api/v3"
    assert s.video.options == {"negative_prompt": "blurry"}
    assert s.providers.google.project == "p"


def test_unprefixed_variables_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings(env={"FPS": "5", "PRESET": "google", "MODEL": "x"})
    assert s.output.fps == 24 and s.preset == "local"
    # nor read from the process's own environment, by load_settings or by pydantic-settings
    # itself (Settings() with an env source and no prefix would take PRESET and OUTPUT)
    monkeypatch.chdir(tmp_path)  # no config.yaml or .env here
    for name, value in {"FPS": "5", "PRESET": "google", "MODEL": "x", "OUTPUT": "{}"}.items():
        monkeypatch.setenv(name, value)
    for s in (load_settings(), Settings()):
        assert s.output.fps == 24 and s.preset == "local"


def test_bad_value_names_file_field_and_allowed_values(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  aspect: '4:3'\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    msg = str(e.value)
    assert str(cfg) in msg and "output.aspect" in msg and "16:9" in msg and "1:1" in msg


def test_unknown_setting_and_bad_yaml(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("compose:\n  crosfade: 2\n")
    with pytest.raises(ConfigError, match=r"compose\.crosfade: unknown setting"):
        load_settings(cfg, env={})
    cfg.write_text("output: [\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:\d+: not valid YAML"):
        load_settings(cfg, env={})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.yaml", env={})


def test_keys_are_secret_and_use_provider_variable_names() -> None:
    keys = Keys.from_env({"ARK_API_KEY": "sk-secret-1", "GEMINI_API_KEY": "g-2"})
    assert keys.byteplus is not None and keys.byteplus.get_secret_value() == "sk-secret-1"
    assert keys.google is not None and keys.anthropic is None
    assert "sk-secret-1" not in repr(keys) and "sk-secret-1" not in str(keys.model_dump())
    # a blank variable is not set (the next name is used), and a key is sent trimmed
    spaced = Keys.from_env(
        {"ANTHROPIC_API_KEY": "  \n", "GOOGLE_API_KEY": " ", "GEMINI_API_KEY": " g-3\n"}
    )
    assert spaced.anthropic is None
    assert spaced.google is not None and spaced.google.get_secret_value() == "g-3"


#: keys shaped as the providers' are (Ark's a UUID, Google's AIza and 35 more), short
#: enough that an error message quoting a value it was given showed them whole
ARK_KEY = "3f1c2b7a-9d4e-4c1a-8b2f-6e5d4c3b2a10"
GOOGLE_KEY = "AIzaSyD4-gKx9Qm2Vt7Lw1Np8Rz3Bc6Hf0Jk5Yz"


@pytest.mark.parametrize(
    "text, variables, said",
    [
        # a key where a provider's block of settings goes, as a file and as a variable
        ("providers:\n  google: KEY\n", {"GOOGLE_API_KEY": GOOGLE_KEY}, "GOOGLE_API_KEY"),
        ("", {"ARK_API_KEY": ARK_KEY, "MINDMOVIE_PROVIDERS__BYTEPLUS": ARK_KEY}, "ARK_API_KEY"),
        ("video:\n  audio: KEY\n", {"BYTEPLUS_API_KEY": f" {ARK_KEY}\r"}, "BYTEPLUS_API_KEY"),
        # shaped as a Google key, with no key set at all
        ("providers:\n  google:\n    base_url: KEY\n", {}, "a provider key"),
        ("output_dir: [KEY]\n", {}, "a provider key"),
    ],
)
def test_a_key_given_as_a_setting_s_value_is_not_shown_in_its_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    variables: dict[str, str],
    said: str,
) -> None:
    """A key is never printed. A key written where a setting goes was quoted whole in
    the setting's error ("got 'AIza...'"), which the person pastes into an issue or a
    chat to ask for help: now the error says whose key it is, not the key."""
    monkeypatch.chdir(tmp_path)  # no ./.env
    ours = ("MINDMOVIE_", "ARK_", "BYTEPLUS_", "GOOGLE_", "GEMINI_", "ANTHROPIC_")
    for name in [n for n in os.environ if n.startswith(ours)]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    key = GOOGLE_KEY if "GOOGLE" in said or "provider key" in said else ARK_KEY
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text.replace("KEY", key))
    with pytest.raises(ConfigError) as e:
        load_settings(cfg)
    msg = str(e.value)
    assert key not in msg and key[4:20] not in msg, msg
    assert f"{said}" in msg and "not shown" in msg, msg


@pytest.mark.parametrize("preset", ["local", "byteplus"])
def test_a_key_given_as_a_stage_option_says_where_keys_go(tmp_path: Path, preset: str) -> None:
    """A key written as a stage option was taken without a word by the local provider
    (which ignores options), and so kept in run.db with the run's settings; a paid one
    refused it as an unknown option, with no word of where keys go."""
    cfg, msg = _refused(
        tmp_path, f"preset: {preset}\nkeyframes:\n  options:\n    api_key: {ARK_KEY}\n"
    )
    assert msg.startswith(f"{cfg}:3: keyframes.options: api_key: provider keys are not"), msg
    assert "ARK_API_KEY" in msg and ARK_KEY not in msg
    env = {"MINDMOVIE_PRESET": preset, "MINDMOVIE_VIDEO__OPTIONS__TOKEN": ARK_KEY}
    with pytest.raises(ConfigError) as e:
        load_settings(env=env)
    msg = str(e.value)
    assert msg.startswith("environment (MINDMOVIE_VIDEO__OPTIONS__TOKEN): video.options: token:")
    assert "provider keys are not" in msg and ARK_KEY not in msg


def test_a_key_given_as_a_model_is_not_shown_by_estimate_doctor_or_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model the catalog does not know is quoted in its error (a ProviderError, not a
    ConfigError): an Ark key pasted as `keyframes.model` was printed whole by estimate,
    render and doctor's row."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARK_API_KEY", ARK_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-not-a-real-key")
    (tmp_path / "c.yaml").write_text(f"preset: byteplus\nkeyframes:\n  model: {ARK_KEY}\n")
    goals = "title: T\ngoals:\n  - category: health\n    vision: I run\n"
    (tmp_path / "goals.yaml").write_text(goals)
    for args in (["estimate", "goals.yaml"], ["doctor"]):
        code, out, err = _invoke([*args, "-c", "c.yaml"])
        assert code in (1, 2) and "keyframes" in out + err, (args, out, err)
        assert ARK_KEY not in out + err and ARK_KEY[9:23] not in out + err, (args, out, err)
        assert "the key in ARK_API_KEY, not shown" in _cells(out + err), (args, out)


def test_the_shipped_example_config_loads_as_documented() -> None:
    """config.example.yaml is what a person copies: it must load, and mean what it says
    (e.g. `max_concurrent: 0` for local = one per CPU)."""
    from mindmovie.cpus import usable_cpu_count

    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    s = load_settings(example, env={})
    assert s.preset == "local"
    assert s.providers.local.max_concurrent == usable_cpu_count()
    assert s.providers.byteplus.poll_interval == 2 and s.providers.byteplus.poll_max_interval == 15


@pytest.mark.parametrize(
    "section, key",
    [("output", "fps"), ("plan", "scene_seconds"), ("plan", "scenes_per_goal"),
     ("compose", "crossfade"), ("compose", "title_seconds"), ("compose", "closing_seconds")],
)  # fmt: skip
def test_the_example_config_states_the_bounds_each_setting_enforces(
    tmp_path: Path, section: str, key: str
) -> None:
    """The bounds written beside a setting in config.example.yaml are the ones loading
    applies: "(a-b)" takes both ends, "over a and at most b" refuses a and takes b."""
    import re

    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    text = example.read_text(encoding="utf-8")
    block = text[text.index(f"\n{section}:\n") :]
    line = next(ln for ln in block.splitlines() if ln.strip().startswith(f"{key}:"))
    if m := re.search(r"\((\d+)-(\d+)[;)]", line):
        lo, hi, lo_ok = float(m[1]), float(m[2]), True
    else:
        m = re.search(r"over (\d+) and at most (\d+)", line)
        assert m, f"no bounds stated: {line!r}"
        lo, hi, lo_ok = float(m[1]), float(m[2]), False
    integer = key in ("fps", "scenes_per_goal")
    step = 1.0 if integer else 0.5

    def loads(value: float) -> bool:
        cfg = tmp_path / "c.yaml"
        shown = int(value) if integer else value
        cfg.write_text(f"{section}:\n  {key}: {shown}\n")
        try:
            load_settings(cfg, env={})
        except ConfigError:
            return False
        return True

    assert loads(lo) is lo_ok
    assert not loads(lo - step)
    assert loads(hi) and not loads(hi + step)


@pytest.mark.parametrize(
    ("stage", "lo", "hi"), [("keyframes", -1, 2**31 - 1), ("video", -1, 2**32 - 1)]
)
def test_a_seed_outside_what_the_apis_take_is_refused_naming_the_range(
    tmp_path: Path, stage: str, lo: int, hi: int
) -> None:
    """Seeds were any int: one past Seedream's [-1, 2**31 - 1] or Seedance's
    [-1, 2**32 - 1] went to the API and was refused at the first paid call."""
    cfg = tmp_path / "c.yaml"
    allowed = f"allowed: at least {lo}, at most {hi}"
    for ok in (lo, 0, hi):
        cfg.write_text(f"{stage}:\n  seed: {ok}\n")
        assert getattr(load_settings(cfg, env={}), stage).seed == ok
    for bad in (lo - 1, hi + 1, 10**30):
        cfg.write_text(f"{stage}:\n  seed: {bad}\n")
        with pytest.raises(ConfigError) as e:
            load_settings(cfg, env={})
        assert str(e.value).startswith(f"{cfg}:2: {stage}.seed: ")
        assert str(e.value).endswith(f"got {bad}; {allowed}")
        var = f"MINDMOVIE_{stage.upper()}__SEED"
        with pytest.raises(ConfigError) as e:
            load_settings(None, env={var: str(bad)})
        assert str(e.value).startswith(f"environment ({var}): {stage}.seed: ")
        assert str(e.value).endswith(f"got '{bad}'; {allowed}")


def test_max_concurrent_zero_means_cpu_count_and_negative_is_refused(tmp_path: Path) -> None:
    from mindmovie.cpus import usable_cpu_count

    cfg = tmp_path / "c.yaml"
    cfg.write_text("providers:\n  byteplus:\n    max_concurrent: 0\n")
    assert load_settings(cfg, env={}).providers.byteplus.max_concurrent == usable_cpu_count()
    cfg.write_text("providers:\n  byteplus:\n    max_concurrent: -1\n")
    with pytest.raises(ConfigError, match="max_concurrent"):
        load_settings(cfg, env={})


def test_a_partial_provider_block_keeps_that_providers_defaults(tmp_path: Path) -> None:
    from mindmovie.cpus import usable_cpu_count

    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "providers:\n  byteplus: {base_url: 'http://127.0.0.1:8765/api/v3'}\n"
        "  local: {}\n"  # (local reads max_concurrent alone: an empty block keeps its 0)
    )
    s = load_settings(cfg, env={})
    assert s.providers.byteplus.base_url == "http://127.0.0.1:8765/api/v3"
    assert s.providers.byteplus.max_concurrent == 3  # byteplus' own default, not 2
    assert s.providers.local.max_concurrent == usable_cpu_count()
    env = {"MINDMOVIE_PROVIDERS__GOOGLE__TIMEOUT": "12"}
    g = load_settings(None, env=env).providers.google
    assert g.timeout == 12 and g.max_concurrent == 2


def test_an_error_names_where_the_bad_value_came_from(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  fps: 24\n")
    with pytest.raises(ConfigError, match=r"^command line \(--fps\): output\.fps"):
        load_settings(cfg, {"output": {"fps": 99}}, env={})
    with pytest.raises(ConfigError, match=r"^environment \(MINDMOVIE_OUTPU__FPS\): outpu: unknown"):
        load_settings(cfg, env={"MINDMOVIE_OUTPU__FPS": "30"})
    with pytest.raises(ConfigError, match=r"^environment \(MINDMOVIE_OUTPUT__FPS\): output\.fps"):
        load_settings(None, env={"MINDMOVIE_OUTPUT__FPS": "0"})
    cfg.write_text("output:\n  fps: 0\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:2: output\.fps"):
        load_settings(cfg, env={"MINDMOVIE_OUTPUT__FPS": "30"})


@pytest.mark.parametrize("blank", ["", "  ", "\r"])
def test_a_key_variable_left_blank_in_the_environment_does_not_hide_the_dotenv_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, blank: str
) -> None:
    """`export ANTHROPIC_API_KEY=` in a shell profile, or docker compose's
    `ANTHROPIC_API_KEY: ${ANTHROPIC_API_KEY}` of a variable the host does not set, made
    the key in ./.env "not set" (the environment wins), and render and doctor said so,
    sending the person to the .env that holds it. A blank is no key: .env's is used."""
    monkeypatch.chdir(tmp_path)
    ours = ("MINDMOVIE_", "ARK_", "BYTEPLUS_", "GOOGLE_", "GEMINI_", "ANTHROPIC_")
    for name in [n for n in os.environ if n.startswith(ours)]:
        monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(
        "ANTHROPIC_API_KEY=sk-ant-from-file\nARK_API_KEY=ark-from-file\nMINDMOVIE_BUDGET_USD=5\n"
    )
    monkeypatch.setenv("ANTHROPIC_API_KEY", blank)
    monkeypatch.setenv("ARK_API_KEY", blank)
    monkeypatch.setenv("MINDMOVIE_BUDGET_USD", blank)  # a setting's blank still wins: no cap
    keys = Keys.from_env()
    assert keys.anthropic is not None and keys.anthropic.get_secret_value() == "sk-ant-from-file"
    assert keys.byteplus is not None and keys.byteplus.get_secret_value() == "ark-from-file"
    assert load_settings().budget_usd is None
    code, out, err = _invoke(["doctor", "--preset", "byteplus"])
    assert code == 0, (out, err)
    table = _cells(out)
    assert "ANTHROPIC_API_KEY: set" in table and "ARK_API_KEY or BYTEPLUS_API_KEY: set" in table
    assert "ark-from" not in out and "sk-ant-from" not in out


def test_keys_and_settings_are_read_from_a_dotenv_file_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "# my keys\n"
        "ANTHROPIC_API_KEY=sk-ant-from-file   # planner\n"
        "export ARK_API_KEY='ark from file'\n"
        "GOOGLE_API_KEY=\n"
        "MINDMOVIE_PRESET=byteplus\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    for name in ("ANTHROPIC_API_KEY", "ARK_API_KEY", "BYTEPLUS_API_KEY", "GOOGLE_API_KEY",
                 "GEMINI_API_KEY", "MINDMOVIE_PRESET", "MINDMOVIE_CONFIG"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    keys = Keys.from_env()
    assert keys.anthropic is not None and keys.anthropic.get_secret_value() == "sk-ant-from-file"
    assert keys.byteplus is not None and keys.byteplus.get_secret_value() == "ark from file"
    assert keys.google is None  # empty in the file = not set
    assert load_settings().preset == "byteplus"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    keys = Keys.from_env()
    assert keys.anthropic is not None and keys.anthropic.get_secret_value() == "sk-ant-from-env"
    # the shipped .env.example, copied as is, sets nothing (its values are empty)
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    example = Path(__file__).resolve().parents[2] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    assert Keys.from_env() == Keys()


def test_a_config_file_mistake_names_its_line_and_the_likely_setting(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  fps: 24\n  aspekt: '16:9'\ncompose:\n  zzz: 1\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).startswith(f"{cfg}:3: output.aspekt: unknown setting")
    assert "did you mean 'aspect'?" in str(e.value)
    cfg.write_text("compose:\n  quality: draft\n  zzz: 1\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).startswith(f"{cfg}:3: compose.zzz: unknown setting (allowed here: ")
    assert "crossfade" in str(e.value)
    cfg.write_text("output:\n  aspect: '4:3'\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:2: output\.aspect: not allowed"):
        load_settings(cfg, env={})


def test_a_config_file_that_is_not_utf8_is_one_line_with_its_line(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_bytes(b"output:\n  fps: 30 \xff\n")  # e.g. saved as Latin-1
    with pytest.raises(ConfigError, match=r"c\.yaml:2: not UTF-8 text; save the file as UTF-8"):
        load_settings(cfg, env={})
    cfg.write_bytes(b"\xef\xbb\xbfoutput:\n  fps: 30\n")  # a BOM is fine
    assert load_settings(cfg, env={}).output.fps == 30
    cfg.write_bytes("output:\n  fps: 30\n".encode("utf-16-le"))  # UTF-16 with no BOM
    with pytest.raises(
        ConfigError, match=r"c\.yaml:1: saved as UTF-16 text .*save the file as UTF-8"
    ):
        load_settings(cfg, env={})


def test_a_config_saved_as_utf16_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Notepad's "Unicode" (and Windows PowerShell 5's `>`): YAML reads it, as .env is
    read; config.yaml was refused as "not UTF-8 text". Its mistakes keep their lines."""
    cfg = tmp_path / "c.yaml"
    cfg.write_bytes("# mine\r\noutput:\r\n  fps: 30\r\n".encode("utf-16"))
    assert load_settings(cfg, env={}).output.fps == 30
    cfg.write_bytes("# mine\r\noutput:\r\n  fps: 300\r\n".encode("utf-16"))
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).startswith(f"{cfg}:3: output.fps: Input should be less than or equal")


def test_output_dir_must_be_a_path_not_a_list(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output_dir: [a, b]\n")  # it made a folder named "['a', 'b']"
    with pytest.raises(ConfigError, match=r"c\.yaml:1: output_dir: must be a folder path"):
        load_settings(cfg, env={})
    cfg.write_text("output_dir: ~/movies\n")
    assert load_settings(cfg, env={}).output_dir == Path.home() / "movies"


@pytest.mark.parametrize("value", ["''", "'   '"])
def test_output_dir_must_not_be_blank(tmp_path: Path, value: str) -> None:
    """output_dir: '' rendered into the current folder and '   ' into a folder named
    with three spaces: both are refused, in the file and in the environment."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"output_dir: {value}\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:1: output_dir: must be a folder path, got a"):
        load_settings(cfg, env={})
    with pytest.raises(ConfigError, match=r"MINDMOVIE_OUTPUT_DIR.*write \. for the current"):
        load_settings(None, env={"MINDMOVIE_OUTPUT_DIR": value.strip("'")})
    cfg.write_text("output_dir: .\n")
    assert load_settings(cfg, env={}).output_dir == Path(".")


@pytest.mark.parametrize("value", ["C:\\movies\\mine", "D:/films", "movies\\mine"])
def test_output_dir_written_as_a_windows_path_is_told_to_be_written_with_slashes(
    tmp_path: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`output_dir: C:\\movies` made a folder named so in the current one, as `--out` did
    (refused there, `cli._out_path`): the setting says the same, in the file and the env."""
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"output_dir: '{value}'\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).startswith(f"{cfg}:1: output_dir: "), e.value
    assert "write the path" in str(e.value), e.value
    with pytest.raises(ConfigError, match=r"MINDMOVIE_OUTPUT_DIR"):
        load_settings(None, env={"MINDMOVIE_OUTPUT_DIR": value})


@pytest.mark.parametrize("value", ["$HOME/movies", "${XDG_VIDEOS_DIR}/mm", "~/$USER"])
def test_output_dir_with_a_variable_says_it_is_not_replaced(tmp_path: Path, value: str) -> None:
    """`output_dir: $HOME/movies` made a folder named `$HOME` in the current folder and
    put the runs there. It is refused, naming the variable, in the file and in the
    environment; a `$` not followed by a name stays part of the folder's name."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"output_dir: '{value}'\n")
    name = value.split("$", 1)[1].strip("{").split("}")[0].split("/")[0]
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).startswith(f"{cfg}:1: output_dir: ")
    assert f"${name} is not replaced by its value here (only ~ is)" in str(e.value)
    with pytest.raises(ConfigError, match=r"MINDMOVIE_OUTPUT_DIR.*write the path out"):
        load_settings(None, env={"MINDMOVIE_OUTPUT_DIR": value})
    cfg.write_text("output_dir: 'movies $5'\n")
    assert load_settings(cfg, env={}).output_dir == Path("movies $5")


def test_a_setting_written_twice_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "output:\n  fps: 30\n  aspect: '9:16'\ncompose:\n  quality: high\noutput:\n  fps: 25\n"
    )
    with pytest.raises(ConfigError) as e:  # it silently dropped aspect 9:16
        load_settings(cfg, env={})
    assert str(e.value) == f"{cfg}:6: output: duplicate key 'output' (first at line 1)"
    cfg.write_text("base: &b {fps: 30}\n")  # anchors are still YAML's business
    with pytest.raises(ConfigError, match="base: unknown setting"):
        load_settings(cfg, env={})


@pytest.mark.parametrize("stage", ["planner", "keyframes", "video"])
def test_an_unknown_stage_provider_names_its_line_and_the_allowed_ones(
    tmp_path: Path, stage: str
) -> None:
    """It was found only when the providers were built: `estimate` and `doctor` died with
    a CatalogError traceback, and `render` did not say which file set it."""
    from typing import get_args

    from mindmovie.config import Settings
    from mindmovie.providers.registry import FACTORIES

    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"compose:\n  quality: draft\n{stage}:\n  provider: openai\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    msg = str(e.value)
    assert msg.startswith(f"{cfg}:4: {stage}.provider: not allowed")
    assert all(f"'{p}'" in msg for p in FACTORIES[stage])
    field = Settings.model_fields[stage].annotation.model_fields["provider"]  # type: ignore[union-attr]
    assert {a for a in get_args(get_args(field.annotation)[0])} == set(FACTORIES[stage])


def test_a_provider_key_written_as_a_setting_says_where_keys_go(tmp_path: Path) -> None:
    """README: keys live in their usual variables, never in the config file. A key put
    there got only 'unknown setting (allowed here: base_url, ...)'; its value is never
    shown."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("providers:\n  byteplus:\n    api_key: sk-very-secret\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    msg = str(e.value)
    assert msg.startswith(f"{cfg}:3: providers.byteplus.api_key: unknown setting")
    assert "ARK_API_KEY" in msg and "sk-very-secret" not in msg
    cfg.write_text("output:\n  keyframe: 1\n")  # not a key: the usual suggestion
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert "_API_KEY" not in str(e.value) and "allowed here" in str(e.value)
    cfg.write_text("output:\n  fps: 1\n  aspect: x\n")
    with pytest.raises(ConfigError, match=r"\(and 1 more problem: output\.fps\)$"):
        load_settings(cfg, env={})


def test_a_dotenv_with_a_byte_that_is_not_utf8_still_gives_its_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One Latin-1 accent in a comment made the whole .env unreadable, so every key in it
    was 'not set' with nothing to say why."""
    (tmp_path / ".env").write_bytes(b"# caf\xe9 keys\nANTHROPIC_API_KEY=sk-ant-from-file\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    keys = Keys.from_env()
    assert keys.anthropic is not None and keys.anthropic.get_secret_value() == "sk-ant-from-file"


def test_a_dotenv_value_that_is_not_utf8_is_skipped_and_said_not_set_garbled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`MINDMOVIE_OUTPUT_DIR=películas` saved as Latin-1 was set as "pel\ufffdculas" (a
    folder of that name made) with no word, and `doctor` said the .env was fine. The
    statement is skipped and said so by its line and variable, never its value; the
    other statements, and a comment's stray byte, are read as before."""
    from mindmovie.config import dotenv_problems, read_dotenv

    env = tmp_path / ".env"
    env.write_bytes(b"# caf\xe9\nMINDMOVIE_OUTPUT_DIR=pel\xedculas\nOTHER='a\nb\xff'\nOK=1\n")
    assert read_dotenv(env) == {"OK": "1"}
    assert dotenv_problems(env) == [
        f"{env}:{n}: {name}: not UTF-8 text (a letter saved in another encoding, such as "
        "Latin-1); skipped, so nothing is set from it: save the file as UTF-8"
        for n, name in ((2, "MINDMOVIE_OUTPUT_DIR"), (3, "OTHER"))
    ]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MINDMOVIE_OUTPUT_DIR", raising=False)
    assert load_settings(None).output_dir == Path("outputs")


def test_a_dotenv_saved_with_a_bom_gives_its_first_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows Notepad starts a UTF-8 file with a BOM; the first line's name then began
    with U+FEFF, was not an identifier, and that key was silently 'not set'."""
    (tmp_path / ".env").write_bytes(b"\xef\xbb\xbfANTHROPIC_API_KEY=sk-ant-from-file\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    keys = Keys.from_env()
    assert keys.anthropic is not None and keys.anthropic.get_secret_value() == "sk-ant-from-file"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_dotenv_saved_as_utf16_gives_its_keys_and_no_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    """Notepad's "Unicode" saves UTF-16 with a byte order mark. Read as UTF-8, every line
    was warned as "a line with no `=`" and each key was "not set", with no word of the
    encoding."""
    from mindmovie.config import dotenv_problems

    text = "# keys\nANTHROPIC_API_KEY=sk-ant-from-file\nARK_API_KEY='ark é'\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    (tmp_path / ".env").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    for name in ("ANTHROPIC_API_KEY", "ARK_API_KEY", "BYTEPLUS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    keys = Keys.from_env()
    assert keys.anthropic is not None and keys.anthropic.get_secret_value() == "sk-ant-from-file"
    assert keys.byteplus is not None and keys.byteplus.get_secret_value() == "ark é"
    assert dotenv_problems(Path(".env")) == []


def test_a_dotenv_is_read_by_python_dotenv_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hand-written reader cut `K="a\\"b"` at the escaped quote (`a\\`) and read a
    double-quoted value over two lines as its first line's quote and all ('"line1'). Now
    a .env means what python-dotenv (which pydantic-settings uses) makes of it: escapes
    in double quotes, multi-line values, and `${VAR}` taken from the real environment
    first, then the lines above."""
    from dotenv import dotenv_values

    from mindmovie.config import read_dotenv

    text = (
        'ESCAPED="a\\"b"\n'
        'MULTI="line1\nline2"\n'
        "SINGLE='x\\ny'  # raw in single quotes\n"
        "export SPACED = plain value   # comment\n"
        "HASH=a#b\n"
        "EMPTY=\n"
        "BARE\n"
        "REF=${SPACED}-${MM_TEST_FROM_ENV}\n"
        "not a statement\n"
        "AFTER=ok\n"
    )
    env_file = tmp_path / ".env"
    env_file.write_text(text, encoding="utf-8")
    monkeypatch.setenv("MM_TEST_FROM_ENV", "real")
    got = read_dotenv(env_file)
    assert got == {
        "ESCAPED": 'a"b',
        "MULTI": "line1\nline2",
        "SINGLE": "x\\ny",
        "SPACED": "plain value",
        "HASH": "a#b",
        "EMPTY": "",
        "REF": "plain value-real",
        "AFTER": "ok",
    }
    # the same as python-dotenv's own reading (a name with no value is not set)
    assert got == {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    # a statement it cannot read is skipped, as before, and read_dotenv prints nothing
    # (the CLI warns, once per command: dotenv_problems)
    capsys.readouterr()
    read_dotenv(env_file)
    assert capsys.readouterr().err == ""
    # a key set through it
    env_file.write_text('ANTHROPIC_API_KEY="sk-ant-\\"quoted\\""\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    keys = Keys.from_env()
    assert keys.anthropic is not None
    assert keys.anthropic.get_secret_value() == 'sk-ant-"quoted"'


def test_an_output_size_out_of_range_is_refused_before_any_work(tmp_path: Path) -> None:
    """'19200x1080' (a typo) matched the pattern and ran out of memory at the compose,
    after every keyframe and clip was made."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text('output: {size: "19200x1080"}\n')
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert "c.yaml:1: output.size: each side must be 16 to 4096 pixels, got 19200x1080" in str(
        e.value
    )
    cfg.write_text('output: {size: "320x10"}\n')  # too small a side: refused too
    with pytest.raises(ConfigError, match="each side must be 16 to 4096 pixels, got 320x10"):
        load_settings(cfg, env={})
    cfg.write_text('output: {size: "3840x2160"}\n')
    assert load_settings(cfg, env={}).output.frame() == (3840, 2160)
    cfg.write_text('output: {size: "16x4096"}\n')  # both bounds allowed
    assert load_settings(cfg, env={}).output.frame() == (16, 4096)


def test_a_config_nested_thousands_deep_is_one_line_not_a_recursion_error(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  size: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == f"{cfg}:2: lists or mappings nested more than 100 levels deep"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "output:\n  aspect: '9:16'\n  resolution: '480p's\n",
            "3: not valid YAML (expected <block end>, but found '<scalar>'); a ' inside a "
            "value quoted with ' ends it: write it twice ('I''m here'), or leave the quotes off",
        ),
        (
            'output_dir: "my "best" out"\n',
            "1: not valid YAML (expected <block end>, but found '<scalar>'); a \" inside a "
            'value quoted with " ends it: write it as \\" ("say \\"yes\\""), or quote the '
            "value with ' instead",
        ),
        (
            "output:\n  aspect:'9:16'\n  fps: 24\n",
            "2: not valid YAML (a key needs a space after its colon: write aspect: '9:16')",
        ),
        (
            "output:\n  fps:24\n  aspect: '1:1'\n",
            "2: not valid YAML (a key needs a space after its colon: write fps: 24)",
        ),
        (  # the end of the file is marked past its last line: the last line is named
            "output:\n  fps: 24\nx: [1, 2\n\n",
            "3: not valid YAML (expected ',' or ']', but got '<stream end>'); a value that "
            "starts with '[' is a YAML list, closed with ']'; if it is text, quote it (x: "
            '"[1, 2")',
        ),
    ],
)
def test_a_config_gets_the_quote_and_colon_hints_goals_yaml_gets(
    tmp_path: Path, text: str, said: str
) -> None:
    """A quote inside a quoted value was told to line up its keys, and a key with no
    space after its colon was blamed on the line after it: goals.yaml had said both
    right since the yamlsrc fixes; the config loader did not use them."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == f"{cfg}:{said}"


def test_a_config_windows_path_in_double_quotes_names_the_backslash(tmp_path: Path) -> None:
    """`output_dir: "C:\\Videos\\mm"` was refused as "found unknown escape character
    'V'", which named no backslash: goals.yaml's hint, as the other YAML hints."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text('output_dir: "C:\\Videos\\mm"\n')
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == (
        f"{cfg}:1: not valid YAML (found unknown escape character 'V'); inside \" quotes a "
        "backslash starts an escape (\\n, \\t, \\U...): write a path with / "
        "(C:/Users/me/me.jpg), or quote it with ' instead"
    )


def test_a_config_windows_folder_in_double_quotes_names_the_backslash(tmp_path: Path) -> None:
    """`output_dir: "D:\\Pictures\\"`: \\" is a quote mark, so the quote never closes."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text('output_dir: "D:\\Pictures\\"\n')
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).endswith(
        'never closed (the file ends inside it); inside " quotes a backslash starts an '
        "escape (\\n, \\t, \\U...): write a path with / (C:/Users/me/me.jpg), or quote it "
        "with ' instead)"
    ), str(e.value)


def test_a_setting_name_yaml_reads_as_a_number_is_an_unknown_setting(tmp_path: Path) -> None:
    # `1:` is an int key to YAML: Settings(**data) raised TypeError (keywords must be strings)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  fps: 30\n1: 2\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).startswith(f"{cfg}:3: 1: unknown setting (allowed here: preset, ")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("~: 1\n", "1: ~"),
        ("true: 1\n", "1: true"),
        ("output:\n  null: 1\n", "2: output.null"),
        ("output:\n  fps: 30\n  Yes: 1\n", "3: output.Yes"),
        ("output:\n  0x10: 1\n", "2: output.0x10"),
    ],
)
def test_a_setting_name_yaml_reads_as_null_or_true_is_shown_as_written(
    tmp_path: Path, text: str, where: str
) -> None:
    """`~:` and `true:` were named `None` and `True` (and `null:` on its block's line):
    names the person never wrote."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).startswith(f"{cfg}:{where}: unknown setting (allowed here: ")


@pytest.mark.parametrize(
    ("text", "where", "tag"),
    [
        ("output: !!set {a, b}\n", "1: output", "!!set"),
        ("output:\n  fps: !!python/name:os.system\n", "2: output.fps", "!!python/name:os.system"),
        ("output:\n  size: !!binary aGVsbG8=\n", "2: output.size", "!!binary"),
        ("output: !!omap [a: 1]\n", "1: output", "!!omap"),
        ("keyframes:\n  options: !mine {a: 1}\n", "2: keyframes.options", "!mine"),
    ],
)
def test_an_unsupported_yaml_tag_names_its_line_and_setting(
    tmp_path: Path, text: str, where: str, tag: str
) -> None:
    """A set, bytes or pairs said "must be a block of settings" or "got b'hello'" with no
    line, and `!!python/name:` named no setting."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == f"{cfg}:{where}: unsupported YAML tag {tag!r}; remove it"


def test_a_config_of_too_many_values_without_aliases_is_too_large(tmp_path: Path) -> None:
    """It was "once aliases (*name) are expanded", with no alias in the file."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("keyframes:\n  options:\n    x: [" + "0, " * 100_001 + "]\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == (
        f"{cfg}:3: file is too large: more than 100000 values, which no hand-written YAML "
        "file holds: is it the right file?"
    )


def test_a_number_of_thousands_of_digits_names_its_line_setting_and_range(
    tmp_path: Path,
) -> None:
    # PyYAML's int() of 5001 digits raised ValueError (Exceeds the limit (4300 digits)
    # for integer string conversion): a traceback
    cfg = tmp_path / "c.yaml"
    cfg.write_text("video:\n  seed: 3\noutput:\n  fps: 1" + "0" * 5000 + "\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == (
        f"{cfg}:4: output.fps: a number of more than 4300 digits; allowed: at least 8, at most 60"
    )


def test_a_control_character_in_the_config_is_one_line_with_its_line(tmp_path: Path) -> None:
    # PyYAML's ReaderError reads '... not allowed\n  in "<unicode string>", position 17':
    # two lines, and no line number
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  fps: 30\x00\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == f"{cfg}:2: not valid YAML (invalid character '\\x00')"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["render", "g.yaml", "--nope"], "No such option: --nope"),
        (["render"], "Missing argument 'GOALS'."),
        # click's parser raises this one without a context: it lacked the command and hint
        (["render", "g.yaml", "--out"], "Option '--out' requires an argument."),
        (["render", "-q", "g.yaml", "-o"], "Option '-o' requires an argument."),
    ],
)
def test_a_flag_typer_refuses_is_one_error_line_exit_2(
    args: list[str], said: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # typer drew these as a usage line, a hint and a boxed panel: five lines and more
    from mindmovie import cli

    monkeypatch.setattr("sys.argv", ["mindmovie", *args])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: mindmovie render: ") and said in lines[0]
    assert lines[0].endswith("(see `mindmovie render --help`)")


def test_a_goals_file_whose_name_starts_with_a_dash_is_named_in_the_option_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mindmovie render -goals.yaml` (a file so named, from a tool that names copies
    so): "No such option: -g", and not a word of the file there. The line says how to
    give it."""
    from mindmovie import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "-goals.yaml").write_text("title: T\n")
    monkeypatch.setattr("sys.argv", ["mindmovie", "render", "-goals.yaml"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "error: mindmovie render: No such option: -g (see `mindmovie render --help`); "
        "-goals.yaml is a file here: give it as ./-goals.yaml, or after --"
    )
    (tmp_path / "-my-run").mkdir()  # a run folder so named: a folder, not "a file"
    monkeypatch.setattr("sys.argv", ["mindmovie", "status", "-my-run"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("; -my-run is a folder here: give it as ./-my-run, or after --"), line


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["render", "g.yaml", "config.yaml"], "(config.yaml); a settings file is given as "
         "--config config.yaml (see `mindmovie render --help`)"),
        (["status", "run", "my.yml", "x"], "(my.yml x); a settings file is given as --config "
         "my.yml (see `mindmovie status --help`)"),
        (["render", "g.yaml", "x"], "(x) (see `mindmovie render --help`)"),
    ],
)  # fmt: skip
def test_a_settings_file_given_as_a_second_argument_is_told_to_go_with_config(
    args: list[str], said: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`render goals.yaml config.yaml` said "Got unexpected extra argument(s)
    (config.yaml)", not where a settings file goes: the one line now says --config."""
    from mindmovie import cli

    monkeypatch.setattr("sys.argv", ["mindmovie", *args])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"error: mindmovie {args[0]}: Got unexpected extra argument(s) {said}", line


@pytest.mark.parametrize("value", ["abc", "24.5", "1e2", ""])
def test_an_fps_flag_that_is_not_a_whole_number_says_what_it_got_and_the_range(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    """typer's int said only "Invalid value for '--fps': Input should be a valid
    integer" of `--fps 24.5`: not the value, not 8 to 60. The flag is read as the
    settings read config.yaml's fps: the layer, the setting, what it got, the range."""
    from mindmovie import cli

    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("MINDMOVIE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr("sys.argv", ["mindmovie", "render", "g.yaml", "--fps", value])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: command line (--fps): output.fps: "), line
    assert line.endswith(f"got {value!r}; allowed: at least 8, at most 60"), line


def test_a_variable_of_json_nested_past_the_stack_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # json.loads raised RecursionError (a traceback) for 5000 "[" in a MINDMOVIE_ value
    # (Python 3.13 parses 5000 deep: 100,000 is past the stack on 3.11 to 3.13)
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    env = {"MINDMOVIE_VIDEO__OPTIONS": "[" * 100_000 + "]" * 100_000}
    with pytest.raises(ConfigError) as e:
        load_settings(None, env=env)
    assert str(e.value).startswith(
        "environment (MINDMOVIE_VIDEO__OPTIONS): video.options: must be a block of settings, "
        "not text that is not JSON; give a JSON table"
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        # the same variable in another case
        (
            {"MINDMOVIE_OUTPUT__FPS": "30", "MINDMOVIE_output__fps": "0"},
            "MINDMOVIE_OUTPUT__FPS and MINDMOVIE_output__fps both set it",
        ),
        # a JSON table and one of its settings
        (
            {"MINDMOVIE_OUTPUT__FPS": "30", "MINDMOVIE_OUTPUT": '{"fps": 0}'},
            "MINDMOVIE_OUTPUT__FPS and MINDMOVIE_OUTPUT both set it",
        ),
        # another setting of the table is not named
        ({"MINDMOVIE_OUTPUT": '{"fps": 0}', "MINDMOVIE_OUTPUT__ASPECT": "1:1"}, "MINDMOVIE_OUTPUT"),
    ],
)
def test_a_setting_set_by_two_variables_names_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    """Two variables for one setting: the error named one upper-case name made from the
    setting's path (MINDMOVIE_OUTPUT__FPS), often not the variable holding the bad value."""
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    with pytest.raises(ConfigError) as e:
        load_settings(None, env=env)
    assert str(e.value).startswith(f"environment ({named}): output.fps: ")


def test_a_setting_name_in_another_case_is_refused_not_silently_dropped(tmp_path: Path) -> None:
    # `Output:` was read as `output:` yet not merged with the other layers: the --aspect
    # flag lost to it, and beside MINDMOVIE_OUTPUT__FPS its aspect was dropped
    cfg = tmp_path / "c.yaml"
    cfg.write_text("plan:\n  scenes_per_goal: 2\nOutput:\n  aspect: '9:16'\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, {"output": {"aspect": "1:1"}}, env={})
    assert str(e.value) == (
        f"{cfg}:3: Output: unknown setting (did you mean 'output'? setting names are lower case)"
    )
    cfg.write_text("plan:\n  scenes_per_goal: 2\noutput:\n  aspect: '9:16'\n")
    assert load_settings(cfg, {"output": {"aspect": "1:1"}}, env={}).output.aspect == "1:1"


def test_a_bad_number_or_size_setting_names_the_allowed_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Input should be a valid integer" and "String should match pattern '^[1-9]...$'"
    # named no allowed values
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  fps: abc\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).startswith(f"{cfg}:2: output.fps: Input should be a valid integer")
    assert str(e.value).endswith("; allowed: at least 8, at most 60")
    with pytest.raises(ConfigError) as e:
        load_settings(None, env={"MINDMOVIE_OUTPUT__SIZE": "abc"})
    assert str(e.value) == (
        "environment (MINDMOVIE_OUTPUT__SIZE): output.size: must be WIDTHxHEIGHT in even"
        " pixels, 16 to 4096 a side (e.g. 640x360), got 'abc'"
    )


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("video:\n  audio: maybe\n", "video.audio: must be true or false; got 'maybe'"),
        ("video:\n  chain_frames: [1]\n", "video.chain_frames: must be true or false; got a list"),
        ("planner:\n  model: {a: 1}\n", "planner.model: must be text; got a block of settings"),
    ],
)
def test_a_bad_true_false_or_text_setting_names_the_value_and_the_allowed_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, said: str
) -> None:
    # was "Input should be a valid boolean, unable to interpret input": neither the value
    # nor what is allowed
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == f"{cfg}:2: {said}"
    if "maybe" in text:
        with pytest.raises(ConfigError) as e:
            load_settings(None, env={"MINDMOVIE_VIDEO__AUDIO": "maybe"})
        assert str(e.value) == f"environment (MINDMOVIE_VIDEO__AUDIO): {said}"


@pytest.mark.parametrize(
    ("text", "line", "said"),
    [
        ("output:\n  fps: !!int\n", 2, "('' cannot be read as a whole number;"),
        ("!!float\n", 1, "('' cannot be read as a number;"),
        ("video:\n  audio: !!bool maybe\n", 2, "('maybe' cannot be read as true or false;"),
        ("output_dir: 2020-02-30\n", 1, "('2020-02-30' cannot be read as a timestamp;"),
    ],
)
def test_a_value_yaml_cannot_build_as_its_type_is_one_line_with_its_line(
    tmp_path: Path, text: str, line: int, said: str
) -> None:
    # PyYAML's constructors raised IndexError, KeyError or ValueError for these: tracebacks
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).startswith(f"{cfg}:{line}: not valid YAML {said} correct it, or quote")


def test_a_run_folder_name_too_long_or_with_a_nul_is_one_line(tmp_path: Path) -> None:
    # Path raised ValueError (embedded null byte) or OSError (File name too long) in
    # run_dir_for, _prepare_run_dir and status: tracebacks
    from mindmovie.pipeline import RunDirError, _prepare_run_dir
    from mindmovie.status import collect_status
    from mindmovie.store import StoreError

    cfg = tmp_path / "c.yaml"
    cfg.write_text('output_dir: "runs\\0"\n')
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == (
        f"{cfg}:1: output_dir: must be a folder path, got 'runs\\x00' (it holds a NUL character)"
    )
    long = tmp_path / ("y" * 300)
    with pytest.raises(RunDirError) as r:
        _prepare_run_dir(long)
    assert str(r.value) == f"--out {long}: cannot use the folder: File name too long"
    with pytest.raises(StoreError, match="cannot look in it \\(File name too long\\)"):
        collect_status(long)


def test_infinite_or_nan_settings_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `.inf` loaded: a poll interval of .inf would sleep for ever, a budget of .inf is
    # no cap written as one; `--budget inf` the same on the command line
    from mindmovie import cli

    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "c.yaml"
    for text, where in (
        ("providers:\n  byteplus:\n    poll_interval: .inf\n", "providers.byteplus.poll_interval"),
        ("budget_usd: .inf\n", "budget_usd"),
        ("compose:\n  crossfade: .nan\n", "compose.crossfade"),
    ):
        cfg.write_text(text)
        with pytest.raises(ConfigError) as e:
            load_settings(cfg, env={})
        assert where in str(e.value) and "finite number" in str(e.value), e.value
    monkeypatch.setattr("sys.argv", ["mindmovie", "render", "nope.yaml", "--budget", "inf"])
    with pytest.raises(SystemExit) as ex:
        cli.main()
    assert ex.value.code == 2
    assert "--budget: inf is not a number of dollars" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["render", "plan"])
@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("nan", "nan is not a number of dollars; leave it out for no cap"),
        ("NaN", "NaN is not a number of dollars; leave it out for no cap"),
        ("-nan", "-nan is not a number of dollars; leave it out for no cap"),
        ("-inf", "-inf is not a number of dollars; leave it out for no cap"),
        ("1e999", "1e999 is not a number of dollars; leave it out for no cap"),
        # typer's float said "Input should be a valid number", not of what; a comma is
        # refused, not dropped: `1,5` is $1.50 in much of the world, not $15
        *(
            (
                v,
                f"{v!r} is not a number of dollars; give the most the run may spend (like "
                "5 or 12.50), or leave it out for no cap",
            )
            for v in ("abc", "1,5", "5 dollars", "")
        ),
        (
            "-1",
            "-1 is below $0; give the most the run may spend, in dollars (0 or more), or "
            "leave it out for no cap",
        ),
    ],
)
def test_a_budget_flag_of_no_dollars_says_so_in_its_own_words(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    value: str,
    said: str,
) -> None:
    """`--budget nan` said "Invalid value for '--budget': Input should be greater than
    or equal to 0" (typer's `min=0` caught it before the command's own "not a number of
    dollars"); `-inf` and `-1` the same. Every command taking --budget says what the
    value is, in one line, exit 2, before anything is read (no goals.yaml here)."""
    from mindmovie import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["mindmovie", command, "nope.yaml", "--budget", value])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 2
    assert capsys.readouterr().err.splitlines() == [f"error: --budget: {said}"]
    assert not list(tmp_path.iterdir())


def test_a_config_yaml_that_is_a_folder_is_an_error_not_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """./config.yaml as a folder (docker makes one when a bind mount names a missing
    file) or a dangling link was skipped silently: the render went on with defaults,
    without the settings (budget, preset) the person put there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").mkdir()
    with pytest.raises(ConfigError, match=r"config\.yaml: is a folder, not a config file"):
        load_settings(None, env={})
    (tmp_path / "config.yaml").rmdir()
    (tmp_path / "config.yaml").symlink_to(tmp_path / "gone.yaml")
    with pytest.raises(ConfigError, match=r"config\.yaml: config file not found"):
        load_settings(None, env={})
    (tmp_path / "config.yaml").unlink()
    assert load_settings(None, env={}).preset == "local"  # none at all: the defaults


#: a .env with every kind of statement python-dotenv cannot read as meant; "sk-secret"
#: values must never be shown
BAD_DOTENV = (
    "GOOD=1\n"  # 1
    "\n"  # 2
    "not a statement sk-secret-0\n"  # 3
    "ARK_API_KEY='sk-secret-2' trailing\n"  # 4: text after the closing quote
    'GOOGLE_API_KEY="sk-secret-3\n'  # 5: closed only on line 7, with more after it
    "MINDMOVIE_PRESET=byteplus\n"  # 6
    'OTHER="sk-secret-4" x\n'  # 7
    'BYTEPLUS_API_KEY="sk-secret-5\n'  # 8: closed only on line 10: 9-10 swallowed
    "MINDMOVIE_OUTPUT__FPS=30\n"  # 9
    'GEMINI_API_KEY=sk-secret-6"\n'  # 10
    'CERT="-----BEGIN\n'  # 11: a value over lines on purpose: no warning
    "MIIBsk+secret/7==\n"  # 12
    '-----END"\n'  # 13
    "# a comment\n"  # 14
    'ANTHROPIC_API_KEY="sk-secret-1\n'  # 15: never closed; the next line is read alone
    "AFTER=2\n"  # 16
)


def test_a_dotenv_statement_that_cannot_be_read_is_a_warning_with_its_line(
    tmp_path: Path,
) -> None:
    """A .env line python-dotenv cannot read was skipped silently (and an unclosed quote
    silently took the lines after it into its value): a key or setting on it was simply
    not set. Now each is named by file, line and variable, never by its value."""
    from mindmovie.config import dotenv_problems, read_dotenv

    env_file = tmp_path / ".env"
    env_file.write_text(BAD_DOTENV, encoding="utf-8")
    got = read_dotenv(env_file)  # what is read is as before: python-dotenv's reading
    assert got == {
        "GOOD": "1",
        "BYTEPLUS_API_KEY": "sk-secret-5\nMINDMOVIE_OUTPUT__FPS=30\nGEMINI_API_KEY=sk-secret-6",
        "CERT": "-----BEGIN\nMIIBsk+secret/7==\n-----END",
        "AFTER": "2",
    }
    problems = dotenv_problems(env_file)
    assert problems == [
        f"{env_file}:3: not a NAME=value statement python-dotenv can read; skipped, so "
        "nothing is set from it",
        f"{env_file}:4: ARK_API_KEY: more text after its closing quote (only a # comment "
        "may follow it); skipped, so nothing is set from it",
        f"{env_file}:5: GOOGLE_API_KEY: lines 5-7 cannot be read: the quote opened on line 5 "
        "closes on line 7 with more text after it; skipped, so nothing is set from it",
        f"{env_file}:8: BYTEPLUS_API_KEY: the quote opened on line 8 is closed only on line "
        "10, so lines 9-10, written as variables, became part of its value and set nothing; "
        "close the quote on line 8 if they are meant as variables",
        f"{env_file}:15: ANTHROPIC_API_KEY: its quote is never closed; skipped, so nothing "
        "is set from it",
    ]
    assert not any("secret" in p for p in problems)
    # one swallowed line is named alone; a file with nothing wrong has no problem
    env_file.write_text("A='x\nB=y'\nC=1\n", encoding="utf-8")
    assert dotenv_problems(env_file) == [
        f"{env_file}:1: A: the quote opened on line 1 is closed only on line 2, so line 2, "
        "written as variables, became part of its value and set nothing; close the quote "
        "on line 1 if they are meant as variables"
    ]
    env_file.write_text("A=1\nexport B='two words'  # note\n", encoding="utf-8")
    assert dotenv_problems(env_file) == []
    # a key pasted alone on its line sets nothing: its line is named, never its text;
    # a variable declared with no value (`FOO` alone, python-dotenv's rule) is quiet
    env_file.write_text("A=1\nsk-ant-secret-8\nFOO\nexport BAR\n", encoding="utf-8")
    assert read_dotenv(env_file) == {"A": "1"}
    assert dotenv_problems(env_file) == [
        f"{env_file}:2: a line with no `=` (not shown: it may be a key); it sets nothing "
        "(write it as NAME=value)"
    ]
    assert dotenv_problems(tmp_path / "none") == []  # no .env: nothing to say
    env_file.unlink()
    env_file.mkdir()  # a folder named .env (a docker bind mount of a missing file)
    assert dotenv_problems(env_file) == [
        f"{env_file}: cannot be read (Is a directory); no variable is set from it"
    ]


def _refused(tmp_path: Path, text: str) -> tuple[Path, str]:
    """A config file of `text` (c.yaml) and the ConfigError it is refused with."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    return cfg, str(e.value)


def _cells(table: str) -> str:
    """A rich table's text with its borders gone and its cells' wrapped lines joined.

    COLUMNS=300 does not always widen it: `cli.out` is made at import, and takes the
    width COLUMNS had then (an earlier test in the same process may have set 80), so a
    long cell can be wrapped over several lines."""
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛┡┩└┘┌┐├┤┬┴┼━─╇╈╋]", " ", table))


def _invoke(args: list[str]) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from mindmovie.cli import app

    r = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    return r.exit_code, r.stdout, r.stderr


def test_dotenv_warnings_reach_the_person_once_per_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each command that reads the environment says the .env warnings once, on stderr as
    the render's other warnings (also with --quiet), and `doctor` as rows; no value."""
    from mindmovie.init_goals import write_template

    monkeypatch.chdir(tmp_path)
    for name in ("ANTHROPIC_API_KEY", "ARK_API_KEY", "BYTEPLUS_API_KEY", "GOOGLE_API_KEY",
                 "GEMINI_API_KEY", "MINDMOVIE_PRESET", "MINDMOVIE_CONFIG"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text(
        "GOOD=1\nARK_API_KEY='sk-secret-2' b\nANTHROPIC_API_KEY=\"sk-secret-1\n", encoding="utf-8"
    )
    goals = write_template(tmp_path)
    said = [
        "warning: .env:2: ARK_API_KEY: more text after its closing quote (only a # comment "
        "may follow it); skipped, so nothing is set from it",
        "warning: .env:3: ANTHROPIC_API_KEY: its quote is never closed; skipped, so nothing "
        "is set from it",
    ]
    runs = {
        "plan": ["plan", str(goals)],
        "render --quiet": ["render", str(goals), "--quiet", "--until", "plan"],
        "estimate": ["estimate", str(goals)],
        "status": ["status", str(tmp_path / "outputs" / "my-dream-life")],
        "providers": ["providers"],
        "a settings error": ["estimate", str(goals), "--preset", "nope"],
    }
    for what, args in runs.items():
        code, _, err = _invoke(args)
        assert code == (2 if what == "a settings error" else 0), (what, err)
        lines = [ln for ln in err.splitlines() if "warning" in ln]
        assert lines == said, (what, err)
        assert "secret" not in err
    code, out, err = _invoke(["doctor"])
    assert code == 0, out
    rows = [ln for ln in out.splitlines() if ln.startswith("│ .env")]
    assert [r.split("│")[2].strip() for r in rows] == ["warn", "warn"], out
    assert ".env:2: ARK_API_KEY: more text after its closing quote" in _cells(out)
    assert ".env:3: ANTHROPIC_API_KEY: its quote is never closed" in _cells(out)
    assert "warning" not in err and "secret" not in out + err
    (tmp_path / ".env").write_text("GOOD=1\n", encoding="utf-8")
    code, out, err = _invoke(["doctor"])
    assert "every statement read" in _cells(out) and "warning" not in err


def test_a_key_set_under_two_names_to_different_keys_is_a_warning_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ARK_API_KEY and BYTEPLUS_API_KEY (or GOOGLE_API_KEY and GEMINI_API_KEY) set to
    different keys: the first was used silently, maybe another account than meant. Now
    a warning names both and the one used, as google-genai does; the same key twice, or
    one name empty, says nothing. Never a key's value."""
    from mindmovie.config import key_conflicts

    env = {
        "ARK_API_KEY": "ark-secret-1",
        "BYTEPLUS_API_KEY": "ark-secret-2",
        "GOOGLE_API_KEY": " g-secret ",
        "GEMINI_API_KEY": "g-secret",  # the same key (spaces are not part of it)
        "ANTHROPIC_API_KEY": "sk-ant-secret",
    }
    assert key_conflicts(env) == {
        "byteplus": "ARK_API_KEY and BYTEPLUS_API_KEY are both set, to different keys; "
        "ARK_API_KEY is used for byteplus (unset BYTEPLUS_API_KEY, or give it the same key)"
    }
    keys = Keys.from_env(env)
    assert keys.byteplus is not None and keys.byteplus.get_secret_value() == "ark-secret-1"
    env["GEMINI_API_KEY"] = "g-other-secret"
    env["BYTEPLUS_API_KEY"] = ""  # empty: not set
    assert list(key_conflicts(env)) == ["google"]
    assert key_conflicts(env)["google"].startswith(
        "GOOGLE_API_KEY and GEMINI_API_KEY are both set, to different keys; "
        "GOOGLE_API_KEY is used for google"
    )
    assert "secret" not in key_conflicts(env)["google"]

    # the CLI says it once per command (here a .env sets one of them); doctor in its row
    monkeypatch.chdir(tmp_path)
    for name in ("ANTHROPIC_API_KEY", "ARK_API_KEY", "BYTEPLUS_API_KEY", "GOOGLE_API_KEY",
                 "GEMINI_API_KEY", "MINDMOVIE_PRESET", "MINDMOVIE_CONFIG"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", "g-secret-env")
    (tmp_path / ".env").write_text("GEMINI_API_KEY=g-secret-file\n", encoding="utf-8")
    code, _, err = _invoke(["providers"])
    assert code == 0
    assert err.splitlines() == [
        "warning: GOOGLE_API_KEY and GEMINI_API_KEY are both set, to different keys; "
        "GOOGLE_API_KEY is used for google (unset GEMINI_API_KEY, or give it the same key)"
    ]
    code, out, err = _invoke(["doctor"])
    assert code == 0, out
    (row,) = [ln for ln in out.splitlines() if ln.startswith("│ key google")]
    assert row.split("│")[2].strip() == "warn"
    assert "GOOGLE_API_KEY is used for google" in _cells(out) and "warning" not in err
    assert "secret" not in out + err
    (tmp_path / ".env").write_text("GEMINI_API_KEY=g-secret-env\n", encoding="utf-8")
    code, out, err = _invoke(["providers"])
    assert code == 0 and err == ""


def test_a_key_conflict_is_said_only_for_a_key_the_settings_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GOOGLE_API_KEY and GEMINI_API_KEY set to different keys: said when a google stage
    uses a key; not for a preset with no google stage, nor in Vertex project mode (no
    key at all), where "GOOGLE_API_KEY is used for google" was wrong. Doctor's key row
    says project mode only in project mode (`vertexai: false` with a project is
    developer mode, which uses the key)."""
    from mindmovie.config import environment_warnings
    from mindmovie.doctor import run_checks

    monkeypatch.chdir(tmp_path)  # no ./.env, no ./config.yaml
    for name in ("ANTHROPIC_API_KEY", "ARK_API_KEY", "BYTEPLUS_API_KEY", "MINDMOVIE_PRESET",
                 "MINDMOVIE_CONFIG"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", "g-one")
    monkeypatch.setenv("GEMINI_API_KEY", "g-two")
    said = "GOOGLE_API_KEY is used for google"

    def warned(config: str) -> bool:
        (tmp_path / "c.yaml").write_text(config, encoding="utf-8")
        settings = load_settings(tmp_path / "c.yaml", env={})
        return any(said in w for w in environment_warnings(settings))

    assert warned("preset: google\n")  # express mode: the key is used
    assert not warned("preset: local\n")
    assert not warned("preset: byteplus\n")
    assert not warned("preset: google\nproviders: {google: {project: p, location: us-central1}}\n")
    assert any(said in w for w in environment_warnings())  # settings unknown: said
    code, _, err = _invoke(["estimate", "--help"])  # no settings read: nothing said
    assert code == 0 and said not in err

    # doctor: `vertexai: false` with a project is developer mode, which needs the key
    (tmp_path / "c.yaml").write_text(
        "preset: google\nkeyframes: {provider: google}\nvideo: {provider: local}\n"
        "providers: {google: {vertexai: false, project: p}}\n",
        encoding="utf-8",
    )
    settings = load_settings(tmp_path / "c.yaml", env={})
    (row,) = [c for c in run_checks(settings) if c.name == "key google"]
    assert "project mode" not in row.detail and said in row.detail, row


@pytest.mark.parametrize(
    "env",
    [
        {"MINDMOVIE_OUTPUT__FPS": "30", "MINDMOVIE_output__fps": "25"},
        {"MINDMOVIE_OUTPUT": '{"fps": 25, "aspect": "1:1"}', "MINDMOVIE_OUTPUT__FPS": "30"},
        {"MINDMOVIE_OUTPUT__FPS": "30", "MINDMOVIE_OUTPUT": '{"fps": 25}'},
    ],
)
def test_one_setting_given_two_values_by_two_variables_is_an_error_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    """Two valid values for one setting (two spellings of its variable, a JSON table and
    one of its settings): the one later in the environment won silently, and that order
    is not the person's to choose (a shell's export order, .env under the environment).
    Refused, as a setting written twice in config.yaml is, naming both, not the values."""
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    names = " and ".join(env)
    with pytest.raises(ConfigError) as e:
        load_settings(None, env=env)
    assert str(e.value) == (
        f"environment ({names} both set it): output.fps: set to different values; unset "
        "all but one of these variables (which one would win depends on the order of the "
        "environment, so none is used)"
    )
    # a config file or a flag that sets it decides: the variables are not used for it
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  fps: 12\n", encoding="utf-8")
    assert load_settings(cfg, env=env).output.fps == 12
    assert load_settings(None, {"output": {"fps": 15}}, env=env).output.fps == 15
    # the CLI: one error line, exit 2
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, _, err = _invoke(["estimate", "nope.yaml"])
    assert code == 2
    assert err.splitlines() == [f"error: {e.value}"], err


@pytest.mark.parametrize(
    ("env", "fps", "aspect"),
    [
        # the same value twice: nothing to choose, nothing said
        ({"MINDMOVIE_OUTPUT__FPS": "30", "MINDMOVIE_output__fps": " 30"}, 30, "16:9"),
        ({"MINDMOVIE_OUTPUT": '{"fps": 30}', "MINDMOVIE_OUTPUT__FPS": "30.0"}, 30, "16:9"),
        # a JSON table after one of its settings: it was put in place of the table the
        # setting had made, dropping fps=30 silently; now they are merged
        ({"MINDMOVIE_OUTPUT__FPS": "30", "MINDMOVIE_OUTPUT": '{"aspect": "1:1"}'}, 30, "1:1"),
        ({"MINDMOVIE_OUTPUT": '{"aspect": "1:1"}', "MINDMOVIE_OUTPUT__FPS": "30"}, 30, "1:1"),
    ],
)
def test_two_variables_that_agree_or_set_different_settings_are_both_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], fps: int, aspect: str
) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(None, env=env)
    assert (s.output.fps, s.output.aspect) == (fps, aspect)


def test_a_value_yaml_reads_as_something_else_says_what_it_was_read_as(tmp_path: Path) -> None:
    """`aspect: 9:16` unquoted is the number 556 to PyYAML (base 60, YAML 1.1): the error
    said "input should be '16:9', '9:16' or '1:1'" to someone who wrote 9:16. A bare
    `output_dir: ~` is null, not the home folder: it said "Input is not a valid path for
    <class 'pathlib.Path'>". Each now says what was read and what to write."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  aspect: 9:16\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == (
        f"{cfg}:2: output.aspect: not allowed; input should be '16:9', '9:16' or '1:1'; "
        "got 556: YAML reads an unquoted 9:16 as a number in base 60, so write it in "
        'quotes: "9:16"'
    )
    cfg.write_text("preset: locl\n")  # what was read, for any value not allowed
    with pytest.raises(ConfigError, match=r"c\.yaml:1: preset: not allowed; .*; got 'locl'$"):
        load_settings(cfg, env={})
    cfg.write_text("output:\n  fps: yes\n")  # YAML 1.1: true, which pydantic takes as 1
    with pytest.raises(ConfigError, match=r"c\.yaml:2: output\.fps: .*; got true; allowed: "):
        load_settings(cfg, env={})
    for text in ("output_dir: ~\n", "output_dir:\n"):
        cfg.write_text(text)
        with pytest.raises(ConfigError) as e:
            load_settings(cfg, env={})
        msg = str(e.value)
        assert msg.startswith(f"{cfg}:1: output_dir: must be a folder path, got null"), msg
        assert "'~/movies'" in msg and "class" not in msg


def test_an_unquoted_aspect_not_allowed_quoted_either_is_not_told_to_be_quoted(
    tmp_path: Path,
) -> None:
    """`aspect: 4:3` unquoted (243 to PyYAML): the error said "so write it in quotes:
    "4:3"", and "4:3" quoted is refused next (not an aspect mindmovie makes). It says how
    it was read, and that 4:3 is not allowed either, not to quote it."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  aspect: 4:3\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    msg = str(e.value)
    assert "input should be '16:9', '9:16' or '1:1'" in msg, msg
    assert "YAML reads an unquoted 4:3 as a number in base 60" in msg, msg
    assert "write it in quotes" not in msg, msg
    assert "4:3 is not allowed either" in msg, msg


def test_a_block_left_empty_is_its_defaults_and_a_value_for_a_block_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commenting out every line of a block of a copied config.example.yaml leaves
    `output:` (YAML null): that was "Input should be a valid dictionary or instance of
    OutputSettings". It means the block's defaults now, as an empty file does, and keeps
    what the environment sets in it; a value where a block goes names the block's
    settings and not a class."""
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "output:\n#  fps: 30\nproviders:\n  byteplus:\n#    timeout: 5\nvideo:\n  options:\n"
    )
    s = load_settings(cfg, env={"MINDMOVIE_OUTPUT__FPS": "30"})
    assert s.output.fps == 30 and s.providers.byteplus.max_concurrent == 3
    assert s.video.options == {}
    cfg.write_text("output: 5\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == (
        f"{cfg}:1: output: must be a block of settings (aspect, resolution, fps, size), not a "
        "single value; got 5; write them indented under `output:`, one `name: value` a "
        "line (`output:`, then `  aspect: ...` on the next)"
    )
    with pytest.raises(ConfigError) as e:
        load_settings(None, env={"MINDMOVIE_OUTPUT": "{fps: 30}"})
    assert str(e.value).startswith(
        "environment (MINDMOVIE_OUTPUT): output: must be a block of settings (aspect, "
        "resolution, fps, size), not text that is not JSON; got '{fps: 30}'; give a JSON table"
    )


def test_a_value_for_a_block_is_refused_when_a_higher_layer_sets_a_setting_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`output: 720p` in config.yaml was refused, but with `--fps 30` the flag's table
    took the place of the value and it was dropped without a word (so too a
    MINDMOVIE_OUTPUT=720p under a config file's `output:` block): it is the same error,
    naming the layer that wrote the value, not the one above it."""
    monkeypatch.chdir(tmp_path)  # no ./config.yaml, no ./.env
    cfg = tmp_path / "c.yaml"
    cfg.write_text("preset: local\noutput: 720p\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, {"output": {"fps": 30}}, env={})
    assert str(e.value) == (
        f"{cfg}:2: output: must be a block of settings (aspect, resolution, fps, size), not a "
        "single value; got '720p'; write them indented under `output:`, one `name: value` a "
        "line (`output:`, then `  aspect: ...` on the next)"
    )
    cfg.write_text("compose: high\n")
    with pytest.raises(ConfigError, match=r"c.yaml:1: compose: must be a block of settings"):
        load_settings(cfg, {"compose": {"quality": "draft"}}, env={})
    cfg.write_text("output:\n  fps: 30\n")
    env = {"MINDMOVIE_OUTPUT": "720p"}
    for config, flags in ((cfg, {}), (None, {"output": {"fps": 30}})):
        with pytest.raises(ConfigError) as e:
            load_settings(config, flags, env=env)
        assert str(e.value).startswith(
            "environment (MINDMOVIE_OUTPUT): output: must be a block of settings (aspect, "
            "resolution, fps, size), not a single value; got '720p'; give a JSON table"
        )
    # a value the higher layer replaces whole, or a table under a table, is no mistake
    cfg.write_text("output:\n  fps: 30\n")
    s = load_settings(cfg, {"output": {"fps": 12}}, env={"MINDMOVIE_OUTPUT__FPS": "abc"})
    assert s.output.fps == 12


def test_a_stage_option_from_its_own_variable_is_read_as_config_yaml_reads_it() -> None:
    """Options are passed on as given, not converted by a setting's type, and a variable
    is text: MINDMOVIE_VIDEO__OPTIONS__WATERMARK=true was refused with "'true' is not
    allowed; allowed true or false", and so every typed option (max_tokens=8000,
    guidance_scale=3.5). true/false and numbers are now read as config.yaml reads them;
    other text stays text, and a wrong value is still refused."""
    from mindmovie.providers.registry import check_options

    env = {
        "MINDMOVIE_PRESET": "byteplus",
        "MINDMOVIE_PLANNER__OPTIONS__MAX_TOKENS": "8000",
        "MINDMOVIE_KEYFRAMES__OPTIONS__WATERMARK": "False",
        "MINDMOVIE_KEYFRAMES__OPTIONS__GUIDANCE_SCALE": "3.5",
        "MINDMOVIE_KEYFRAMES__OPTIONS__SIZE": "2048x2048",
        "MINDMOVIE_VIDEO__OPTIONS__EXECUTION_EXPIRES_AFTER": "3600",
        "MINDMOVIE_VIDEO__OPTIONS__SERVICE_TIER": "flex",
    }
    s = load_settings(env=env)
    check_options(s)
    assert s.planner.options == {"max_tokens": 8000}
    assert s.keyframes.options == {"watermark": False, "guidance_scale": 3.5, "size": "2048x2048"}
    assert s.video.options == {"execution_expires_after": 3600, "service_tier": "flex"}
    s = load_settings(env={**env, "MINDMOVIE_VIDEO__OPTIONS__WATERMARK": "maybe"})
    with pytest.raises(ConfigError, match=r"video\.options\.watermark: 'maybe' is not allowed"):
        check_options(s)


@pytest.mark.parametrize(
    ("text", "env", "said"),
    [
        (
            "output:\n  fps:\n    x: 1\n",
            {},
            "c.yaml:2: output.fps: Input should be a valid integer; got a block of settings: "
            "output.fps is one value, with no settings under it; allowed: at least 8, at most 60",
        ),
        (
            "",
            {"MINDMOVIE_OUTPUT__FPS__X": "1"},
            "environment (MINDMOVIE_OUTPUT__FPS__X): output.fps: Input should be a valid "
            "integer; got a block of settings: output.fps is one value, with no settings under "
            "it (a variable named MINDMOVIE_OUTPUT__FPS__... goes a level too deep: set "
            "MINDMOVIE_OUTPUT__FPS); allowed: at least 8, at most 60",
        ),
        (
            "",
            {"MINDMOVIE_COMPOSE__QUALITY__X": "high"},
            "environment (MINDMOVIE_COMPOSE__QUALITY__X): compose.quality: not allowed; input "
            "should be 'draft', 'standard' or 'high'; got a block of settings: compose.quality "
            "is one value, with no settings under it (a variable named "
            "MINDMOVIE_COMPOSE__QUALITY__... goes a level too deep: set "
            "MINDMOVIE_COMPOSE__QUALITY)",
        ),
        (
            "compose:\n  crossfade: [1]\n",
            {},
            "c.yaml:2: compose.crossfade: Input should be a valid number; got a list (write one "
            "value, not a list); allowed: at least 0.0, at most 5.0",
        ),
    ],
)
def test_a_block_or_a_list_where_one_value_goes_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, env: dict[str, str], said: str
) -> None:
    """`fps: {x: 1}` and MINDMOVIE_OUTPUT__FPS__X=1 (a variable a level too deep) said
    "output.fps: Input should be a valid integer", of a 1, and `crossfade: [1]` did not
    say it was read as a list: each says what it got, and the variable the one to set."""
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env=env)
    assert str(e.value).removeprefix(f"{tmp_path}/") == said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "budget_usd: off\n",
            "c.yaml:1: budget_usd: must be a number, not true or false; got false; allowed: at "
            "least 0; null means no cap (YAML reads an unquoted yes, no, on or off as true or "
            "false)",
        ),
        (
            "budget_usd: yes\n",
            "c.yaml:1: budget_usd: must be a number, not true or false; got true",
        ),
        ("plan:\n  scene_seconds: yes\n", "c.yaml:2: plan.scene_seconds: must be a number"),
        ("plan:\n  scenes_per_goal: true\n", "c.yaml:2: plan.scenes_per_goal: must be a number"),
        ("compose:\n  workers: on\n", "c.yaml:2: compose.workers: must be a number"),
        ("keyframes:\n  seed: false\n", "c.yaml:2: keyframes.seed: must be a number"),
        (
            "providers:\n  byteplus:\n    download_timeout: yes\n",
            "c.yaml:3: providers.byteplus.download_timeout: must be a number",
        ),
    ],
)
def test_true_or_false_where_a_number_goes_is_refused_not_read_as_1_or_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, said: str
) -> None:
    """pydantic takes true as 1 and false as 0, and YAML reads yes/no/on/off as them: so
    `budget_usd: off` was a $0 cap and `budget_usd: yes` a $1 one, `scene_seconds: yes`
    1 s scenes, `seed: false` seed 0, all without a word. Each is refused, with its line,
    what was read and what is allowed; true/false settings still take them."""
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).removeprefix(f"{tmp_path}/").startswith(said), str(e.value)
    cfg.write_text("video:\n  audio: yes\nproviders:\n  google:\n    vertexai: off\n")
    s = load_settings(cfg, env={})
    assert s.video.audio is True and s.providers.google.vertexai is False


def test_a_number_with_a_leading_zero_is_refused_not_read_in_base_8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyYAML reads an unquoted 030 in base 8: `fps: 030` was 24 frames a second and
    `budget_usd: 010` an $8 cap, without a word. Each is refused with its line, what it
    is read as and what to write; quoted, or the same in base 8 and 10 (07), it is
    taken."""
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    cfg = tmp_path / "c.yaml"
    cfg.write_text("preset: local\noutput:\n  fps: 030\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == (
        f"{cfg}:3: output.fps: 030 is read as 24 (YAML reads a number written with a "
        "leading 0 in base 8); write 30, or quote it if it is text"
    )
    cfg.write_text("budget_usd: 010\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:1: budget_usd: 010 is read as 8 "):
        load_settings(cfg, env={})
    cfg.write_text("video:\n  options:\n    execution_expires_after: 0600\n")
    with pytest.raises(ConfigError, match=r":3: video\.options\.execution_expires_after: 0600"):
        load_settings(cfg, env={})
    cfg.write_text("output:\n  fps: '030'\nkeyframes:\n  seed: 07\n")
    s = load_settings(cfg, env={})
    assert (s.output.fps, s.keyframes.seed) == (30, 7)


def test_a_setting_name_in_capitals_under_its_block_says_names_are_lower_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`output: {FPS: 30}` was told "unknown setting here; it is output.fps: write it
    indented under `output:`", where it was written: its case is what is wrong, as the
    top level already said (`Output:`)."""
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  FPS: 30\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == (
        f"{cfg}:2: output.FPS: unknown setting (did you mean 'fps'? setting names are lower case)"
    )
    cfg.write_text("providers:\n  byteplus:\n    Timeout: 5\n")
    with pytest.raises(ConfigError, match=r":3: providers\.byteplus\.Timeout: .* lower case\)$"):
        load_settings(cfg, env={})


def test_a_setting_at_the_wrong_level_says_where_it_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fps: 30` at the top level (or `quality:` under output) listed the names allowed
    there, leaving the person to find that fps is output.fps: each says where it goes."""
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "c.yaml"
    said = {
        "fps: 30\n": "1: fps: unknown setting here; it is output.fps: write it indented "
        "under `output:`",
        "output:\n  quality: draft\n": "2: output.quality: unknown setting here; it is "
        "compose.quality: write it indented under `compose:`",
        "compose:\n  output: {fps: 30}\n": "2: compose.output: unknown setting here; output "
        "is a top-level setting: write it at the start of a line, not indented",
        "seed: 3\n": "1: seed: unknown setting here; it is one of these: keyframes.seed, "
        "video.seed",
    }
    for text, error in said.items():
        cfg.write_text(text)
        with pytest.raises(ConfigError) as e:
            load_settings(cfg, env={})
        assert str(e.value) == f"{cfg}:{error}"
    with pytest.raises(ConfigError) as e:
        load_settings(None, env={"MINDMOVIE_FPS": "30"})
    assert str(e.value) == (
        "environment (MINDMOVIE_FPS): fps: unknown setting here; it is output.fps: set "
        "MINDMOVIE_OUTPUT__FPS"
    )


@pytest.mark.parametrize(
    ("var", "setting"),
    [
        ("MINDMOVIE_OUTPUT_FPS", "output.fps"),
        ("MINDMOVIE_COMPOSE_TITLE_SECONDS", "compose.title_seconds"),
        ("MINDMOVIE_PROVIDERS_BYTEPLUS_TIMEOUT", "providers.byteplus.timeout"),
    ],
)
def test_a_variable_with_one_underscore_where_two_go_is_told_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, var: str, setting: str
) -> None:
    """`MINDMOVIE_OUTPUT_FPS=30` (one underscore between the block and its setting) said
    "output_fps: unknown setting (did you mean 'output'?)": MINDMOVIE_OUTPUT is the whole
    block, and the __ the name lacks was not said. It names the variable meant."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as e:
        load_settings(None, env={var: "30"})
    name = var.removeprefix("MINDMOVIE_").lower()
    fixed = "MINDMOVIE_" + "__".join(setting.split(".")).upper()
    assert str(e.value) == (
        f"environment ({var}): {name}: unknown setting here; it is {setting}: set {fixed}"
    )


def test_a_provider_base_url_that_is_not_an_http_address_is_refused_up_front(
    tmp_path: Path,
) -> None:
    """`base_url: ark.example.com` (no scheme) was found by the first paid call, after its
    retries, as "connection failed: APIConnectionError" (exit 1, no word of the setting)."""
    cfg = tmp_path / "c.yaml"
    for bad in ("ark.example.com/api/v3", "ftp://x", "http://[::1", "https://x:port/v1"):
        cfg.write_text(f"providers:\n  byteplus:\n    base_url: '{bad}'\n")
        with pytest.raises(ConfigError) as e:
            load_settings(cfg, env={})
        assert str(e.value).startswith(
            f"{cfg}:3: providers.byteplus.base_url: must be an http:// or https:// address"
        ), str(e.value)
        assert repr(bad) in str(e.value)
    for good in ("https://ark.example.com/api/v3", "http://127.0.0.1:8080", "http://[::1]:9/"):
        cfg.write_text(f"providers:\n  byteplus:\n    base_url: '{good}'\n")
        assert load_settings(cfg, env={}).providers.byteplus.base_url == good


@pytest.mark.parametrize(
    "bad", ["http://127.0.0.1:8794/api/v3 ", "http://127.0.0.1:8794/api v3", "http://h/v3\\t"]
)
def test_a_provider_base_url_holding_a_blank_is_refused_up_front(tmp_path: Path, bad: str) -> None:
    """A blank in a base_url (`base_url: "http://.../api/v3 "`, quoted with the space
    copied after it) passed the address check; the SDK sent every call to another path
    (`/api/v3%20/...`), and after the plan was paid for each keyframe failed as "the
    model 'seedream-4-0-250828' does not exist" (seen against the simulator). A tab or
    line break inside was dropped by the check's parser, not by the SDK's."""
    cfg, said = _refused(tmp_path, f'providers:\n  byteplus:\n    base_url: "{bad}"\n')
    assert said.startswith(f"{cfg}:3: providers.byteplus.base_url: must be an http"), said
    assert "space" in said, said


def test_a_bad_setting_from_the_dotenv_file_names_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A MINDMOVIE_ variable set in ./.env was said as "environment (MINDMOVIE_...)", which
    sent the person to `env`, where it is not: its file and line are named (the real
    environment, which wins over .env, is still "environment")."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MINDMOVIE_OUTPUT__FPS", raising=False)
    monkeypatch.delenv("MINDMOVIE_CONFIG", raising=False)
    (tmp_path / ".env").write_text("# mindmovie\nGOOD=1\nMINDMOVIE_OUTPUT__FPS=abc\n")
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert str(e.value).startswith(".env:3 (MINDMOVIE_OUTPUT__FPS): output.fps: Input should")
    monkeypatch.setenv("MINDMOVIE_OUTPUT__FPS", "3")
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert str(e.value).startswith("environment (MINDMOVIE_OUTPUT__FPS): output.fps: ")


def test_two_values_for_one_setting_from_the_dotenv_file_name_its_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two spellings of one setting with different values in ./.env were said as
    "environment (MINDMOVIE_output__fps and MINDMOVIE_OUTPUT__FPS both set it)", which sent
    the person to `env`, where neither is: each variable set in .env names its line. One
    in .env and one in the real environment are no clash: the real environment wins."""
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("MINDMOVIE_")]:
        monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(
        "# mindmovie\nMINDMOVIE_output__fps=30\nMINDMOVIE_OUTPUT__FPS=25\n"
    )
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert str(e.value).startswith(
        "environment (MINDMOVIE_output__fps (.env:2) and MINDMOVIE_OUTPUT__FPS (.env:3) both "
        "set it): output.fps: set to different values"
    ), str(e.value)
    # one in .env and one in the real environment: the real environment wins, as for the
    # same spelling (the README's order); they were refused as a clash "which one would
    # win depends on the order of the environment"
    (tmp_path / ".env").write_text("MINDMOVIE_OUTPUT__FPS=25\nMINDMOVIE_OUTPUT__SIZE=640x360\n")
    monkeypatch.setenv("MINDMOVIE_output__fps", "30")
    got = load_settings()
    assert got.output.fps == 30 and got.output.size == "640x360"
    # and a mistake in the real environment's value is not said to be .env's
    monkeypatch.setenv("MINDMOVIE_output__fps", "abc")
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert str(e.value).startswith("environment (MINDMOVIE_output__fps): output.fps"), e.value
    monkeypatch.setenv("MINDMOVIE_output__fps", "30")
    # a table in .env the real environment gives only part of is still two values
    (tmp_path / ".env").write_text('MINDMOVIE_OUTPUT={"fps": 25, "size": "640x360"}\n')
    with pytest.raises(ConfigError, match="both set it"):
        load_settings()


def test_a_goals_file_given_as_the_config_says_so(tmp_path: Path) -> None:
    """`render settings.yaml -c goals.yaml` (swapped) said "title: unknown setting
    (allowed here: preset, ...)": it says the file is a goals file and how to give it."""
    from mindmovie.init_goals import write_template

    goals = write_template(tmp_path)
    with pytest.raises(ConfigError) as e:
        load_settings(goals, env={})
    msg = str(e.value)
    assert re.fullmatch(
        rf"{re.escape(str(goals))}:\d+: goals: this is a goals file, not settings; give it as "
        rf"GOALS \(mindmovie render {re.escape(str(goals))}\) and a settings file with --config",
        msg,
    ), msg


def test_a_goals_file_named_by_mindmovie_config_says_the_variable_named_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MINDMOVIE_CONFIG naming goals.yaml said "give it as GOALS ... and a settings file
    with --config", of a flag the person had not given, and nothing of the variable
    (its "not found" says "named by MINDMOVIE_CONFIG"). It names the variable."""
    from mindmovie.init_goals import write_template

    monkeypatch.chdir(tmp_path)
    goals = write_template(tmp_path)
    with pytest.raises(ConfigError) as e:
        load_settings(None, env={"MINDMOVIE_CONFIG": str(goals)})
    msg = str(e.value)
    assert "this is a goals file, not settings (named by MINDMOVIE_CONFIG); " in msg, msg
    assert msg.endswith("and a settings file with MINDMOVIE_CONFIG, or unset it"), msg


def test_aliases_of_aliases_are_refused_not_expanded(tmp_path: Path) -> None:
    """Aliases of aliases ("billion laughs", 10 lines) hung every command: the settings
    walk expanded what PyYAML shares. Refused as goals.yaml refuses them. (Six levels
    here, 10^6 values: without the check they are expanded, slowly but in time.)"""
    lines = ["video:", "  options:", "    l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 6):
        lines.append(f"    l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert re.fullmatch(
        rf"{re.escape(str(cfg))}:\d+: more than \d+ values once aliases \(\*name\) are expanded",
        str(e.value),
    ), str(e.value)


@pytest.mark.parametrize(
    ("text", "where"),
    [("  x: *o\n", "3: output.x"), ("  fps: 30\n  <<: *o\n", "4: output")],
)
def test_an_alias_inside_its_own_anchor_is_one_line_not_a_traceback(
    tmp_path: Path, text: str, where: str
) -> None:
    """`output: &o` with `x: *o` under it: PyYAML builds a mapping that holds itself, and
    the settings walk (_text_keys) ended in a RecursionError traceback. With `<<: *o`:
    the merge built the mapping it is in, got nothing back, and read it as one
    (AttributeError traceback). Said on the alias's (or the `<<`'s) line, as goals.yaml
    says it."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("preset: local\noutput: &o\n" + text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == f"{cfg}:{where}: an alias refers to itself (recursive data)"


def test_a_first_poll_longer_than_the_poll_cap_is_refused(tmp_path: Path) -> None:
    """`poll_interval: 30` under the default `poll_max_interval` (15) was accepted: the first
    wait was then longer than the cap. Said with the block's line, and from a variable."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("providers:\n  byteplus:\n    poll_interval: 30\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).startswith(
        f"{cfg}:2: providers.byteplus: poll_max_interval (15 s) is less than poll_interval (30 s)"
    ), str(e.value)
    env = {"MINDMOVIE_PROVIDERS__GOOGLE__POLL_MAX_INTERVAL": "1"}
    with pytest.raises(ConfigError, match=r"POLL_MAX_INTERVAL\).*\(1 s\) is less than"):
        load_settings(None, env=env)
    cfg.write_text("providers:\n  byteplus:\n    poll_interval: 30\n    poll_max_interval: 30\n")
    ps = load_settings(cfg, env={}).providers.byteplus
    assert (ps.poll_interval, ps.poll_max_interval) == (30, 30)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # a merged key that is wrong where it lands: named on the `<<` line (it had no line)
        (
            "output: &o\n  fps: 24\ncompose:\n  <<: *o\n",
            "c.yaml:4: compose.fps: unknown setting here; it is output.fps",
        ),
        (
            "x: &o {fps: abc}\noutput:\n  resolution: 480p\n  <<: *o\n",
            "c.yaml:4: output.fps: Input should be a valid integer",
        ),
        # a merge of a list or a word: PyYAML named the anchor's value, another place
        ("x: &o [1]\noutput:\n  <<: *o\n", "c.yaml:3: output: a merge (<<) takes a mapping"),
        ("output:\n  <<: [{fps: 30}, 3]\n", "c.yaml:2: output: a merge (<<) takes a mapping"),
    ],
)
def test_a_merge_key_mistake_is_named_by_its_line(tmp_path: Path, text: str, said: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).startswith(str(tmp_path / said)), str(e.value)


def test_a_merge_key_still_merges_and_written_keys_win(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "providers:\n  byteplus: &p\n    max_concurrent: 3\n    poll_interval: 5\n"
        "  google:\n    <<: *p\n    max_concurrent: 2\n"
    )
    google = load_settings(cfg, env={}).providers.google
    assert (google.poll_interval, google.max_concurrent) == (5, 2)
    # a key written out beside the merge wins, whatever the order, and keeps its own line
    cfg.write_text("x: &o {fps: 30, resolution: 480p}\noutput:\n  fps: abc\n  <<: *o\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:3: output\.fps: Input should be"):
        load_settings(cfg, env={})


def test_mindmovie_config_is_read_instead_of_config_yaml_and_config_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: `MINDMOVIE_CONFIG=FILE`, when set, is read instead of `./config.yaml`;
    `--config` wins over both."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text("output: {fps: 12}\n")
    (tmp_path / "other.yaml").write_text("output: {fps: 30}\n")
    (tmp_path / "given.yaml").write_text("output: {fps: 48}\n")
    assert load_settings(env={}).output.fps == 12
    env = {"MINDMOVIE_CONFIG": str(tmp_path / "other.yaml")}
    assert load_settings(env=env).output.fps == 30
    assert load_settings(tmp_path / "given.yaml", env=env).output.fps == 48
    assert load_settings(env={"MINDMOVIE_CONFIG": ""}).output.fps == 12  # empty: not set


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ('output:\n  fps: 30\n   aspect: "9:16"\n', "must be quoted"),
        ('output:\n  fps: 30\n aspect: "9:16"\n', "line up the keys"),
        ("output:\n\tfps: 30\n", "indent with spaces, not tabs"),
    ],
)
def test_a_config_yaml_mistake_says_what_to_do_as_goals_yaml_does(
    tmp_path: Path, text: str, hint: str
) -> None:
    """A key indented unlike its neighbours (or a tab) in config.yaml was said in
    PyYAML's words alone ("not valid YAML (expected <block end>, but found '<block
    mapping start>')"); it gets the hint goals.yaml's errors give."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert hint in str(e.value), str(e.value)


def test_a_config_yaml_quote_never_closed_is_named_on_its_own_line(tmp_path: Path) -> None:
    """`base_url: "http://...` with no closing quote was "c.yaml:4: not valid YAML (found
    unexpected end of stream)": the last line, and no word of a quote."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text('output:\n  aspect: "9:16\n  fps: 30\npreset: local\n')
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == (
        f"{cfg}:2: not valid YAML (the quote opened on this line is never closed "
        "(the file ends inside it))"
    )


def test_a_config_given_as_standard_input_is_refused_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-c -` (settings piped in, as many tools take them) said "-: config file not
    found", as of a file named -. It says a file's path is wanted; a file named - is
    read as any file."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as e:
        load_settings(Path("-"), env={})
    assert str(e.value) == (
        "-: settings are read from a file, not from standard input: give the config file's path"
    )
    (tmp_path / "-").write_text("output: {fps: 12}\n")
    assert load_settings(Path("-"), env={}).output.fps == 12


def test_a_missing_config_file_named_by_mindmovie_config_names_the_variable(
    tmp_path: Path,
) -> None:
    """MINDMOVIE_CONFIG naming a file that is not there was "x.yaml: config file not
    found", no word of the variable (exported long ago, or in .env) that asked for it."""
    gone = tmp_path / "gone.yaml"
    with pytest.raises(ConfigError) as e:
        load_settings(env={"MINDMOVIE_CONFIG": str(gone)})
    assert str(e.value) == f"{gone}: config file not found (named by MINDMOVIE_CONFIG)"
    with pytest.raises(ConfigError) as e:  # --config wins over the variable: it is named
        load_settings(gone, env={"MINDMOVIE_CONFIG": str(tmp_path / "other.yaml")})
    assert str(e.value) == f"{gone}: config file not found"


def test_mindmovie_config_is_read_without_the_blanks_at_its_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As every MINDMOVIE_ variable: MINDMOVIE_CONFIG from a file saved on Windows ends
    in "\\r", and was "c.yaml\\r: config file not found" (the \\r unseen); one of blanks
    alone named a file "  ", not found, where an empty one means ./config.yaml."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("preset: google\n")
    assert load_settings(env={"MINDMOVIE_CONFIG": f" {cfg}\r"}).preset == "google"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text("preset: byteplus\n")
    assert load_settings(env={"MINDMOVIE_CONFIG": " \r"}).preset == "byteplus"


def test_a_config_file_named_by_mindmovie_config_that_cannot_be_read_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As for one not there: a folder, or a file that cannot be read, named by
    MINDMOVIE_CONFIG said so with no word of the variable that asked for it."""
    import errno

    with pytest.raises(ConfigError) as e:
        load_settings(env={"MINDMOVIE_CONFIG": str(tmp_path)})
    assert str(e.value) == (
        f"{tmp_path}: is a folder, not a config file (a YAML file of settings) "
        "(named by MINDMOVIE_CONFIG)"
    )
    cfg = tmp_path / "c.yaml"
    cfg.write_text("preset: local\n")

    def refused(path: Path, *args: object, **kw: object) -> bytes:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    # chmod 000 does not stop root (the tests may run as root): refused where it is read
    monkeypatch.setattr("mindmovie.yamlsrc.read_source", refused)
    with pytest.raises(ConfigError) as e:
        load_settings(env={"MINDMOVIE_CONFIG": str(cfg)})
    assert str(e.value) == (
        f"{cfg}: cannot read config file (Permission denied) (named by MINDMOVIE_CONFIG)"
    )


@pytest.mark.parametrize(
    "text, line, got",
    [
        ("# my settings\n\n- preset: local\n- output_dir: movies\n", 3, "a list"),
        ("preset local\n", 1, "a single value"),
    ],
)
def test_a_config_file_that_is_not_a_mapping_names_its_line_and_what_it_is(
    tmp_path: Path, text: str, line: int, got: str
) -> None:
    """A config file whose settings were written as a list (`- preset: local`) said
    only "c.yaml: the top level must be a mapping of settings": no line, not what it
    was read as (goals.yaml and plan.yaml say both)."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    said = str(e.value)
    assert said.startswith(f"{cfg}:{line}: the top level must be a mapping of settings"), said
    assert said.endswith(f"got {got}"), said


def test_a_config_file_that_is_a_link_to_nothing_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """./config.yaml a link whose file is gone (moved, or a dotfiles link on another
    machine) was "config.yaml: config file not found", of a file `ls` shows."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").symlink_to(tmp_path / "gone.yaml")
    with pytest.raises(ConfigError) as e:
        load_settings(env={})
    assert str(e.value) == (
        f"config.yaml: config file not found (a link to {tmp_path / 'gone.yaml'}, which is missing)"
    )


def test_a_config_yml_not_there_names_the_config_yaml_that_is(tmp_path: Path) -> None:
    """`-c config.yml` beside a config.yaml said "config file not found" alone."""
    (tmp_path / "config.yaml").write_text("preset: local\n")
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path / "config.yml", env={})
    there = tmp_path / "config.yaml"
    assert str(e.value) == f"{tmp_path / 'config.yml'}: config file not found; there is {there}"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "providers:\n  byteplus:\n    max_concurrent: 3\n    project: my-project\n",
            "c.yaml:4: providers.byteplus.project: byteplus does not use this setting, so it "
            "would do nothing (byteplus reads only base_url, max_concurrent, timeout, "
            "job_deadline, download_timeout, poll_interval, poll_max_interval; project is "
            "for google)",
        ),
        (
            "providers:\n  local:\n    timeout: 5\n",
            "c.yaml:3: providers.local.timeout: local does not use this setting, so it would "
            "do nothing (local reads only max_concurrent; timeout is for anthropic and "
            "byteplus and google)",
        ),
        (
            "providers:\n  anthropic:\n    job_deadline: 30\n",
            "c.yaml:3: providers.anthropic.job_deadline: anthropic does not use this setting, "
            "so it would do nothing (anthropic reads only base_url, max_concurrent, timeout; "
            "job_deadline is for byteplus and google)",
        ),
    ],
)
def test_a_provider_setting_its_provider_does_not_read_is_refused(
    tmp_path: Path, text: str, said: str
) -> None:
    """`providers.byteplus.project` (a google setting), `providers.local.timeout` or
    `providers.anthropic.job_deadline` was taken without a word and did nothing: every
    provider block took every provider's connection settings."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == f"{tmp_path}/{said}"


def test_a_provider_setting_its_provider_does_not_read_names_its_variable() -> None:
    with pytest.raises(ConfigError) as e:
        load_settings(env={"MINDMOVIE_PROVIDERS__BYTEPLUS__VERTEXAI": "false"})
    assert str(e.value).startswith(
        "environment (MINDMOVIE_PROVIDERS__BYTEPLUS__VERTEXAI): providers.byteplus.vertexai: "
        "byteplus does not use this setting"
    ), str(e.value)
    # what each provider reads is taken as before
    s = load_settings(
        env={
            "MINDMOVIE_PROVIDERS__GOOGLE__PROJECT": "p",
            "MINDMOVIE_PROVIDERS__BYTEPLUS__JOB_DEADLINE": "60",
            "MINDMOVIE_PROVIDERS__ANTHROPIC__TIMEOUT": "30",
            "MINDMOVIE_PROVIDERS__LOCAL__MAX_CONCURRENT": "1",
        }
    )
    assert s.providers.google.project == "p" and s.providers.byteplus.job_deadline == 60
    assert s.providers.anthropic.timeout == 30 and s.providers.local.max_concurrent == 1


@pytest.mark.parametrize("name", ["MINDMOVIE_", "MINDMOVIE_OUTPUT__", "MINDMOVIE___OUTPUT"])
def test_a_variable_with_an_empty_setting_name_says_it_names_no_setting(name: str) -> None:
    """`MINDMOVIE_=1` said "environment (MINDMOVIE_): : unknown setting"."""
    with pytest.raises(ConfigError) as e:
        load_settings(env={name: "1"})
    assert str(e.value) == (
        f"environment ({name}): names no setting (write MINDMOVIE_ and the setting's name, a "
        "block and its setting joined by __: MINDMOVIE_OUTPUT__FPS)"
    )


@pytest.mark.parametrize("value", ["", " ", "null", "NULL", "~"])
def test_an_empty_or_null_budget_variable_means_no_cap(value: str) -> None:
    """`budget_usd: null` (or empty) in config.yaml is no cap, but MINDMOVIE_BUDGET_USD=
    was refused ("budget_usd: Input should be a valid number ... got ''"), so a variable
    could not lift a cap a .env set. Empty or YAML's null there is no cap too."""
    assert load_settings(None, env={"MINDMOVIE_BUDGET_USD": value}).budget_usd is None
    assert load_settings(None, env={"MINDMOVIE_BUDGET_USD": "2.5"}).budget_usd == 2.5


def test_a_budget_that_is_not_a_number_says_how_to_write_no_cap(tmp_path: Path) -> None:
    """'none' for no cap was refused without a word of how to write it."""
    with pytest.raises(ConfigError) as e:
        load_settings(None, env={"MINDMOVIE_BUDGET_USD": "none"})
    assert str(e.value).startswith("environment (MINDMOVIE_BUDGET_USD): budget_usd: "), e
    assert str(e.value).endswith("got 'none'; allowed: at least 0; empty or null means no cap")
    config = tmp_path / "config.yaml"
    config.write_text("budget_usd: none\n")
    with pytest.raises(ConfigError) as e:
        load_settings(config, env={})
    assert str(e.value).endswith("got 'none'; allowed: at least 0; null means no cap"), e


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["render", ""], "'GOALS'"),
        (["plan", ""], "'GOALS'"),
        (["estimate", ""], "'GOALS'"),
        (["render", "goals.yaml", "--out", ""], "'--out' / '-o'"),
        (["plan", "goals.yaml", "-c", ""], "'--config' / '-c'"),
        (["doctor", "-c", ""], "'--config' / '-c'"),
        (["status", ""], "'RUN_DIR'"),
        (["status", "run", "--goals", ""], "'--goals'"),
        (["storyboard", ""], "'RUN_DIR'"),
        (["init", ""], "'DIR'"),
    ],
)
def test_an_empty_path_is_refused_not_taken_for_the_current_folder(
    args: list[str],
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An empty path (an unset variable: `--out "$OUT"`) was Path(""), the current
    folder: `render ""` said '.: is a folder, not a file', `status ""` '.: no run here',
    `--out ""` took the current folder for the run's (into it when empty), `-c ""`
    '.: is a folder, not a config file' (which replaced the OS's "Is a directory"). One
    line, exit 2, naming the argument; nothing written."""
    from mindmovie.init_goals import write_template

    write_template(tmp_path)
    line = _one_line_exit_2_nothing_made(args, tmp_path, monkeypatch, capsys)
    assert line.startswith(f"error: mindmovie {args[0]}: Invalid value for {name}: "), line
    assert "is empty (an unset variable?); give a path" in line, line


def _one_line_exit_2_nothing_made(
    args: list[str],
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """`mindmovie ARGS` run in `folder` as the console script runs it: its one error
    line (exit 2, nothing written in `folder`)."""
    from mindmovie import cli

    monkeypatch.chdir(folder)
    before = sorted(p.name for p in folder.iterdir())
    monkeypatch.setattr("sys.argv", ["mindmovie", *args])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert sorted(p.name for p in folder.iterdir()) == before
    return lines[0]


BACKSLASH = "a \\ is not a folder separator on this system: write the path with /"
DRIVE = "the drive C: is no folder on this system (in WSL it is /mnt/c/)"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["render", ".\\goals.yaml", "--until", "plan"], f"file not found; {BACKSLASH} ("),
        (["plan", ".\\goals.yaml"], f"file not found; {BACKSLASH} (goals.yaml is there)"),
        (["estimate", ".\\goals.yaml"], f"file not found; {BACKSLASH} ("),
        (["doctor", ".\\goals.yaml"], f"file not found; {BACKSLASH} ("),
        (["storyboard", "run", "--goals", ".\\goals.yaml"], f"file not found; {BACKSLASH} ("),
        (["plan", "C:\\me\\goals.yaml"], f"file not found; {BACKSLASH}; {DRIVE}"),
        (["plan", "C:/me/goals.yaml"], f"file not found; {DRIVE}: write the path as"),
        (["plan", "goals.yaml", "--out", "C:\\movies\\mine"], f"mine: {BACKSLASH}; {DRIVE}"),
        (["render", "goals.yaml", "--out", "runs\\mine", "--until", "plan"], f"mine: {BACKSLASH}"),
        (["estimate", "goals.yaml", "-o", "C:/movies"], f"movies: {DRIVE}: write the path"),
        (["doctor", "--out", "runs\\mine"], f"runs\\mine: {BACKSLASH}"),
        (["plan", "goals.yaml", "-c", ".\\my.yaml"], f"config file not found; {BACKSLASH}"),
        (["estimate", "goals.yaml", "-c", "C:/my.yaml"], f"not found; {DRIVE}: write the path"),
        (["status", "runs\\yours"], f"no such folder; {BACKSLASH}; give a run folder"),
        (["storyboard", "C:\\runs\\mine"], f"no such folder; {BACKSLASH}; {DRIVE}; give a"),
        # there when written with slashes: said, as GOALS says it
        (["plan", "goals.yaml", "-c", ".\\my.yaml"], f"not found; {BACKSLASH} (my.yaml is there)"),
        (["status", "runs\\mine"], f"no such folder; {BACKSLASH} (runs/mine is there); give"),
        (["storyboard", "runs\\mine"], f"no such folder; {BACKSLASH} (runs/mine is there); give"),
        # PowerShell's home
        (["plan", "~\\goals.yaml"], f"file not found; {BACKSLASH}"),
        (["plan", "goals.yaml", "-c", "~\\my.yaml"], f"config file not found; {BACKSLASH}"),
        (["plan", "goals.yaml", "--out", "~\\movies"], f"movies: {BACKSLASH}"),
        # init's folder, as --out (it made a folder named x\y, backslash and all)
        (["init", "x\\y"], f"x\\y: {BACKSLASH}"),
        (["init", "C:\\me\\project", "--guided"], f"project: {BACKSLASH}; {DRIVE}"),
    ],
)
def test_a_windows_path_given_on_the_command_line_is_told_to_be_written_with_slashes(
    args: list[str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`render '.\\goals.yaml'` said only "file not found" (a photo path in goals.yaml is
    told that a backslash is no folder separator here), and `--out 'C:\\movies\\mine'` made
    a folder named so in the current one. Both are one line, exit 2, nothing made. A
    `-c .\\my.yaml` or `status runs\\mine` that is there written with slashes did not say
    so (GOALS did), and `~\\goals.yaml` said "no user '\\\\goals.yaml' here"."""
    from mindmovie.init_goals import write_template

    write_template(tmp_path)
    (tmp_path / "run").mkdir()  # a run folder for `storyboard run`, which names a wrong
    (tmp_path / "run" / "plan.yaml").write_text("")  # one before its --goals
    (tmp_path / "my.yaml").write_text("output: {fps: 12}\n", encoding="utf-8")
    (tmp_path / "runs" / "mine").mkdir(parents=True)
    line = _one_line_exit_2_nothing_made(args, tmp_path, monkeypatch, capsys)
    assert said in line and "no user" not in line, line


SPACE = "nothing is named so here, and the name ends in a space, which is part of a file's name"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["plan", "goals.yaml "], f"'goals.yaml ': {SPACE}; write it without (goals.yaml is"),
        (["render", " goals.yaml", "--until", "plan"], "name starts with a space, which is"),
        (["plan", "goals.yaml", "-c", "my.yaml "], f"'my.yaml ': {SPACE}; write it without ("),
        (["plan", "goals.yaml", "--out", "movies "], f"'movies ': {SPACE}; write it without"),
        (["status", "runs/mine "], f"'runs/mine ': {SPACE}; write it without (runs/mine is"),
        (["init", "new "], f"'new ': {SPACE}; write it without"),
        (["plan", "goals.yaml", "-c", "my.yaml\t"], "the name ends in a blank, which is part"),
    ],
)
def test_a_path_on_the_command_line_with_a_space_at_an_end_is_told_so(
    args: list[str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--config "my.yaml "` said "my.yaml : config file not found", `render "goals.yaml "`
    "goals.yaml : file not found", the space not to be seen; `--out "movies "` made a
    folder whose name ends in a space. One line naming the space (and the file that is
    there without it), exit 2, nothing made."""
    from mindmovie.init_goals import write_template

    write_template(tmp_path)
    (tmp_path / "my.yaml").write_text("output: {fps: 12}\n", encoding="utf-8")
    (tmp_path / "runs" / "mine").mkdir(parents=True)
    line = _one_line_exit_2_nothing_made(args, tmp_path, monkeypatch, capsys)
    assert said in line, line


def test_a_path_with_a_space_at_an_end_that_is_there_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose name does end in a space is the person's: taken as named."""
    from mindmovie.init_goals import write_template

    monkeypatch.chdir(tmp_path)
    goals = write_template(tmp_path)
    goals.rename(tmp_path / "goals.yaml ")
    code, _, err = _invoke(["estimate", "goals.yaml "])
    assert code == 0, err


def test_output_dir_with_a_space_at_an_end_is_refused(tmp_path: Path) -> None:
    """`output_dir: "movies "` made a folder whose name ends in a space, as --out did."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text('output_dir: "movies "\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == (
        f"{cfg}:1: output_dir: got 'movies ': the name ends in a space, which would be "
        "part of the folder's name; write it without"
    ), e.value


@pytest.mark.parametrize("command", ["status", "storyboard"])
def test_a_run_folder_and_a_config_both_wrong_name_the_run_folder_first(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`status runs\\mine -c C:/my.yaml` named the run folder, `storyboard` the same
    arguments the config file: a person fixing the one named met the other next. Both
    commands name the run folder first."""
    line = _one_line_exit_2_nothing_made(
        [command, "runs\\mine", "-c", "C:/my.yaml"], tmp_path, monkeypatch, capsys
    )
    assert "runs\\mine: no such folder" in line, line


def test_out_into_a_home_holding_only_dot_files_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--out ~` in a home holding only dot-files was taken for an empty folder: .lock,
    plan.yaml, run.db and the storyboard were written among .bashrc and .profile."""
    from mindmovie.init_goals import write_template

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    for name in (".bashrc", ".profile"):
        (home / name).write_text("# mine\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    write_template(work)
    line = _one_line_exit_2_nothing_made(
        ["plan", "goals.yaml", "--out", "~"], work, monkeypatch, capsys
    )
    assert line == (
        f"error: --out {home}: your home folder, not a mindmovie run folder (no run.db) and "
        f"not empty (.bashrc, .profile); give a new or empty folder, e.g. --out {home / 'run'}"
    ), line
    assert sorted(p.name for p in home.iterdir()) == [".bashrc", ".profile"]


@pytest.mark.parametrize(
    ("names", "refused"),
    [
        ([".DS_Store", "._me.jpg", ".localized", ".directory"], None),  # a file manager's
        ([".lock", ".plan.yaml.4242.tmp.yaml", "plan.yaml", "run.db.damaged"], None),  # a run's
        ([".DS_Store", ".git"], ".git"),
        ([".env", ".bashrc"], ".bashrc, .env"),
    ],
)
def test_a_folder_with_hidden_files_is_not_taken_for_an_empty_one(
    names: list[str], refused: str | None, tmp_path: Path
) -> None:
    """A run folder given with --out may hold a run's own entries and the hidden files
    a system or file manager leaves in any folder; any other hidden file makes it
    someone's folder (it counted as empty: every name starting with a dot did)."""
    from mindmovie.pipeline import RunDirError, _usable_run_dir

    run = tmp_path / "run"
    run.mkdir()
    for name in names:
        (run / name).write_bytes(b"")
    if refused is None:
        _usable_run_dir(run, True)
        return
    with pytest.raises(RunDirError) as e:
        _usable_run_dir(run, True)
    assert f"not a mindmovie run folder (no run.db) and not empty ({refused})" in str(e.value)


@pytest.mark.parametrize(
    "args, env, run",
    [
        (["plan", "goals.yaml", "--out=~/run"], {}, "run"),
        (["plan", "~/goals.yaml", "-o", "~/run"], {}, "run"),
        (["plan", "goals.yaml", "--config=~/c.yaml"], {}, "my-dream-life"),
        (["plan", "goals.yaml"], {"MINDMOVIE_CONFIG": "~/c.yaml"}, "my-dream-life"),
    ],
)
def test_a_path_given_with_a_tilde_is_in_the_home_folder(
    args: list[str],
    env: dict[str, str],
    run: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The shell leaves `~` as typed in `--out=~/run` (and in quotes, and in a variable
    set in quotes): the run went into a folder named `~` in the current one (and a
    config or goals.yaml so named was "not found"), where output_dir and goals.yaml's
    photos take `~` for the home folder."""
    from mindmovie import cli
    from mindmovie.init_goals import write_template

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    write_template(work)
    write_template(home)
    # the config puts runs in the home folder: read, the plan lands there
    (home / "c.yaml").write_text(f"output_dir: {home}\n", encoding="utf-8")
    monkeypatch.chdir(work)
    monkeypatch.setattr("sys.argv", ["mindmovie", *args])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code in (0, None)
    plans = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("plan.yaml"))
    assert plans == [f"home/{run}/plan.yaml"]


@pytest.mark.parametrize(
    "args, env, config",
    [
        (["plan", "goals.yaml", "--out=~/run"], {}, None),
        (["plan", "goals.yaml", "-c", "c.yaml"], {}, "output_dir: ~/movies\n"),
        (["plan", "goals.yaml"], {"MINDMOVIE_OUTPUT_DIR": "~/movies"}, None),
    ],
)
@pytest.mark.usefixtures("no_home")
def test_a_tilde_with_no_home_folder_is_said_not_made_a_folder(
    args: list[str],
    env: dict[str, str],
    config: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With no home folder (HOME unset, the user id not in the password database: a
    container run as an arbitrary user id) `~` is left as written: `--out ~/run` and
    `output_dir: ~/movies` made the run in a folder named `~` in the current one. Said
    in one line, exit 2, nothing made."""
    from mindmovie.init_goals import write_template

    write_template(tmp_path)
    if config is not None:
        (tmp_path / "c.yaml").write_text(config, encoding="utf-8")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    line = _one_line_exit_2_nothing_made(args, tmp_path, monkeypatch, capsys)
    assert "~ is not a folder here (no home folder: HOME is not set" in line, line


@pytest.mark.usefixtures("no_home")
def test_mindmovie_config_under_a_home_folder_that_is_not_there_says_so(tmp_path: Path) -> None:
    """MINDMOVIE_CONFIG=~/c.yaml with no home folder (HOME unset, the user id not in the
    password database) was said "~/c.yaml: config file not found (named by
    MINDMOVIE_CONFIG)", of a file that is in the person's home."""
    with pytest.raises(ConfigError) as e:
        load_settings(None, env={"MINDMOVIE_CONFIG": "~/c.yaml"})
    assert str(e.value).startswith(
        "~/c.yaml: config file not found (named by MINDMOVIE_CONFIG; ~ is not a folder here: "
        "no home folder: HOME is not set"
    ), e.value


def test_a_base_url_refused_says_no_credentials_written_into_it(tmp_path: Path) -> None:
    """A proxy's base_url can hold its credentials (`https://user:token@proxy/api/v3`,
    `?key=...`): a refused one was quoted whole, in a message a person pastes when asking
    for help. The address is said without them; one that is fine is used as set."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "providers:\n  google:\n    base_url: 'https://me:tok3n@proxy/api v3?key=s3cret'\n"
    )
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    said = str(e.value)
    assert "providers.google.base_url: must be an http" in said, said
    assert "tok3n" not in said and "s3cret" not in said, said
    assert "https://<not shown>@proxy/api v3?key=<not shown>" in said, said
    good = "https://me:tok3n@proxy/v1beta?key=s3cret&region=eu"  # google-genai sends it
    cfg.write_text(f"providers:\n  google:\n    base_url: '{good}'\n")
    assert load_settings(cfg, env={}).providers.google.base_url == good


@pytest.mark.parametrize("provider", ["anthropic", "byteplus"])
@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("https://me:tok3n@proxy.example/api/v3", "a user name and password"),
        ("https://proxy.example/api/v3?key=s3cret", "a query"),
        ("https://proxy.example/api/v3?region=eu", "a query"),
        ("https://proxy.example/api/v3?", "a query"),
    ],
    ids=["user", "key", "query", "bare-question-mark"],
)
def test_a_base_url_its_sdk_cannot_call_is_refused_up_front(
    tmp_path: Path, provider: str, url: str, what: str
) -> None:
    """The Anthropic and Ark SDKs add each call's path after base_url as text and send
    their key in a header: a query went into every path (`/api/v3?key=.../contents/
    generations/tasks`, a 404 said as "the model ... does not exist") and httpx made
    `user:password@` an Authorization header (HTTP 401 said as a bad ARK_API_KEY),
    after the plan was paid for (seen against tests/sim). Refused before anything is
    sent, naming the setting and where a proxy's credentials go, without them."""
    cfg, said = _refused(tmp_path, f"providers:\n  {provider}:\n    base_url: '{url}'\n")
    assert said.startswith(f"{cfg}:3: providers.{provider}.base_url: has {what}"), said
    assert "HTTPS_PROXY" in said, said
    assert "tok3n" not in said and "s3cret" not in said, said
    cfg.write_text(f"providers:\n  {provider}:\n    base_url: 'https://proxy.example/api/v3'\n")
    assert load_settings(cfg, env={}).providers.model_dump()[provider]["base_url"]


def test_a_base_url_s_password_holding_an_at_sign_is_hidden_whole() -> None:
    """The host of `https://me:p@ss@proxy/...` is what follows the last `@` (as urlsplit
    and the SDKs read it): hiding up to the first one kept `ss@` of the password in
    run.db's settings and in messages. An address with no credentials is unchanged."""
    from mindmovie.config import hide_url_secrets

    assert hide_url_secrets("https://me:p@ss@[::1]:8443/v1") == "https://<not shown>@[::1]:8443/v1"
    assert hide_url_secrets("see http://[::1]:8797/v1 a@b") == "see http://[::1]:8797/v1 a@b"


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        # a proxy without its scheme (httpx takes it as http://): doctor's row said it
        ("HTTPS_PROXY=user:pw9@127.0.0.1:3128", "HTTPS_PROXY=<not shown>@127.0.0.1:3128"),
        ("got 'user:pw9@127.0.0.1:9'", "got '<not shown>@127.0.0.1:9'"),
        ("http:/user:pw9@h:9", "http:/<not shown>@h:9"),  # a slash short
        # a quote is a password's character too (run.db's settings held it whole)
        ("http://u:pw'9x@h:9/v1", "http://<not shown>@h:9/v1"),
        ("http://me:p@ss@[::1]:8443/v1", "http://<not shown>@[::1]:8443/v1"),
        ("proxy me:p@ss@[::1]:8443", "proxy <not shown>@[::1]:8443"),
        # past the bounds of a first version (found by review): a long password, many @s,
        # a name starting with _ or a digit, a " in it, odd brackets around
        ("proxy=user:" + "x" * 600 + "@proxy.example:3128", "proxy=<not shown>@proxy.example:3128"),
        ("https://user:" + "t" * 600 + "@p.example/v1", "https://<not shown>@p.example/v1"),
        ('https://user:pa"ss@p.example/v1', "https://<not shown>@p.example/v1"),
        ("_svc:pw@h.example 1user:pw@h.example", "<not shown>@h.example <not shown>@h.example"),
        ("user:a@b@c@d@e@f@host", "<not shown>@host"),
        (
            "[user:pw@host] <u:pw@host> x;u:pw@host:1 u:pw@host!",
            "[<not shown>@host] <<not shown>@host> x;<not shown>@host:1 <not shown>@host!",
        ),
        # text that holds no credentials is left as it is
        ("mail me@example.com, or a@b", "mail me@example.com, or a@b"),  # no password
        ("at 10:25:48@host, image python:3.12@sha256:9f86d0",) * 2,
        ("[2001:db8::1]@host Stream #0:0@ok", "[2001:db8::1]@host Stream #0:0@ok"),
    ],
)
def test_credentials_written_in_an_address_of_another_form_are_hidden(
    written: str, shown: str
) -> None:
    """A user name and password written without a scheme, a slash short of one, or
    holding a quote were said (doctor's proxy row, an error quoting a base_url) or kept
    in run.db whole."""
    from mindmovie.config import hide_url_secrets

    assert hide_url_secrets(written) == shown


@pytest.mark.parametrize(
    "url", ["user:pw9@127.0.0.1:9", "http://user:pw 9@127.0.0.1:9", "http://u:p'9@h:bad"]
)
def test_a_base_url_refused_is_quoted_without_its_credentials(url: str, tmp_path: Path) -> None:
    """A base_url refused (no scheme, a blank in its password, a bad port) was quoted
    whole by its error, password and all."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f'providers:\n  google:\n    base_url: "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert "must be an http:// or https:// address" in str(e.value)
    assert "pw" not in str(e.value) and "p'9" not in str(e.value), str(e.value)
    assert "<not shown>@" in str(e.value), str(e.value)


def test_a_query_parameter_s_name_ends_at_the_next_delimiter() -> None:
    """Every provider error goes through hide_keys. The query-parameter pattern let a
    parameter's name run over `;` and `?`, so each of them began a scan to the end of the
    text: a proxy's answer of 20,000 `;` (minified CSS, an HTML error page) took 12.7 s
    (0.002 s now, measured by hand; speed is not asserted here). A name ends at the next
    delimiter, so a secret after one is hidden, and text that only runs into a
    secret's name over a delimiter is left."""
    from mindmovie.config import hide_url_secrets

    assert hide_url_secrets("https://p/v1?a;x_key=1&c?token=3") == (
        "https://p/v1?a;x_key=<not shown>&c?token=<not shown>"
    )
    # "a;b" is no name holding "key"; nor is "x?y" one holding "token"
    assert hide_url_secrets("https://p/v1?key;a=1") == "https://p/v1?key;a=1"
    assert hide_url_secrets("https://p/v1?token?b=2") == "https://p/v1?token?b=2"


@pytest.mark.parametrize(
    ("var", "setting"),
    [
        ("MINDMOVIE_PROVIDERS_BYTEPLUS__TIMEOUT", "providers.byteplus.timeout"),
        ("MINDMOVIE_VIDEO_OPTIONS__FOO", "video.options.foo"),
    ],
)
def test_a_variable_with_one_underscore_before_its_block_is_told_the_setting_not_the_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, var: str, setting: str
) -> None:
    """`MINDMOVIE_PROVIDERS_BYTEPLUS__TIMEOUT=30` (one underscore between providers and
    byteplus) was told "it is providers.byteplus: set MINDMOVIE_PROVIDERS__BYTEPLUS",
    the whole block's variable, which is refused next as not a block (as
    `MINDMOVIE_VIDEO_OPTIONS__FOO` was told MINDMOVIE_VIDEO__OPTIONS). It names the
    setting's variable."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as e:
        load_settings(None, env={var: "30"})
    name = var.split("__")[0].removeprefix("MINDMOVIE_").lower()
    fixed = "MINDMOVIE_" + "__".join(setting.split(".")).upper()
    assert str(e.value) == (
        f"environment ({var}): {name}: unknown setting here; it is {setting}: set {fixed}"
    )
    monkeypatch.undo()
    assert load_settings(None, env={fixed: "30"}) is not None  # the variable named is read


def test_a_setting_variable_with_mindmovie_in_lower_case_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mindmovie_output__fps=30` is not read (only MINDMOVIE_ in capitals is): it was
    ignored without a word and the movie made at 24 fps. Each command that reads the
    environment now names it and the spelling that is read, doctor as a row; the
    setting is still not taken from it."""
    from mindmovie.init_goals import write_template

    monkeypatch.chdir(tmp_path)
    for name in ("MINDMOVIE_PRESET", "MINDMOVIE_CONFIG", "MINDMOVIE_OUTPUT__FPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("mindmovie_output__fps", "30")
    goals = write_template(tmp_path)
    said = (
        "warning: mindmovie_output__fps is not read: mindmovie reads only variables whose "
        "names start with MINDMOVIE_ in capitals; set MINDMOVIE_OUTPUT__FPS"
    )
    code, _, err = _invoke(["estimate", str(goals)])
    assert code == 0 and err.count(said) == 1, err
    code, out, _ = _invoke(["doctor"])
    assert "mindmovie_output__fps is not read" in out, out
    assert load_settings().output.fps == 24
    monkeypatch.delenv("mindmovie_output__fps")
    code, _, err = _invoke(["estimate", str(goals)])
    assert code == 0 and "is not read" not in err, err


def test_a_dotenv_given_as_the_config_file_is_told_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--config .env` said ".env:1: the top level must be a mapping of settings ..., got
    a single value" (a .env's lines are one YAML string). It is told what the config
    file is and where a .env is read from: here, by itself (so leave --config out), or
    only from the folder mindmovie runs in, for one elsewhere; no value of it shown."""
    monkeypatch.chdir(tmp_path)
    dotenv = "# keys\nANTHROPIC_API_KEY=sk-ant-secret\nexport MINDMOVIE_OUTPUT__FPS=30\n"
    (tmp_path / ".env").write_text(dotenv, encoding="utf-8")
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "my.env").write_text(dotenv, encoding="utf-8")
    start = "this is a .env file (NAME=value lines), not a config file; --config takes a YAML "
    with pytest.raises(ConfigError) as e:
        load_settings(Path(".env"), env={})
    assert str(e.value) == (
        f".env: {start}file of settings (`name: value` lines, e.g. `preset: local`); this one "
        "is read by itself already, from the folder you run mindmovie from: leave out --config"
    ), e.value
    with pytest.raises(ConfigError) as e:
        load_settings(Path("keys/my.env"), env={})
    assert str(e.value).startswith(f"keys/my.env: {start}"), e.value
    assert str(e.value).endswith(
        f"a .env is read by itself only from the folder you run mindmovie from "
        f"({tmp_path / '.env'}): put these lines there, or export them"
    ), e.value
    with pytest.raises(ConfigError) as e:
        load_settings(env={"MINDMOVIE_CONFIG": ".env"})
    assert "(named by MINDMOVIE_CONFIG); MINDMOVIE_CONFIG takes a YAML" in str(e.value)
    assert str(e.value).endswith("unset MINDMOVIE_CONFIG"), e.value
    code, _, err = _invoke(["doctor", "--config", ".env"])
    assert code == 2 and f"error: .env: {start}" in err and "secret" not in err, err
    # a YAML settings file stays one
    (tmp_path / "c.yaml").write_text("# NAME=value\noutput:\n  fps: 30\n", encoding="utf-8")
    assert load_settings(Path("c.yaml"), env={}).output.fps == 30
    # settings written with = for : are YAML gone wrong, not a .env
    (tmp_path / "c.yaml").write_text("preset=byteplus\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_settings(Path("c.yaml"), env={})
    assert ".env" not in str(e.value) and "top level must be a mapping" in str(e.value)


@pytest.mark.parametrize("value", ["-3", "0", "soon", "1.5"])
def test_a_task_lifetime_not_above_zero_is_told_what_is_allowed(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`video.options.execution_expires_after: -3` was refused as "-3 is not allowed;
    allowed a whole number of seconds", which -3 is: the bound is said. Before anything
    is paid (estimate refuses it as render does), naming the file and line."""
    from mindmovie.init_goals import write_template

    monkeypatch.chdir(tmp_path)
    goals = write_template(tmp_path)
    (tmp_path / "c.yaml").write_text(
        f"preset: byteplus\nvideo:\n  options:\n    execution_expires_after: {value}\n",
        encoding="utf-8",
    )
    code, _, err = _invoke(["estimate", str(goals), "-c", "c.yaml"])
    assert code == 2, err
    shown = repr(value) if value == "soon" else value  # (YAML reads the rest as numbers)
    assert err.startswith(
        f"error: c.yaml:4: video.options.execution_expires_after: {shown} is not allowed; "
        "allowed a whole number of seconds, at least 1"
    ), err


def test_a_config_yaml_beside_goals_yaml_that_is_not_read_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """goals.yaml and config.yaml kept in one folder, mindmovie run from another: the
    config file read is ./config.yaml, so its settings (its preset, its budget_usd) were
    dropped without a word. render, plan and estimate warn, naming it and what to do;
    not when --config, MINDMOVIE_CONFIG or a ./config.yaml says which file is read."""
    from mindmovie.init_goals import write_template

    proj, here = tmp_path / "proj", tmp_path / "here"
    here.mkdir()
    goals = write_template(proj)
    (proj / "config.yaml").write_text("output:\n  fps: 30\n", encoding="utf-8")
    monkeypatch.chdir(here)
    monkeypatch.delenv("MINDMOVIE_CONFIG", raising=False)
    said = (
        "warning: ../proj/config.yaml, beside goals.yaml, is not read: the config file read "
        f"is config.yaml in the folder you run mindmovie from ({here}, which has none); give "
        "it with --config ../proj/config.yaml, or run mindmovie from ../proj"
    )
    goals = Path("../proj/goals.yaml")  # as a person gives it
    for args in (["estimate", str(goals)], ["plan", str(goals)],
                 ["render", str(goals), "-q", "--until", "plan"]):  # fmt: skip
        code, _, err = _invoke(args)
        assert code == 0 and err.count(said) == 1, (args, err)
    # and the commands that check goals.yaml against the settings: doctor, status (the
    # run's goals.yaml, as recorded: its absolute path), storyboard --goals
    (run,) = (here / "outputs").iterdir()
    for args in (["doctor", str(goals)], ["status", str(run)],
                 ["storyboard", str(run), "--goals", str(goals)]):  # fmt: skip
        code, _, err = _invoke(args)
        assert code == 0 and err.count("config.yaml, beside goals.yaml, is not read") == 1, (
            args,
            err,
        )
    for args in (["estimate", str(goals), "-c", str(proj / "config.yaml")],):
        code, _, err = _invoke(args)
        assert code == 0 and "is not read" not in err, err
    monkeypatch.setenv("MINDMOVIE_CONFIG", str(proj / "config.yaml"))
    code, _, err = _invoke(["estimate", str(goals)])
    assert code == 0 and "is not read" not in err, err
    monkeypatch.delenv("MINDMOVIE_CONFIG")
    (here / "config.yaml").write_text("output:\n  fps: 25\n", encoding="utf-8")
    code, _, err = _invoke(["estimate", str(goals)])
    assert code == 0 and "is not read" not in err, err
    monkeypatch.chdir(proj)  # run from goals.yaml's own folder: it is the one read
    code, _, err = _invoke(["estimate", "goals.yaml"])
    assert code == 0 and "is not read" not in err, err


@pytest.mark.parametrize("key", ["music", "title", "style"])
def test_a_goals_key_in_the_config_file_is_told_to_go_in_goals_yaml(
    key: str, tmp_path: Path
) -> None:
    """`music: song.mp3` in config.yaml said "music: unknown setting (allowed here:
    preset, output_dir, ...)", not that it is written in goals.yaml."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"preset: local\n{key}: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == (
        f"{cfg}:2: {key}: unknown setting: {key} is written in goals.yaml, not in the settings"
    ), e.value


def test_a_config_yaml_beside_goals_yaml_is_said_when_run_from_a_removed_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from a folder since removed, `render --out` works; the config.yaml beside
    goals.yaml was dropped without a word there (a 720p render of a 160x90 config; its
    budget_usd would go too), where from any other folder it is said."""
    from mindmovie.init_goals import write_template

    goals = write_template(tmp_path / "proj")
    (tmp_path / "proj" / "config.yaml").write_text("output:\n  fps: 30\n", encoding="utf-8")
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    monkeypatch.delenv("MINDMOVIE_CONFIG", raising=False)
    gone.rmdir()
    code, _, err = _invoke(["estimate", str(goals), "--out", str(tmp_path / "o")])
    assert code == 0, err
    assert (
        f"warning: {tmp_path}/proj/config.yaml, beside goals.yaml, is not read: the config "
        "file read is config.yaml in the folder you run mindmovie from (which no longer "
        f"exists); give it with --config {tmp_path}/proj/config.yaml"
    ) in err, err


@pytest.mark.parametrize(
    ("where", "around"),
    [
        ("providers.byteplus.base_url", "{}"),
        ("providers.byteplus.timeout", "{}"),
        ("providers.byteplus.base_url", "Bearer {}"),
        ("providers.byteplus.timeout", "key={}"),
    ],
)
def test_a_key_shaped_value_in_a_setting_is_not_said_back(
    where: str, around: str, tmp_path: Path
) -> None:
    """An Ark key (a UUID's shape, which hide_keys does not know) pasted into a setting,
    alone or with words around it, was quoted whole by its error ("got '3f1c2a9e-...'")."""
    key = "3f1c2a9e-7b4d-4e21-9a0c-5d6e7f8a9b0c"
    *block, name = where.split(".")
    cfg = tmp_path / "c.yaml"
    value = around.format(key)
    cfg.write_text(f"{block[0]}:\n  {block[1]}:\n    {name}: '{value}'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert key not in str(e.value) and "shaped as a key" in str(e.value), str(e.value)


def test_a_key_set_only_in_dotenv_is_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key set only in ./.env (the variable unset) is hidden as one in the environment
    is: an Ark key has no shape `hide_keys` knows (a UUID's), so only its place tells it.
    Every "not shown" test set its keys in the environment (or used shapes hide_keys
    knows): reading .env's could be dropped with no test failing."""
    from mindmovie.config import hide_keys
    from mindmovie.providers.base import ProviderError

    key = "3f6c1a2b-9e21-4d3c-8a5b-0c5a8d4f7b10"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARK_API_KEY", raising=False)
    (tmp_path / ".env").write_text(f"ARK_API_KEY={key}\n")
    said = str(ProviderError(f"HTTP 401: invalid key {key}", provider="byteplus"))
    assert key not in said and "<the key in ARK_API_KEY, not shown>" in said, said
    assert hide_keys(f"got {key}") == "got <the key in ARK_API_KEY, not shown>"
