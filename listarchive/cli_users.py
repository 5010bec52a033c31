"""`listarchive users`: the web UI's accounts (facilitator and secretariat roles).

Passwords are read from a hidden prompt (typed twice) or, for scripts, one line on standard
input with `--password-stdin`; they are never echoed, printed or logged.  A password change,
`disable` and `remove` end the account's web sessions at once; `sessions` lists the open ones
and `revoke` ends them without touching the account.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
import time
from datetime import UTC, datetime

import click

from listarchive.cli_common import store_session
from store import accounts
from store import sessions as session_store

logger = logging.getLogger(__name__)

ROLE = click.Choice(accounts.ROLES)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
    else:
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, show_default=False
        )
    try:
        accounts.check_password(password)
    except accounts.AccountError as exc:
        raise click.UsageError(str(exc)) from exc
    return password


def _fail(exc: accounts.AccountError) -> click.ClickException:
    return click.ClickException(str(exc))


PASSWORD_STDIN = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (no prompt).",
)


@click.group()
def users() -> None:
    """Web UI accounts: who may log in, with which role."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=ROLE, required=True, help="What the account may see.")
@PASSWORD_STDIN
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Create an account (asks for its password twice, hidden)."""
    try:
        accounts.check_username(name)
    except accounts.AccountError as exc:
        raise click.UsageError(str(exc)) from exc
    password = _read_password(password_stdin)
    with store_session(ctx) as store:
        try:
            account = accounts.create_user(store.conn, name, password, role)
        except accounts.AccountError as exc:
            raise _fail(exc) from exc
    logger.debug("account %s created (%s)", account.username, account.role)
    click.echo(f"user {account.username} added ({account.role})")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """The accounts, with role, creation time and whether they are disabled."""
    with store_session(ctx) as store:
        found = accounts.list_users(store.conn)
    if as_json:
        rows = [
            {
                "username": a.username,
                "role": a.role,
                "created_at": a.created_at,
                "disabled": a.disabled,
            }
            for a in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not found:
        click.echo("No accounts yet. Add one with `listarchive users add NAME --role ROLE`.")
        return
    width = max(len(a.username) for a in found)
    for a in found:
        state = "  disabled" if a.disabled else ""
        click.echo(f"{a.username:<{width}}  {a.role:<11}  created {a.created_at}{state}")


@users.command("passwd")
@click.argument("name")
@PASSWORD_STDIN
@click.pass_context
def users_passwd(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set a new password (the account's open web sessions end)."""
    with store_session(ctx) as store:
        if accounts.get_account(store.conn, name) is None:
            raise click.ClickException(f"no user {name}")
        password = _read_password(password_stdin)
        try:
            accounts.set_password(store.conn, name, password)
        except accounts.AccountError as exc:
            raise _fail(exc) from exc
    logger.debug("password of %s changed", name)
    click.echo(f"password of {name} changed")


@users.command("role")
@click.argument("name")
@click.argument("role", type=ROLE)
@click.pass_context
def users_role(ctx: click.Context, name: str, role: str) -> None:
    """Give an account another role (effective on its next request)."""
    with store_session(ctx) as store:
        try:
            accounts.set_role(store.conn, name, role)
        except accounts.AccountError as exc:
            raise _fail(exc) from exc
    click.echo(f"user {name} is now {role}")


def _set_disabled(ctx: click.Context, name: str, disabled: bool) -> None:
    with store_session(ctx) as store:
        try:
            accounts.set_disabled(store.conn, name, disabled)
        except accounts.AccountError as exc:
            raise _fail(exc) from exc
    what = "disabled" if disabled else "enabled"
    logger.debug("account %s %s", name, what)
    click.echo(f"user {name} {what}")


@users.command("disable")
@click.argument("name")
@click.pass_context
def users_disable(ctx: click.Context, name: str) -> None:
    """Stop an account from logging in (its open sessions lose access at once)."""
    _set_disabled(ctx, name, True)


@users.command("enable")
@click.argument("name")
@click.pass_context
def users_enable(ctx: click.Context, name: str) -> None:
    """Let a disabled account log in again."""
    _set_disabled(ctx, name, False)


@users.command("remove")
@click.argument("name")
@click.pass_context
def users_remove(ctx: click.Context, name: str) -> None:
    """Delete an account (its open sessions lose access at once)."""
    with store_session(ctx) as store:
        try:
            accounts.remove_user(store.conn, name)
        except accounts.AccountError as exc:
            raise _fail(exc) from exc
    logger.debug("account %s removed", name)
    click.echo(f"user {name} removed")


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _session_row(s: session_store.WebSession) -> dict[str, object]:
    return {
        "id": s.id,
        "username": s.username,
        "created_at": _iso(s.created_at),
        "last_seen": _iso(s.last_seen),
        "expires_at": _iso(s.expires_at),
        "client": s.client,
    }


def _known(conn: sqlite3.Connection, name: str) -> None:
    if accounts.get_account(conn, name) is None:
        raise click.ClickException(f"no user {name}")


@users.command("sessions")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def users_sessions(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """The open web sessions (of one account, or of all): id, when made, last used, expiry
    and the client (address and browser) that logged in."""
    with store_session(ctx) as store:
        if name is not None:
            _known(store.conn, name)
        found = session_store.live_sessions(store.conn, now=time.time(), username=name)
    if as_json:
        click.echo(json.dumps([_session_row(s) for s in found], indent=2))
        return
    if not found:
        click.echo("No open web sessions.")
        return
    width = max(len(s.username) for s in found)
    for s in found:
        row = _session_row(s)
        click.echo(
            f"{s.id}  {s.username:<{width}}  since {row['created_at']}  last seen "
            f"{row['last_seen']}  until {row['expires_at']}  {s.client}"
        )


@users.command("revoke")
@click.argument("name")
@click.option(
    "--session", "session_id", help="End only this session (its id from `users sessions`)."
)
@click.pass_context
def users_revoke(ctx: click.Context, name: str, session_id: str | None) -> None:
    """End an account's web sessions now (all, or one): its browsers must log in again.
    The account itself is unchanged."""
    with store_session(ctx) as store:
        _known(store.conn, name)
        if session_id is not None:
            if not session_store.end_by_id(store.conn, name, session_id):
                raise click.ClickException(f"no open session {session_id} of {name}")
            ended = 1
        else:
            ended = session_store.end_all(store.conn, name)
    logger.debug("%d web sessions of %s ended", ended, name)
    click.echo(f"{ended} web session{'' if ended == 1 else 's'} of {name} ended")


COMMANDS = [users]
