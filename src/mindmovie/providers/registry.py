"""Provider name -> factory. SDKs are imported lazily, so the offline path never loads them."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any, NoReturn

from mindmovie.config import ConfigError, Keys, Settings
from mindmovie.providers.base import KeyframeModel, Planner, VideoModel

#: stage -> provider -> "module:Class"
FACTORIES: dict[str, dict[str, str]] = {
    "planner": {
        "local": "mindmovie.providers.local:LocalPlanner",
        "anthropic": "mindmovie.providers.anthropic:ClaudePlanner",
    },
    "keyframes": {
        "local": "mindmovie.providers.local_media:LocalKeyframes",
        "byteplus": "mindmovie.providers.byteplus:SeedreamKeyframes",
        "google": "mindmovie.providers.google:GeminiKeyframes",
    },
    "video": {
        "local": "mindmovie.providers.local_media:LocalMotion",
        "byteplus": "mindmovie.providers.byteplus:SeedanceVideo",
        "google": "mindmovie.providers.google:VeoVideo",
    },
}


def lists_jobs(provider: str) -> bool:
    """Can `provider`'s video model list the jobs made (`find_pending`)? Only then can a
    create whose answer was lost be looked for, and waited for, by a render: Veo lists
    no operations, so such a create's outcome stays unknown and the clip is made again."""
    path = FACTORIES["video"].get(provider)
    if path is None or provider == "local":
        return False
    module_name, cls_name = path.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return False
    return hasattr(getattr(module, cls_name), "find_pending")


def job_origin(
    provider: str, settings: Settings, keys: Keys, salt: bytes
) -> tuple[dict[str, str], dict[str, str]] | None:
    """Where `provider` makes a video job with these settings and keys (the fields that
    decide which jobs a poll can see; a key only as a salted one-way fingerprint), and
    what each field is called in a message; None for a provider that has no such notion
    (local) or whose SDK is missing."""
    path = FACTORIES["video"].get(provider)
    if path is None or provider == "local":
        return None
    try:
        module = importlib.import_module(path.split(":")[0])
    except ModuleNotFoundError:
        return None
    if not hasattr(module, "job_origin"):
        return None
    origin: dict[str, str] = module.job_origin(settings, keys, salt)
    names: dict[str, str] = module.ORIGIN_NAMES
    return origin, names


def _load(stage: str, settings: Settings, keys: Keys | None) -> Any:
    provider = settings.stage_provider(stage)  # type: ignore[arg-type]
    table = FACTORIES[stage]
    if provider not in table:
        raise ConfigError(
            f"{stage}.provider: unknown provider '{provider}'; allowed: {', '.join(sorted(table))}"
        )
    module_name, cls_name = table[provider].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        raise ConfigError(f"{stage}: provider '{provider}' is not available ({e})") from None
    cls = getattr(module, cls_name)
    if provider == "local":
        return cls()
    return cls.from_settings(settings, keys or Keys.from_env())


class KeyNotSet(ConfigError):
    """A provider's key is not set, met where the provider was to be called: raised by a
    `Keyless` placeholder with the very message building the provider gave."""


class Keyless:
    """Stands in for a provider whose key is not set, built for a render that calls no such
    provider (every step of its stages is reused: `Pipeline._providers_needed`). A person
    who only edited an affirmation, or moved the run folder to a machine without the
    key, was refused a render that sends nothing. It has the real model's name, model id
    and catalog entry (a step's input key holds them: the reuse checks must see the same
    model), and the real class's shape (what the render asks with getattr/hasattr is
    answered alike); every call of it raises `KeyNotSet` with the missing-key message
    the person would have got, before anything is sent: the safety net for a render
    that needs the provider after all (plan.yaml or run.db changed since they were read)."""

    def __init__(self, real: type, name: str, model: str, spec: Any, error: ConfigError) -> None:
        self._real = real
        self.name = name
        self.model = model
        self.spec = spec
        self.error = error

    def refuse(self) -> NoReturn:
        """Raise the missing-key error: a fresh one each time (each scene's own)."""
        raise KeyNotSet(str(self.error))

    def __getattr__(self, attr: str) -> Any:
        """The real class's attributes: its constants as they are, its methods (and
        properties) refusing. Not the real class's: not here either (hasattr False)."""
        if attr.startswith("_") or not hasattr(self._real, attr):
            raise AttributeError(attr)
        static = inspect.getattr_static(self._real, attr)
        if isinstance(static, property):
            self.refuse()
        value = getattr(self._real, attr)
        if not callable(value):
            return value  # e.g. result_url_seconds
        if inspect.iscoroutinefunction(value):

            async def refused_async(*args: Any, **kwargs: Any) -> NoReturn:
                self.refuse()

            return refused_async

        def refused(*args: Any, **kwargs: Any) -> NoReturn:
            self.refuse()

        return refused

    async def aclose(self) -> None:
        """Nothing to close: no client was made."""


def keyless(stage: str, settings: Settings, model: str, spec: Any, error: ConfigError) -> Keyless:
    """A `Keyless` for `stage`'s provider in `settings`, shaped as its real model class."""
    provider = settings.stage_provider(stage)  # type: ignore[arg-type]
    module_name, cls_name = FACTORIES[stage][provider].split(":")
    real = getattr(importlib.import_module(module_name), cls_name)
    return Keyless(real, provider, model, spec, error)


def make_planner(settings: Settings, keys: Keys | None = None) -> Planner:
    planner: Planner = _load("planner", settings, keys)
    return planner


def make_keyframes(settings: Settings, keys: Keys | None = None) -> KeyframeModel:
    model: KeyframeModel = _load("keyframes", settings, keys)
    return model


def make_video(settings: Settings, keys: Keys | None = None) -> VideoModel:
    model: VideoModel = _load("video", settings, keys)
    return model


#: provider -> module whose `check_options(settings, stage)` makes the checks of a stage's
#: options its model's construction makes, without a key or a request
OPTION_CHECKS: dict[str, str] = {
    "anthropic": "mindmovie.providers.anthropic",
    "byteplus": "mindmovie.providers.byteplus",
    "google": "mindmovie.providers.google",
}


def key_options(
    stage: str, provider: str, options: Mapping[str, Any], model: str | None = None
) -> dict[str, Any]:
    """The `options` of `stage` an input key holds: those that change what `provider`
    makes (`byteplus.clip_key_options` for Seedance clips, `keyframe_key_options` for
    Seedream and SeedEdit keyframes, by `model`; for google every option but one set to
    null, which its client sends as not set: `image_size: null` bought every finished
    keyframe again with the very same request), none for local (which takes none), else
    all as written."""
    if provider == "byteplus" and stage in ("keyframes", "video"):
        from mindmovie.providers import byteplus

        if stage == "video":
            return byteplus.clip_key_options(options)
        return byteplus.keyframe_key_options(options, model)
    if provider == "google":
        return {k: v for k, v in options.items() if v is not None}
    if provider == "local":
        # it takes none (said as ignored, `pipeline.ignored_settings`): any set made
        # every free keyframe or clip again, and so did each change of them
        return {}
    return dict(options)


def check_options(settings: Settings) -> None:
    """Raise the ConfigError `render` would for a stage's options (a misspelt option, a
    value of the wrong type), for the commands that build no provider: doctor, estimate
    and status. A provider whose SDK is not installed is left to say so where it is used."""
    for stage in ("planner", "keyframes", "video"):
        module_name = OPTION_CHECKS.get(settings.stage_provider(stage))
        if module_name is None:
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # the SDK is missing or broken: said where it is used
            continue
        module.check_options(settings, stage)
