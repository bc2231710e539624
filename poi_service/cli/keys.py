"""`poi-service keys create|list|revoke`: API keys for the write API, kept in the store."""

from __future__ import annotations

import click

from poi_service.cli.common import CliState, echo_json
from poi_service.models import KeyInfo, KeyRole


def _as_dict(info: KeyInfo) -> dict[str, object]:
    return {
        "id": info.id,
        "name": info.name,
        "role": info.role.value,
        "created_at": info.created_at.isoformat(),
        "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None,
    }


@click.group("keys")
def keys_group() -> None:
    """Manage API keys (Authorization: Bearer <key>) for the write API."""


@keys_group.command("create")
@click.option("--name", required=True, help="Who or what uses the key, e.g. 'Redaktion Harrislee'.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in KeyRole]),
    default=KeyRole.EDITOR.value,
    show_default=True,
    help="editor: write records and import; admin: also purge.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the key and its info as JSON.")
@click.pass_obj
def create(state: CliState, name: str, role: str, as_json: bool) -> None:
    """Create a key and print it once: only its SHA-256 is stored, it cannot be shown again."""
    settings = state.settings()
    with state.store(settings) as store:
        info, secret = store.create_key(name, KeyRole(role))
    if as_json:
        echo_json({**_as_dict(info), "key": secret})
        return
    click.echo(secret)
    click.echo(
        f"created {info.role.value} key {info.id} ({info.name}); store the key now, it is not shown again",
        err=True,
    )


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the keys as JSON.")
@click.pass_obj
def list_keys(state: CliState, as_json: bool) -> None:
    """List every key (id, role, name, created, revoked); secrets are never shown."""
    settings = state.settings()
    with state.store(settings) as store:
        keys = store.list_keys()
    if as_json:
        echo_json([_as_dict(k) for k in keys])
        return
    for k in keys:
        revoked = f"  revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else ""
        click.echo(f"{k.id}  {k.role.value:<6}  {k.created_at:%Y-%m-%d %H:%M}  {k.name}{revoked}")


@keys_group.command("revoke")
@click.argument("key_id")
@click.pass_obj
def revoke(state: CliState, key_id: str) -> None:
    """Revoke the key KEY_ID at once, on every server sharing the store."""
    settings = state.settings()
    with state.store(settings) as store:
        info = store.revoke_key(key_id)
    click.echo(f"revoked key {info.id} ({info.name})")
