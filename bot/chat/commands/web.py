"""`/digest web`: a private, one-time link that signs an admin in to the web console."""

from __future__ import annotations

from typing import Any

from bot.chat.replies import Reply, error, info
from bot.chat.spec import Access, Command, Invocation, NoArgs
from bot.i18n import _, lazy
from bot.ops.signin import OPERATOR, Scope


async def web_link(run: Invocation, _args: NoArgs) -> Reply:
    links = run.services.web
    if links is None:
        return error(
            _(
                "The web console is off. The operator turns it on with NEWSDIGEST_WEB_PORT "
                "(web_port in the config file)."
            ),
            "unavailable",
        )
    context = run.context
    if context.platform == "console":
        scope = OPERATOR  # the person at the console is the operator, on the host
    elif context.tenant:
        scope = Scope(context.platform, context.tenant)
    else:
        return error(
            _("Ask for the web console from a channel of your workspace or server."),
            "unavailable",
        )
    link = await links.link(scope, f"{context.platform}:{context.user_id}")
    return info(
        _(
            "Your sign-in link to the web console (only for you; it works once, within 10 "
            "minutes):\n{link}"
        ).format(link=link)
    )


WEB: tuple[Command[Any], ...] = (
    Command(
        "web",
        lazy("a private sign-in link to the web console (admins)"),
        NoArgs,
        web_link,
        access=Access.ADMIN,
        needs_bot=True,
    ),
)
