"""Errors a user should read: each carries a one-line message fit for a channel or stderr."""

from __future__ import annotations


class NewsdigestError(Exception):
    """Base for every error whose message is safe and useful to show a user as is."""

    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(NewsdigestError):
    """The input cannot be read as an article: empty, binary, too large, no text."""

    kind = "bad_input"


class FetchError(NewsdigestError):
    """A URL could not be fetched: refused by policy, unreachable, too slow or too large."""

    kind = "fetch_failed"

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class UnknownSectionError(NewsdigestError):
    kind = "unknown_section"

    def __init__(self, wanted: str, suggestion: str | None, available: list[str]) -> None:
        from bot.i18n import _

        message = _("No section '{name}'.").format(name=wanted)
        if suggestion:
            message += " " + _("Did you mean '{suggestion}'?").format(suggestion=suggestion)
        listed = ", ".join(available) or _("none")
        super().__init__(message + " " + _("Sections: {sections}.").format(sections=listed))
        self.wanted = wanted
        self.suggestion = suggestion
        self.available = available
