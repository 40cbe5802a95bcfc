"""The context every use case runs in: one profile in one database, with a clock
(`Collection`). The service modules take it as their first argument; `Flashcore`
(services/collection.py) is the same object with the Python API's shortcuts on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from flashcore.core import studyday
from flashcore.core.clock import Clock
from flashcore.core.errors import ConfigError, DatabaseError, FlashcoreError, NotFoundError
from flashcore.core.exam import Exam
from flashcore.core.fsrs_adapter import Policy
from flashcore.core.introduction import NewOrder
from flashcore.core.settings import Settings, format_value, load_stored, set_value
from flashcore.core.text import PROFILE_CHARS, name_problem, shown
from flashcore.storage import repos
from flashcore.storage.db import default_db_path, make_engine, sqlite_path, url_for_path
from flashcore.storage.migrate import ensure_schema
from flashcore.storage.planning import stamp_plan_day
from flashcore.storage.uow import reading, run_write

DEFAULT_PROFILE = "default"


def resolve_url(url: str | None) -> tuple[str, bool]:
    """The database URL to use and whether it is the default location (which may be created)."""
    if url:
        if "://" not in url:  # a bare path is a SQLite file
            return url_for_path(Path(url).expanduser().resolve()), False
        return url, False
    path = default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return url_for_path(path), True


@dataclass
class Collection:
    """One profile in one database, with a clock. Thread it through everything."""

    engine: Engine
    clock: Clock
    profile_id: int
    profile: str
    settings: Settings
    url: str
    backup: str | None = None
    warnings: list[str] = field(default_factory=list)  # stored settings out of range
    _policy: Policy | None = field(default=None, repr=False)
    _scheduler_ids: dict[Policy, int] = field(default_factory=dict, repr=False)
    _exam: tuple[Exam, date | None] | bool | None = field(default=False, repr=False)

    # ------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        clock: Clock,
        profile: str = DEFAULT_PROFILE,
        create: bool = False,
        timezone: str = "UTC",
    ) -> Self:
        """Open (and migrate if needed) a collection. A SQLite file that does not exist is
        created only with `create=True` or at the default location. The default profile is
        created on first use with `timezone`; other profiles must be created first."""
        resolved, is_default = resolve_url(url)
        engine = make_engine(resolved, create=create or is_default)
        try:
            backup = ensure_schema(engine, now=clock.now())
            try:
                found = _load_profile(engine, profile, clock.now(), timezone)
            except SQLAlchemyError as exc:
                _missing_tables(exc, resolved, engine)
                raise
            profile_id, settings, warnings = found
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock, profile_id, profile, settings, resolved, backup, warnings)

    def close(self) -> None:
        if self.engine.dialect.name == "sqlite":
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except SQLAlchemyError:
                pass  # closing must not fail on a checkpoint
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def location(self) -> str:
        path = sqlite_path(self.url)
        return str(path) if path else self.engine.url.render_as_string(hide_password=True)

    @property
    def policy(self) -> Policy:
        if self._policy is None:
            exam = self.exam
            window = None
            if exam is not None:
                from flashcore.core.exam import window as exam_window

                window = exam_window(exam, self.settings.zone, self.settings.day_start_hour)
            self._policy = Policy.from_settings(self.settings, window)
        return self._policy

    @property
    def exam(self) -> Exam | None:
        """The profile's exam (read once, then kept until `forget_exam`)."""
        found = self._exam_row()
        return None if found is None else found[0]

    def _exam_row(self) -> tuple[Exam, date | None] | None:
        if self._exam is False:
            from flashcore.storage.planning import load_exam

            with self.engine.connect() as conn:  # Core: this sits on the answer's first call
                self._exam = load_exam(conn, self.profile_id)
                conn.rollback()
        assert self._exam is not True
        return self._exam

    def forget_exam(self) -> None:
        """The exam changed: read it again, and the scheduler that follows from it."""
        self._exam = False
        self._policy = None

    def now(self) -> datetime:
        return self.clock.now()

    def scheduler_id(self, session: Any) -> int:
        """The id under which the current scheduler configuration is recorded (inside the
        caller's transaction; cached once it exists)."""
        policy = self.policy
        cached = self._scheduler_ids.get(policy)  # by value: no digest on the answer's path
        if cached is not None:
            return cached
        found, created = repos.scheduler_id_for(
            session, self.profile_id, policy.digest(), policy.to_config(), self.now()
        )
        if not created:  # a new row is cached only once committed (next time it is found)
            self._scheduler_ids[policy] = found
        return found

    def reload_profile(self, conn: Any) -> bool:
        """Another connection changed the collection: read the profile's settings and exam
        again (another terminal's `config set` or `exam set`), and forget the scheduler ids
        (a `backup restore` can remove their rows). Reads only, in the caller's transaction.
        Whether what answers are computed with changed."""
        from flashcore.storage.planning import load_exam

        self._scheduler_ids.clear()
        changed = False
        raw = repos.profile_settings(conn, self.profile_id)
        if isinstance(raw, dict):  # (a profile gone with a restore keeps what it had)
            settings, _ = load_stored(raw)
            if settings != self.settings:
                self.use_settings(settings)
                changed = True
        exam = load_exam(conn, self.profile_id)
        if self._exam is not False and exam != self._exam:
            self._policy = None
            changed = True
        self._exam = exam
        return changed

    def knows_scheduler_id(self) -> bool:
        """Whether `scheduler_id` will answer from its cache (no statement)."""
        return self._policy is not None and self._policy in self._scheduler_ids

    def learn_scheduler_id(self, session: Any) -> bool:
        """Look the current scheduler configuration's id up without recording it (reads only),
        so that `scheduler_id` answers from its cache; whether it is known now."""
        policy = self.policy
        if policy not in self._scheduler_ids:
            found = repos.find_scheduler_id(session, self.profile_id, policy.digest())
            if found is None:
                return False  # the first answer under this configuration records it
            self._scheduler_ids[policy] = found
        return True

    def rollover(self, now: datetime | None = None) -> datetime:
        s = self.settings
        return studyday.next_rollover(now or self.now(), s.zone, s.day_start_hour)

    def day_start(self, now: datetime | None = None) -> datetime:
        s = self.settings
        return studyday.day_start(now or self.now(), s.zone, s.day_start_hour)

    # ------------------------------------------------------------ profiles and config

    def config_items(self) -> dict[str, str]:
        return {k: format_value(v) for k, v in self.settings.to_json().items()} | {
            "learning_steps": format_value(self.settings.learning_steps),
            "relearning_steps": format_value(self.settings.relearning_steps),
            "fsrs_parameters": format_value(self.settings.fsrs_parameters) or "(FSRS-6 defaults)",
        }

    def config_get(self, key: str) -> str:
        items = self.config_items()
        if key not in items:
            raise ConfigError(f"unknown setting {key!r}; known: {', '.join(sorted(items))}")
        return items[key]

    def use_settings(self, settings: Settings) -> None:
        """Settings the caller's transaction wrote (an import's preset): used from now on."""
        self.settings = settings
        self._policy = None

    def config_set(self, key: str, value: str) -> str:
        settings = set_value(self.settings, key, value)

        def work(session: Any) -> None:
            chosen = {key, *(repos.profile_settings(session, self.profile_id) or {})}
            repos.save_settings(session, self.profile_id, settings.to_stored(chosen))
            if settings.new_order != self.settings.new_order:
                # Every surface reads the stored order: renumber the new cards in the new one.
                repos.renumber_new_cards(session, self.profile_id, NewOrder(settings.new_order))
            if key == "plan_mode":  # auto from now on: new_per_day follows the plan today
                stamp_plan_day(session, self.profile_id, None)

        run_write(self.engine, work)
        self.settings = settings
        self._policy = None
        if key == "plan_mode":
            self._exam = False  # its plan day cleared: read again (services.exam.follow_plan)
        return self.config_get(key)

    def list_profiles(self) -> list[dict[str, Any]]:
        with reading(self.engine) as session:
            return [
                {
                    "name": name,
                    "created_at": created,
                    "decks": decks,
                    "current": name == self.profile,
                }
                for name, created, decks in repos.list_profiles(session)
            ]

    def create_profile(self, name: str, *, timezone: str) -> None:
        name = name.strip()
        problem = name_problem(name, PROFILE_CHARS) if name else "is empty"
        if problem is not None:
            raise ConfigError(f"profile name {shown(name)} {problem}")

        def work(session: Any) -> None:
            if repos.find_profile(session, name) is not None:
                raise ConfigError(f"profile {name!r} already exists")
            repos.create_profile(session, name, Settings(timezone=timezone).to_stored(), self.now())

        run_write(self.engine, work)


def _load_profile(
    engine: Engine, name: str, now: datetime, timezone: str
) -> tuple[int, Settings, list[str]]:
    with engine.connect() as conn:  # Core: opening a collection never loads the ORM
        found = repos.find_profile(conn, name)
        conn.rollback()
    if found is None:
        if name != DEFAULT_PROFILE:
            raise NotFoundError(
                f"no profile {name!r}: create it with `flashcore profiles create {name}`"
            )

        def work(session: Any) -> tuple[int, dict[str, Any]]:
            settings = Settings(timezone=timezone).to_stored()
            return repos.find_or_create_profile(session, name, settings, now)

        found = run_write(engine, work)
    profile_id, raw = found
    if not isinstance(raw, dict):
        raise FlashcoreError(f"profile {name!r} has unreadable settings (not a JSON object)")
    settings, warnings = load_stored(raw)
    return profile_id, settings, [f"profile {shown(name)}: {w}" for w in warnings]


def today_for(fc: Collection) -> date:
    """The profile's study day now."""
    s = fc.settings
    return studyday.study_date(fc.now(), s.zone, s.day_start_hour)


# SQLite's and PostgreSQL's words for a table the schema's revision says is there but is not
MISSING_TABLE = ("no such table", "does not exist")


def _missing_tables(exc: SQLAlchemyError, url: str, engine: Engine) -> None:
    """A file at flashcore's schema revision without its tables (damaged, or tables dropped
    by another program): one line naming the file, instead of the driver's exception."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    first = lines[0] if lines else ""
    if any(marker in first.lower() for marker in MISSING_TABLE):
        where = sqlite_path(url) or engine.url.render_as_string(hide_password=True)
        raise DatabaseError(f"{where} is missing flashcore's tables ({first})") from None
