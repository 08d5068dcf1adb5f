"""The command classes every ``pep582`` and ``pep582-migrate`` command is built on.

A command parses its own arguments, calls one operation and renders the result; what
goes wrong becomes one line on stderr and a documented exit code. Whether that line is a
JSON object and whether ``-v`` shows a traceback is read from the command's *parsed*
parameters (``as_json``, ``verbose``), never from ``sys.argv``: in ``pep582 run app.py
--json`` the ``--json`` is ``app.py``'s. A usage error (a bad option, a missing
argument) has no parsed parameters yet; it is a JSON object when a lenient parse of the
same arguments by the same command finds its own ``--json`` among them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import click

from pep582.commands.output import errors_reported, usage_failure

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _program(ctx: click.Context) -> str:
    return ctx.find_root().command.name or "pep582"


def _lenient_params(command: click.Command, args: list[str]) -> dict[str, Any]:
    """What ``command``'s own parser makes of ``args`` when unknown options are skipped
    and an option missing its value at the end is dropped: the options it would have
    seen (by parameter name)."""
    ctx = click.Context(command, **command.context_settings)
    parser = command.make_parser(ctx)
    parser.ignore_unknown_options = True
    args = list(args)
    while True:
        try:
            opts, _, _ = parser.parse_args(list(args))
        except click.UsageError:
            if not args:
                return {}
            args.pop()  # "--python" with nothing after it
            continue
        return dict(opts)


class Command(click.Command):
    """A command whose errors are reported by its parsed ``--json``/``-v``."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        given = list(args)  # click consumes ``args``
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            parsed = exc.ctx.params if exc.ctx is not None else {}
            if parsed.get("as_json") or _lenient_params(self, given).get("as_json"):
                root = parent.find_root().command.name if parent else self.name
                usage_failure(root or "pep582", exc)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        as_json = bool(ctx.params.get("as_json"))
        verbose = bool(ctx.params.get("verbose"))
        with errors_reported(_program(ctx), as_json, verbose):
            return super().invoke(ctx)

    @classmethod
    def adopt(cls, command: click.Command) -> Command:
        """``command`` (declared with plain ``click.command``) as one of ours."""
        if isinstance(command, cls):
            return command
        return cls(
            command.name,
            context_settings=command.context_settings,
            callback=command.callback,
            params=command.params,
            help=command.help,
            epilog=command.epilog,
            short_help=command.short_help,
            options_metavar=command.options_metavar,
            add_help_option=command.add_help_option,
            no_args_is_help=command.no_args_is_help,
            hidden=command.hidden,
            deprecated=command.deprecated,
        )


def command(**settings: Any) -> Callable[[Callable[..., Any]], Command]:
    """``click.command`` making a :class:`Command` (help on ``-h`` too, 100 columns)."""
    settings.setdefault("cls", Command)
    settings["context_settings"] = {**CONTEXT, **settings.get("context_settings", {})}
    made: Callable[[Callable[..., Any]], Command] = click.command(**settings)
    return made


class Group(click.Group):
    """A command group whose commands are :class:`Command` and are imported only when
    used (``--help`` stays fast): ``lazy`` maps a name to ``(module, attribute, one-line
    summary)``."""

    command_class = Command

    def __init__(
        self, *args: Any, lazy: dict[str, tuple[str, str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*self.commands, *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = self.commands.get(name)
        if found is None and name in self.lazy:
            module, attribute, _ = self.lazy[name]
            found = getattr(importlib.import_module(module), attribute)
            assert isinstance(found, click.Command)
        return Command.adopt(found) if found is not None else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit=60)))
            else:
                rows.append((name, self.lazy[name][2]))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        # What escapes a command's own reporting (or happens before one runs): one line.
        with errors_reported(_program(ctx)):
            return super().invoke(ctx)
