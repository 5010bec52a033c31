"""Helpers shared by the command modules."""

from __future__ import annotations

import click

from config.settings import ConfigError, Settings, ensure_data_dir
from listarchive import app
from store.store import Store, StoreError


def current_settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


class StoreSession:
    """`with store_session(ctx) as store:` opens the store with clear errors, closes it after."""

    def __init__(self, ctx: click.Context) -> None:
        self.ctx = ctx

    def __enter__(self) -> Store:
        settings = current_settings(self.ctx)
        try:
            ensure_data_dir(settings)
            self.store = app.open_store(settings)
        except (ConfigError, StoreError) as exc:
            raise click.ClickException(str(exc)) from exc
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


def store_session(ctx: click.Context) -> StoreSession:
    return StoreSession(ctx)
