"""`yizhan`: the operator's command line.

    yizhan token --role staff            a bearer token for the APIs
    yizhan migrate | seed                each service's database, up to date and seeded
    yizhan dead-letters list | replay    refused messages
    yizhan users create | disable | reset-2fa | totp   staff and admin accounts of the portal
    yizhan run                           the whole station on this machine (make run)
    yizhan smtp-sink                     the local mail catcher `yizhan run` starts
"""

import json
import sys

import click

from shared.auth import MAX_TOKEN_TTL_SECONDS, ROLES, issue_token
from shared.settings import DATABASE_SERVICES, SERVICES, ConfigurationError, load_settings
from yizhan.services import migrate_service, seed_service, service_app


@click.group()
def main():
    """yizhan 驿站: community service station."""


@main.command()
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--org", "org_id", type=int, help="Organisation id (required for --role org).")
@click.option("--sub", default=None, help="Who the token is for (default: the role).")
@click.option("--ttl", type=int, default=None, help="Lifetime in seconds, at most a year (default YIZHAN_TOKEN_TTL).")
def token(role, org_id, sub, ttl):
    """Print a signed token for ROLE."""
    settings = _settings()
    ttl = settings.token_ttl_seconds if ttl is None else ttl
    if not 0 < ttl <= MAX_TOKEN_TTL_SECONDS:
        raise click.UsageError(f"有效期须在 1 秒到一年之间 The ttl (--ttl or YIZHAN_TOKEN_TTL) must be 1 to "
                               f"{MAX_TOKEN_TTL_SECONDS} seconds (a year); got {ttl}.")
    try:
        click.echo(issue_token(settings.secret_key, role, role if sub is None else sub, org_id, ttl))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(DATABASE_SERVICES))
def migrate(services):
    """Apply every service's Alembic migrations (all services, the portal too, by default)."""
    settings = _settings()
    for name in services or DATABASE_SERVICES:
        migrate_service(name, settings)
        click.echo(f"{name}: migrated", err=True)


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(DATABASE_SERVICES))
def seed(services):
    """Load the station's venues, demo organisations and message templates (all services by default)."""
    for name in services or DATABASE_SERVICES:
        counts = seed_service(name)
        click.echo(f"{name}: seeded {json.dumps(counts, ensure_ascii=False)}", err=True)


@main.group("dead-letters")
def dead_letters():
    """Messages the workers refused."""


@dead_letters.command("list")
@click.option("--service", type=click.Choice(SERVICES), multiple=True, help="Only these services.")
@click.option("--all", "include_replayed", is_flag=True, help="Include those already replayed.")
def list_command(service, include_replayed):
    """One JSON object per dead letter, newest last."""
    from shared.dead_letters import list_dead_letters
    from shared.logs import mask_personal_data

    for name in service or SERVICES:
        database = service_app(name).extensions["yizhan"].database
        for row in list_dead_letters(database, include_replayed):
            click.echo(json.dumps({
                "service": name, "id": row.id, "queue": row.queue, "task": row.task_name, "task_id": row.task_id,
                "reason": mask_personal_data(row.reason), "received_at": row.received_at.isoformat(),
                "replayed_at": row.replayed_at.isoformat() if row.replayed_at else None,
                "content_type": row.content_type, "body": mask_personal_data(row.body[:2000]),
            }, ensure_ascii=False))


@dead_letters.command("replay")
@click.argument("service", type=click.Choice(SERVICES))
@click.argument("dead_letter_id", type=int)
@click.option("--payload", "payload_file", type=click.File("r"), help="A corrected payload (JSON file, - for stdin).")
def replay_command(service, dead_letter_id, payload_file):
    """Put dead letter DEAD_LETTER_ID of SERVICE back on its queue."""
    from shared.dead_letters import replay_dead_letter

    runtime = service_app(service).extensions["yizhan"]
    payload = json.load(payload_file) if payload_file else None
    try:
        row = replay_dead_letter(runtime.database, runtime.celery, dead_letter_id, payload)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"replayed dead letter {row.id} onto queue {row.queue}")


@main.group()
def users():
    """Staff and admin accounts of the portal (username, password, TOTP second factor)."""


def _portal_database():
    return service_app("portal").extensions["yizhan"].database


def _read_new_password() -> str:
    """Asked twice on a terminal (getpass: not echoed); one line of standard input otherwise."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码 Password: ")
    if getpass.getpass("再输一次 Password again: ") != first:
        raise click.ClickException("两次输入的密码不一致 The two passwords differ.")
    return first


def _find_staff(db, username):
    from services.portal.domain.staff_sign_in import find_staff

    account = find_staff(db, username)
    if account is None:
        raise click.ClickException(f"没有这个工作人员账户 No staff or admin account {username!r}.")
    return account


def _print_enrolment(account) -> None:
    import segno

    from services.portal.domain.staff_sign_in import enrolment_uri

    uri = enrolment_uri(account)
    click.echo("用验证器应用扫描，或在首次登录时扫描网页上的二维码 Scan with an authenticator app "
               "(or at the first sign-in, on the page):")
    segno.make(uri, error="m").terminal(compact=True)
    click.echo(uri)


@users.command("create")
@click.option("--role", type=click.Choice(["staff", "admin"]), required=True)
@click.argument("username")
def users_create(role, username):
    """Make a staff or admin account; the password is asked twice (or read from standard input)."""
    from services.portal.domain.staff_sign_in import StaffAccountError, create_account
    from shared.db import utcnow

    password = _read_new_password()
    try:
        with _portal_database().transaction() as db:
            account = create_account(db, username, password, role, utcnow())
            click.echo(f"{account.username}: {role} account {account.id} created")
            _print_enrolment(account)
    except StaffAccountError as exc:
        raise click.ClickException(str(exc)) from None


@users.command("disable")
@click.argument("username")
def users_disable(username):
    """Disable an account: it cannot sign in, and every session it has ends now."""
    from services.portal.domain.sessions import end_every_session

    database = _portal_database()
    with database.transaction() as db:
        account = _find_staff(db, username)
        account.disabled, account_id = True, account.id
    ended = end_every_session(database, account_id)
    click.echo(f"{username}: disabled, {ended} session(s) ended")


@users.command("reset-2fa")
@click.argument("username")
def users_reset_2fa(username):
    """Forget the account's TOTP secret: the next sign-in enrols a phone again. Its sessions end."""
    from services.portal.domain.sessions import end_every_session
    from services.portal.domain.staff_sign_in import reset_second_factor

    database = _portal_database()
    with database.transaction() as db:
        account = _find_staff(db, username)
        reset_second_factor(account)
        account_id = account.id
    end_every_session(database, account_id)
    click.echo(f"{username}: second factor reset; the next sign-in shows a new QR code")


@users.command("totp")
@click.argument("username")
def users_totp(username):
    """The account's current code, for a development station's demo accounts only."""
    from services.portal.domain.staff_sign_in import current_code
    from shared.db import utcnow

    if _settings().env != "development":
        raise click.ClickException("只在开发环境可用 `yizhan users totp` works only when YIZHAN_ENV=development.")
    with _portal_database().reader() as db:
        click.echo(current_code(_find_staff(db, username), utcnow()))


@main.command()
def run():
    """The whole station on this machine, with demo data. Ctrl-C stops it."""
    from yizhan.local_station import run_station

    sys.exit(run_station(_settings()))


@main.command("smtp-sink")
@click.option("--port", type=int, default=None, help="Default SMTP_PORT or 8025.")
@click.option("--dir", "directory", type=click.Path(), default=None, help="Default var/mail.")
def smtp_sink(port, directory):
    """A local SMTP server that writes every e-mail to a file."""
    from yizhan.smtp_sink import serve

    serve(_settings(), port, directory)


def _settings():
    try:
        return load_settings()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    main()
