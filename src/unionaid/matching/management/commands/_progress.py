"""A progress bar on a terminal for the matching commands (quiet when not a terminal)."""

from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

STAGES = {"reading": "读取", "normalising": "规范化", "checking": "检查", "writing": "写入",
          "members": "职工名册", "records": "外部记录"}


@contextmanager
def progress_bar():
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task_id = bar.add_task("…", total=None)

        def echo(stage: str, done: int, total: int) -> None:
            bar.update(task_id, description=STAGES.get(stage, stage), completed=done,
                       total=total or None)

        yield echo
