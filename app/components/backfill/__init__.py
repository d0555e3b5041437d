"""The backfill dashboard's parts: the range and its coverage (heatmap, gap list), the button that
fills the selection, the latest run's live progress, failed chunks with a retry, the request budget
in use and the run history."""

from app.components.backfill.actions import BackfillActions
from app.components.backfill.budget import BudgetGauge
from app.components.backfill.failed import FailedChunks
from app.components.backfill.gaps import GapList
from app.components.backfill.heatmap import CoverageHeatmap, RangePicker
from app.components.backfill.history import RunHistory
from app.components.backfill.progress import ChunkProgress
from app.components.backfill.state import Coverage
from app.components.backfill.tasks import BackfillTasks

__all__ = [
    "BackfillActions",
    "BackfillTasks",
    "BudgetGauge",
    "ChunkProgress",
    "Coverage",
    "CoverageHeatmap",
    "FailedChunks",
    "GapList",
    "RangePicker",
    "RunHistory",
]
