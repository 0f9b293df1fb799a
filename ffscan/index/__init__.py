"""The whole-program index: per-module facts gathered during the check, joined afterwards.

Each file's worker returns a `ModuleSummary` (what the module defines and re-exports) and the
findings it could not decide alone (`Deferred`: "report this if `pkg.db.audit` is a coroutine
function"). After every file is checked, `ProjectIndex` joins the summaries into a graph of
names and settles the deferred findings. Files are still parsed once, and per-file work stays
free of global state.
"""

from ffscan.index.summary import Deferred, ModuleSummary, summarize_module

__all__ = ["Deferred", "ModuleSummary", "summarize_module"]
