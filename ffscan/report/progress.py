"""The progress bar of `ffscan check` on a terminal. rich is imported only when a bar is
shown, so a run that reports in another format (concise, JSON, SARIF in CI) does not load it."""

from __future__ import annotations


class Progress:
    """A transient progress bar on a TTY stderr, shown only once a run takes more than a moment."""

    def __init__(self, enabled: bool, delay: float = 0.5) -> None:
        self.enabled = enabled
        self.delay = delay
        self._bar = None
        self._task = None
        self._started = None

    def __enter__(self) -> "Progress":
        import time

        self._started = time.monotonic()
        return self

    def update(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        import time

        if self._bar is None:
            if time.monotonic() - self._started < self.delay or done >= total:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                "[progress.description]Checking", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("check", total=total)
        self._bar.update(self._task, completed=done)

    def __exit__(self, *exc_info) -> None:
        if self._bar is not None:
            self._bar.stop()
