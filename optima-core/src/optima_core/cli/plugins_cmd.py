"""``optima plugins``: every plugin with its distribution, version, status and hooks; survives broken plugins."""

from __future__ import annotations

import json

import click


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_command(as_json: bool) -> None:
    """List installed plugins (failed ones with their error) and the components they register."""
    from optima_core.plugins.manager import create_plugin_manager

    manager = create_plugin_manager()
    records = manager.records
    registries = manager.components()
    conflicts = manager.registry_errors
    replaced = manager.replaced()
    unloadable = manager.unloadable_components()

    if as_json:
        payload = {
            "plugins": [r.as_dict() for r in records],
            "components": {
                kind: [
                    {
                        "name": d.name,
                        "provider": d.provider,
                        "replaces": replaced[kind].get(d.name),
                        "description": d.description,
                    }
                    for d in reg.values()
                ]
                for kind, reg in registries.items()
            },
            "conflicts": conflicts,
            "unloadable": unloadable,
        }
        click.echo(json.dumps(payload, indent=2))
        return

    headers = ("NAME", "DISTRIBUTION", "VERSION", "STATUS", "HOOKS")
    rows = [(r.name, r.distribution, r.version, r.status, str(len(r.hooks))) for r in records]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for record, row in zip(records, rows, strict=True):
        colour = {"active": "green", "disabled": "yellow", "failed": "red"}[record.status]
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
        cells[3] = click.style(cells[3], fg=colour)
        click.echo("  ".join(cells))
        if record.hooks:
            click.echo(f"    hooks: {', '.join(record.hooks)}")
        if record.error:
            click.echo(click.style(f"    error: {record.error}", fg=colour))
    click.echo("")
    for kind, registry in registries.items():
        names = ", ".join(_provided(name, d.provider, replaced[kind]) for name, d in sorted(registry.items())) or "-"
        click.echo(f"{kind}: {names}")
    for conflict in conflicts:
        click.echo(click.style(f"conflict: {conflict}", fg="red"))
    for problem in unloadable:
        click.echo(click.style(f"unloadable: {problem}", fg="red"))


def _provided(name: str, provider: str, replaced: dict[str, str]) -> str:
    """``name [provider]``, or ``name [provider, replacing other]`` where a plugin replaced another's component."""
    return f"{name} [{provider}, replacing {replaced[name]}]" if name in replaced else f"{name} [{provider}]"
