"""Settings: one TOML file validated on load, secrets only from the environment.

Resolution order (as praw's config.py): explicit arguments, then environment variables
(`RADPULSE_CONFIG`, `RADPULSE_DATABASE_URL` and the secret variables below), then the TOML file,
then the packaged defaults (`radpulse/default_config.toml`). Nothing else in radpulse reads
`os.environ`: collectors ask `settings.secret(NAME)`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from radpulse.errors import ConfigError
from radpulse.safetext import Limits, set_limits

log = logging.getLogger(__name__)

#: every secret radpulse reads, all from environment variables, never from the file
SECRET_ENV = (
    "X_BEARER_TOKEN",
    "REDDIT_CLIENT_ID",
    "REDDIT_CLIENT_SECRET",
    "BLUESKY_HANDLE",
    "BLUESKY_APP_PASSWORD",
    "NCBI_API_KEY",
    "RADPULSE_SMTP_PASSWORD",
    "RADPULSE_EXPORT_KEY",
    "RADPULSE_DASHBOARD_USER",
    "RADPULSE_DASHBOARD_PASSWORD",
)
#: Mastodon access tokens are per instance: RADPULSE_MASTODON_TOKEN_<INSTANCE> with
#: non-alphanumerics as '_', e.g. RADPULSE_MASTODON_TOKEN_MED_MASTODON_COM
MASTODON_TOKEN_PREFIX = "RADPULSE_MASTODON_TOKEN_"

DEFAULT_CONFIG_TEMPLATE = Path(__file__).with_name("default_config.toml")


def default_config_path() -> Path:
    """~/.config/radpulse/radpulse.toml (XDG_CONFIG_HOME honoured)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "radpulse" / "radpulse.toml"


def default_data_dir() -> Path:
    """~/.local/share/radpulse (XDG_DATA_HOME honoured)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "radpulse"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class DatabaseSettings(Section):
    #: SQLAlchemy URL; empty means the embedded SQLite file in the data directory
    url: str = ""
    #: collected items written per transaction (whole API pages, with their cursor); a crash
    #: of the process loses at most this many items, which the next run fetches again
    commit_items: int = Field(1000, ge=0, le=100_000)

    @model_validator(mode="before")
    @classmethod
    def _drop_retired_keys(cls, data: Any) -> Any:
        """Files written by earlier `radpulse init`s have `batch_size`, which nothing ever read."""
        if isinstance(data, dict) and "batch_size" in data:
            log.warning("[database] batch_size is no longer used (nothing read it); remove it from the config file.")
            data = {k: v for k, v in data.items() if k != "batch_size"}
        return data


#: longest feed or PubMed query name: it becomes the source name "feed:<name>" (VARCHAR(300))
MAX_SOURCE_NAME = 200


class RefreshSettings(Section):
    #: engagement of posts younger than this is refreshed
    max_age_days: int = Field(7, ge=0)
    #: older posts are re-checked for deletion at the source at least this often (0: never)
    deletion_sweep_days: int = Field(30, ge=0)
    #: at most this many older posts per platform in one sweep run (X bills every read)
    deletion_batch: int = Field(1000, ge=1)


class ScheduleSettings(Section):
    timezone: str = "UTC"
    collect_every_minutes: int = Field(60, ge=5)
    refresh_every_hours: int = Field(6, ge=1)
    analyze_every_minutes: int = Field(60, ge=5)
    digest_cron: str = "0 7 * * mon"
    #: minutes between collections of a platform's sources ("x") or of one source ("x:#Radiology");
    #: a platform not named here uses its own default (collectors/<p>/source.py)
    source_intervals: dict[str, int] = {}
    #: each collection starts up to this many seconds late, so sources and processes spread out
    jitter_seconds: int = Field(60, ge=0, le=3600)

    @field_validator("source_intervals")
    @classmethod
    def _positive_intervals(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [k for k, v in value.items() if v < 1]
        if bad:
            raise ValueError(f"intervals are whole minutes of at least 1 (not for {', '.join(bad)})")
        return value
    #: a scheduled job still running after this long is stopped and recorded as failed
    job_budget_minutes: float = Field(50, gt=0, le=24 * 60, allow_inf_nan=False)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError("not a known time zone; use an IANA name such as 'UTC' or 'Europe/London'") from None
        return value


class LimitsSettings(Section):
    """Largest record radpulse stores (`radpulse.safetext.Limits`); bigger ones are quarantined."""

    max_text_chars: int = Field(100_000, ge=1_000)
    max_field_chars: int = Field(10_000, ge=100)
    max_list_items: int = Field(1_000, ge=10)
    max_record_bytes: int = Field(4 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)


class DigestSettings(Section):
    enabled: bool = True
    title: str = "radpulse weekly"
    top_n: int = Field(10, ge=1, le=100)
    base_url: str = "http://localhost:8050"


class SmtpSettings(Section):
    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    username: str = ""
    starttls: bool = False
    ssl: bool = False
    from_address: str = "radpulse@localhost"
    #: a finite number of seconds (inf or nan would let one dead server hang a run)
    timeout_seconds: float = Field(30, gt=0, le=3600, allow_inf_nan=False)
    #: a message the server could not take now (4xx, connection lost before DATA) is tried again
    #: this many times, after retry_seconds, then twice that, ...; then recorded as failed
    retries: int = Field(3, ge=0, le=10)
    retry_seconds: float = Field(5, ge=0, le=600, allow_inf_nan=False)


class AlertsSettings(Section):
    """Operator alerts (a source failing again and again) and subscribers' spike alerts."""

    #: addresses told when a job fails `failures_before_alert` times in a row, and when it recovers
    operators: list[str] = []
    failures_before_alert: int = Field(3, ge=1, le=1000)
    #: spike alerts: a subject's daily volume against the median and MAD of the days before
    spike_enabled: bool = True
    baseline_days: int = Field(28, ge=7, le=365)
    threshold: float = Field(3.5, gt=0, le=100, allow_inf_nan=False)
    min_posts: int = Field(5, ge=1)
    alerts_cron: str = "0 8 * * *"


class HealthSettings(Section):
    """`radpulse run` serves /healthz and /metrics here (port 0: not served)."""

    host: str = "127.0.0.1"
    port: int = Field(9108, ge=0, le=65535)


class NetworkSettings(Section):
    """Deadlines of every request and the SSRF guard (collectors/http.py)."""

    connect_timeout_seconds: float = Field(10, gt=0, le=600, allow_inf_nan=False)
    read_timeout_seconds: float = Field(30, gt=0, le=3600, allow_inf_nan=False)
    #: the whole request, connecting to the last byte (a server dripping bytes is cut off here)
    request_deadline_seconds: float = Field(120, gt=0, le=3600, allow_inf_nan=False)
    #: follow URLs not written by the operator (redirects, links in posts) to private,
    #: loopback and link-local addresses: only for tests and intranet feeds
    allow_private_hosts: bool = False


class DashboardSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8050, ge=1, le=65535)


class Settings(Section):
    """The whole validated configuration; `path` is the file it came from (None: defaults).

    The core sections are declared here; each collector's section ([x], [reddit], [[feeds]],
    ...) is declared by its platform (`radpulse.collectors.registry`), and `settings_model()`
    builds the class that holds them all, so `settings.x` is the validated [x] section.
    """

    model_config = ConfigDict(extra="forbid", validate_default=True)

    database: DatabaseSettings = DatabaseSettings()
    refresh: RefreshSettings = RefreshSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    digest: DigestSettings = DigestSettings()
    smtp: SmtpSettings = SmtpSettings()
    dashboard: DashboardSettings = DashboardSettings()
    limits: LimitsSettings = LimitsSettings()
    alerts: AlertsSettings = AlertsSettings()
    health: HealthSettings = HealthSettings()
    network: NetworkSettings = NetworkSettings()

    # not from the file
    path: Path | None = Field(None, exclude=True)
    env: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)

    def section(self, name: str) -> Any:
        """The validated config section `name` (a collector's, or a core one)."""
        return getattr(self, name)

    def secret(self, name: str) -> str | None:
        """The secret `name` from the environment captured at load time (None when unset)."""
        value = self.env.get(name)
        return value or None

    def mastodon_token(self, instance: str) -> str | None:
        """The access token for a Mastodon instance, if one is set."""
        return self.secret(mastodon_token_env(instance))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its data (its class is built at run time by `settings_model()`), so a child
        process (radpulse/child_jobs.py) gets the same settings."""
        return (_settings_again, (self.model_dump(), self.path, self.env))

    @property
    def database_url(self) -> str:
        """The effective database URL: RADPULSE_DATABASE_URL, then the file, then SQLite."""
        url = self.env.get("RADPULSE_DATABASE_URL") or self.database.url
        if url:
            return url
        return f"sqlite:///{default_data_dir() / 'radpulse.db'}"


_MODEL: list[type[Settings]] = []


def settings_model() -> type[Settings]:
    """Settings with one field per declared platform's section (rebuilt when the registry changes)."""
    if not _MODEL:
        from radpulse.collectors import registry

        if _reset not in registry.on_change:
            registry.on_change.append(_reset)
        fields: dict[str, Any] = {
            p.section: (p.settings_type(), Field(default_factory=p.default_settings))
            for p in registry.declared_platforms()
        }
        _MODEL.append(create_model("Settings", __base__=Settings, __module__=__name__, **fields))
    return _MODEL[0]


def _settings_again(data: dict[str, Any], path: Path | None, env: dict[str, str]) -> Settings:
    return settings_from_dict(data, path=path, environ=env)


def _reset() -> None:
    _MODEL.clear()


def mastodon_token_env(instance: str) -> str:
    """The environment variable holding the token for `instance`."""
    return MASTODON_TOKEN_PREFIX + "".join(c if c.isalnum() else "_" for c in instance).upper()


def _captured_env(environ: dict[str, str] | None) -> dict[str, str]:
    environ = dict(os.environ if environ is None else environ)
    keep = set(SECRET_ENV) | {"RADPULSE_DATABASE_URL"}
    return {k: v for k, v in environ.items() if k in keep or k.startswith(MASTODON_TOKEN_PREFIX)}


def _describe(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def settings_from_dict(
    data: dict[str, Any], *, path: Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Validate `data` (parsed TOML) into Settings; errors name the key, the file and the need."""
    where = str(path) if path else "the configuration"
    try:
        settings = settings_model().model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = _describe(err["loc"])
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check its spelling and section)"
            got = err.get("input")
            shown = "" if err["type"] in ("missing", "extra_forbidden") else f" (got {got!r})"
            lines.append(f"  {key}: {msg}{shown}")
        raise ConfigError(
            f"Invalid configuration in {where}:\n" + "\n".join(lines),
            hint=f"\nEdit {where} and fix the key(s) above; `radpulse init --force` writes a fresh "
            "commented file.",
        ) from None
    settings.path = path
    settings.env = _captured_env(environ)
    # the caps every collected record is checked against as it is built (radpulse.records)
    set_limits(Limits(**settings.limits.model_dump()))
    return settings


def load_settings(
    path: str | Path | None = None, *, environ: dict[str, str] | None = None
) -> Settings:
    """Load and validate the config file; without a file, the packaged defaults."""
    env = os.environ if environ is None else environ
    explicit = path is not None or bool(env.get("RADPULSE_CONFIG"))
    cfg = Path(path or env.get("RADPULSE_CONFIG") or default_config_path()).expanduser()
    if not cfg.exists():
        if explicit:
            raise ConfigError(
                f"Config file {cfg} does not exist.",
                hint=f"Create it with `radpulse init --config {cfg}` or pass an existing file.",
            )
        return settings_from_dict(default_config_data(), path=None, environ=environ)
    try:
        data = tomllib.loads(cfg.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"Config file {cfg} is not UTF-8 text.", hint="Save it as UTF-8.") from None
    except RecursionError:
        raise ConfigError(f"Config file {cfg} nests arrays or tables too deeply to read.",
                          hint="A radpulse config is at most a few levels deep: fix or recreate it "
                          "with `radpulse init --force`.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"Config file {cfg} is not valid TOML: {exc}.",
            hint="Fix the syntax at that line, or recreate it with `radpulse init --force`.",
        ) from None
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {cfg}: {exc.strerror}.") from None
    return settings_from_dict(data, path=cfg, environ=environ)


def default_config_text(year: int | None = None) -> str:
    """The commented default config, with this year's conference hashtags filled in."""
    year = year or dt.date.today().year
    text = DEFAULT_CONFIG_TEMPLATE.read_text(encoding="utf-8")
    return text.replace("{year}", str(year)).replace("{yy}", str(year)[-2:])


def default_config_data() -> dict[str, Any]:
    """The default config as a dict."""
    return tomllib.loads(default_config_text())
