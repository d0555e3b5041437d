"""The validation dashboard's parts: results kept current from the bus, the chosen symbol-day, the
score heatmap and trend, open alerts, and the tier view with its drill-down to offending ticks."""

from app.components.validation.alerts import OpenAlerts
from app.components.validation.heatmap import ScoreHeatmap
from app.components.validation.results import ValidationResults
from app.components.validation.selection import DayPicker, DaySelection
from app.components.validation.tiers import TierView
from app.components.validation.trend import ScoreTrend

__all__ = [
    "DayPicker",
    "DaySelection",
    "OpenAlerts",
    "ScoreHeatmap",
    "ScoreTrend",
    "TierView",
    "ValidationResults",
]
