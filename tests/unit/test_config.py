"""Settings precedence and errors: env < config.yaml < flags; prefix-only env; keys hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from mindmovie.config import ConfigError, Keys, load_settings


def test_defaults_are_the_offline_preset() -> None:
    s = load_settings(env={})
    assert s.preset == "local"
    assert (s.output.aspect, s.output.resolution, s.output.fps) == ("16:9", "720p", 24)
    assert s.stage_provider("video") == "local"


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


def test_unprefixed_variables_are_ignored() -> None:
    s = load_settings(env={"FPS": "5", "PRESET": "google", "MODEL": "x"})
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


def test_the_shipped_example_config_loads_as_documented() -> None:
    """config.example.yaml is what a person copies: it must load, and mean what it says
    (e.g. `max_concurrent: 0` for local = one per CPU)."""
    import os

    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    s = load_settings(example, env={})
    assert s.preset == "local"
    assert s.providers.local.max_concurrent == (os.cpu_count() or 2)
    assert s.providers.byteplus.poll_interval == 2 and s.providers.byteplus.poll_max_interval == 15


def test_max_concurrent_zero_means_cpu_count_and_negative_is_refused(tmp_path: Path) -> None:
    import os

    cfg = tmp_path / "c.yaml"
    cfg.write_text("providers:\n  byteplus:\n    max_concurrent: 0\n")
    assert load_settings(cfg, env={}).providers.byteplus.max_concurrent == (os.cpu_count() or 2)
    cfg.write_text("providers:\n  byteplus:\n    max_concurrent: -1\n")
    with pytest.raises(ConfigError, match="max_concurrent"):
        load_settings(cfg, env={})
