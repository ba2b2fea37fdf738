"""`radpulse init` and `radpulse db ...`: configuration file and schema migrations."""

from __future__ import annotations

from pathlib import Path

import click

from radpulse.config import default_config_path, default_config_text, load_settings


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@click.pass_obj
def init(app, force: bool) -> None:  # type: ignore[no-untyped-def]
    """Write a commented default config file and create the database.

    The file goes to --config (or RADPULSE_CONFIG, or ~/.config/radpulse/radpulse.toml). An
    existing file is kept (--force replaces it); the database it names is created if missing.
    """
    path = Path(app.config_path or default_config_path()).expanduser()
    kept = path.exists() and not force
    if not kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(default_config_text(), encoding="utf-8")
    app.config_path = str(path)
    app.__dict__.pop("settings", None)
    load_settings(path)  # the file we wrote (or kept) must validate
    db = app.db(create=True)
    click.echo(f"{path} already exists; kept it (pass --force to overwrite it with the defaults)."
               if kept else f"Wrote {path}")
    click.echo(f"Database ready at {db.engine.url.render_as_string(hide_password=True)}")
    click.echo("Next: set your API credentials as environment variables (see the file's header), "
               "then run `radpulse collect`.")


@click.group()
def db() -> None:
    """Database schema: upgrade, downgrade, current revision; rebuild the network edges and the rollups;
    copy to PostgreSQL."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_obj
def upgrade(app, revision: str) -> None:  # type: ignore[no-untyped-def]
    """Apply migrations (every command also upgrades on start)."""
    from radpulse.db.engine import current_revision, open_database
    from radpulse.db.engine import upgrade as do_upgrade

    database = open_database(app.database_url, migrate=False, create=False)
    do_upgrade(database.engine, revision)
    click.echo(f"Database at revision {current_revision(database.engine)}")


@db.command()
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def downgrade(app, revision: str, yes: bool) -> None:  # type: ignore[no-untyped-def]
    """Revert migrations to REVISION ('base' removes every table: data is lost)."""
    from radpulse.db.engine import current_revision, open_database
    from radpulse.db.engine import downgrade as do_downgrade

    if not yes:
        click.confirm(f"Downgrade the database to {revision}? Data in dropped tables is lost", abort=True)
    database = open_database(app.database_url, migrate=False, create=False)
    do_downgrade(database.engine, revision)
    click.echo(f"Database at revision {current_revision(database.engine) or 'base'}")


@db.command()
@click.pass_obj
def current(app) -> None:  # type: ignore[no-untyped-def]
    """Print the database's schema revision and the newest one this radpulse knows."""
    from radpulse.db.engine import current_revision, head_revision, open_database

    database = open_database(app.database_url, migrate=False, create=False)
    click.echo(f"current: {current_revision(database.engine) or 'base (empty)'}")
    click.echo(f"head:    {head_revision()}")


@db.command("rebuild-edges")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def rebuild_edges(app, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Rewrite the conversation network's edges (replies, quotes, reposts, mentions) from the
    stored posts. Collection keeps them current; run this after restoring or editing posts by
    hand. Safe to run again if interrupted."""
    from radpulse.cli.output import echo_json, progress
    from radpulse.db.edges import rebuild_edges as do_rebuild

    database = app.db()
    with progress() as bar:
        task = bar.add_task("rebuilding edges", total=None)
        edges = do_rebuild(database, progress=lambda n: bar.advance(task, n))
    if as_json:
        echo_json({"edges": edges})
        return
    click.echo(f"Rebuilt the network: {edges:,} edges.")


@db.command("rebuild-rollups")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def rebuild_rollups_cmd(app, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Recompute every rollup (the dashboard's daily counts) from the stored posts.

    Collection, analysis and review decisions keep the rollups current on their own; run this
    after restoring a backup, editing posts by hand, or relinking articles. One transaction:
    the dashboard keeps reading the old rollups until the new ones are complete.
    """
    import time

    from radpulse.cli.output import echo_json, progress
    from radpulse.db.rollups import rebuild_rollups

    database = app.db()
    started = time.perf_counter()
    with progress(transient=True) as bar:
        task = bar.add_task("rebuilding rollups (days)", total=None)
        days = rebuild_rollups(database, progress=lambda done, total: bar.update(task, completed=done, total=total))
    took = time.perf_counter() - started
    if as_json:
        echo_json({"days": days, "seconds": round(took, 2)})
    else:
        click.echo(f"Rebuilt the rollups of {days:,} days in {took:.1f}s.")


@db.command("copy")
@click.option("--to", "target", required=True, metavar="URL",
              help="An empty PostgreSQL database: postgresql+psycopg://user@host:5432/radpulse.")
@click.option("--batch-size", type=click.IntRange(min=1), default=20_000, show_default=True,
              help="Rows per batch (one transaction each).")
@click.option("--json", "as_json", is_flag=True, help="Print the per-table row counts as JSON.")
@click.pass_obj
def copy(app, target: str, batch_size: int, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Copy every table of this database (by default the embedded SQLite; --database-url for
    another) into an empty PostgreSQL database, migrated first, ids kept, row counts checked.
    Interrupted? Run the same command again: it continues where it stopped, never copying a row
    twice. Stop collection while copying; then point radpulse at the new database."""
    from radpulse.cli.output import echo_json, progress, table
    from radpulse.db.copy import copy_database
    from radpulse.db.engine import refuse_missing

    refuse_missing(app.database_url)
    with progress() as bar:
        task = bar.add_task("copying", total=None)

        def started(remaining: dict[str, int]) -> None:
            bar.update(task, total=sum(remaining.values()))

        def copied(name: str, rows: int) -> None:
            bar.update(task, advance=rows, description=f"copying {name}")

        counts = copy_database(app.database_url, target, batch_size=batch_size, on_start=started, progress=copied)
    if as_json:
        echo_json([{"table": c.table, "source": c.source, "target": c.target, "copied": c.copied} for c in counts])
        return
    from radpulse.cli.output import console

    console.print(table("Rows per table (source = target)", ["table", "source", "target", "copied"],
                        [(c.table, c.source, c.target, c.copied) for c in counts if c.source]))
    from sqlalchemy.engine import make_url

    click.echo(f"Copied {sum(c.copied for c in counts):,} rows; counts match in every table. Next: set "
               f"RADPULSE_DATABASE_URL={make_url(target).render_as_string(hide_password=True)} "
               "(or [database] url) to use it.")
