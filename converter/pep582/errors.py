"""Typed errors raised by the library; only the CLI turns them into messages and exit codes."""

from __future__ import annotations


class Pep582Error(Exception):
    """Base class: a problem the user can act on, reported as one line."""

    exit_code = 1


class InterpreterError(Pep582Error):
    """A target interpreter cannot be found, run, or described."""

    exit_code = 3


class DestinationError(Pep582Error):
    """A place we must write is read-only, foreign-owned, locked or already taken."""

    exit_code = 4


class SourceError(Pep582Error):
    """What we were asked to read is not what it claims, or its facts disagree."""

    exit_code = 5


class VerificationError(Pep582Error):
    """A file does not match the hash or size its RECORD promises."""

    exit_code = 6


class CacheEntryModified(VerificationError):
    """A file of the unpacked-wheel cache no longer matches what the wheel held."""

    def __init__(self, message: str, entry: str) -> None:
        super().__init__(message)
        self.entry = entry  # the entry's directory name (the wheel's sha256)


class ConflictError(Pep582Error):
    """Two things claim the same file (``--merge`` into an existing layout)."""

    exit_code = 7


class ResolutionError(Pep582Error):
    """The resolver (uv or pip) could not resolve, fetch or build what was asked for."""

    exit_code = 8


class InterruptedAfterPublishing(Pep582Error):
    """Ctrl-C arrived after the change was published: it is complete (byte code may not
    be)."""

    exit_code = 130


EXIT_CODES = {
    0: "success",
    1: "unexpected internal error",
    2: "bad command line (usage)",
    InterpreterError.exit_code: "interpreter not found or not usable",
    DestinationError.exit_code: "destination not writable, foreign-owned, locked or taken",
    SourceError.exit_code: "what you named is missing, not valid, inconsistent or hostile",
    VerificationError.exit_code: "a file does not match its RECORD hash",
    ConflictError.exit_code: "conflicting files in an existing layout",
    ResolutionError.exit_code: "the resolver (uv or pip) could not resolve, fetch or build",
    9: "pep582 where: nothing would be activated (absent, switched off or refused)",
    11: "pep582 audit: a finding reached --fail-on",
    130: "interrupted (Ctrl-C): nothing changed, unless it says the change was published",
}


COMMAND_ONLY = (9, 11)  # the codes only `pep582 where` and `pep582 audit` use


def exit_codes_help(with_command_codes: bool = True) -> str:
    """The exit-code table as text for ``--help`` epilogs (without the codes of single
    ``pep582`` commands unless ``with_command_codes``)."""
    return "\n".join(
        f"  {code:>3}  {meaning}"
        for code, meaning in EXIT_CODES.items()
        if with_command_codes or code not in COMMAND_ONLY
    )
