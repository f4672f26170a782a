"""The root `wst` group and the one edge where library errors become messages."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from pipeline.cli.context import Context
from pipeline.cli.output import print_problems
from pipeline.errors import Invalid, NotFound, WstError
from pipeline.problems import InputError
from pipeline.store import unusable

DEFAULT_CONFIG = "config.toml"


class WstGroup(click.Group):
    """The root group: the one place our errors become messages."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            print_problems(exc.problems)
            if ctx.invoked_subcommand not in (None, "check"):
                click.echo(f"{len(exc.problems)} error(s): fix them (see `wst check`) before planning.",
                           err=True)
            raise SystemExit(1) from None
        except (NotFound, Invalid) as exc:
            if exc.field:
                raise click.BadParameter(str(exc), param_hint=exc.field) from None
            raise click.ClickException(str(exc)) from None
        except WstError as exc:
            raise click.ClickException(str(exc)) from None
        except SQLAlchemyError as exc:
            # the store failed under a running command (its file damaged, made read-only...)
            obj = ctx.obj if isinstance(ctx.obj, Context) else None
            raise click.ClickException(str(unusable(exc, obj and obj.store_url()))) from None
        except OSError as exc:
            if exc.filename is None:
                raise
            raise click.ClickException(f"cannot use {exc.filename}: {exc.strerror}") from None


@click.group(cls=WstGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              envvar="WST_CONFIG", default=DEFAULT_CONFIG, show_default=True,
              help="The settings file (or set WST_CONFIG). Paths inside it are relative to it.")
@click.version_option(package_name="wst-pipeline")
@click.pass_context
def cli(click_ctx: click.Context, config_path: Path) -> None:
    """Plan, preview, publish and measure WST's bulletins and campaign posts."""
    click_ctx.obj = Context(config_path)

