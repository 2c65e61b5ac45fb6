"""`newsdigest summarize`: JSON lines in, JSON lines out, one for one, in order.

Scripts rely on this contract, so a bad line never stops the run: it yields
{"id": ..., "error": "..."} and the next line is read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Any

from bot.digest.plain_text import summarize_text
from bot.errors import InputError, NewsdigestError
from bot.i18n import _


def summarize_lines(lines: Iterable[str], bullets: int) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        yield _summarize_line(line, number, bullets)


def _summarize_line(line: str, number: int, bullets: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "line": number, "error": f"not valid JSON: {exc.msg}"}
    if not isinstance(record, dict):
        return {"id": None, "line": number, "error": "each line must be a JSON object"}
    item_id = record.get("id")
    article = record.get("article")
    if not isinstance(article, str):
        return {"id": item_id, "error": "missing or non-string 'article'"}
    try:
        result = summarize_text(article, bullets)
    except NewsdigestError as exc:
        return {"id": item_id, "error": exc.message}
    except (ValueError, RecursionError) as exc:
        return {"id": item_id, "error": f"could not summarize: {type(exc).__name__}"}
    if not result:
        return {"id": item_id, "error": "no article text found"}
    return {"id": item_id, "bullets": result}


def run_batch(input_path: str, bullets: int, out: IO[str] | None = None) -> int:
    if bullets < 1:
        raise InputError(_("--bullets must be at least 1"))
    out = out or sys.stdout
    if input_path != "-" and not Path(input_path).is_file():
        raise InputError(_("No such file: {path}").format(path=input_path))
    total = _count_lines(input_path) if input_path != "-" else None
    with _open_input(input_path) as source, _progress(total) as advance:
        for result in summarize_lines(source, bullets):
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
            advance()
    out.flush()
    return 0


def _open_input(path: str) -> IO[str]:
    if path == "-":
        return nullcontext(sys.stdin)  # type: ignore[return-value]
    return open(path, encoding="utf-8", errors="replace")


def _count_lines(path: str) -> int:
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


class _Advance:
    def __init__(self, progress: Any, task: Any) -> None:
        self._progress, self._task = progress, task

    def __call__(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)


def _progress(total: int | None) -> Any:
    """A rich progress bar on stderr when it is a terminal; a no-op otherwise."""
    if not sys.stderr.isatty():
        return nullcontext(_Advance(None, None))
    from contextlib import contextmanager

    from rich.console import Console
    from rich.progress import Progress

    @contextmanager
    def bar() -> Iterator[_Advance]:
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("summarizing", total=total)
            yield _Advance(progress, task)

    return bar()
