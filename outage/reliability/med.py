"""Major Event Days by the IEEE 1366 "2.5 beta" method.

Pure: daily SAIDI values in, the threshold and the days above it out.

The threshold for a reporting period comes from the daily SAIDI of the five years before
it: days with a SAIDI of zero are left out (their logarithm is undefined), alpha is the
mean and beta the *sample* standard deviation (n - 1, as the standard's worked example
and spreadsheet STDEV compute it) of the natural logarithms of the others, and
T_MED = exp(alpha + 2.5 beta). A day of the period whose SAIDI exceeds T_MED is a Major
Event Day. With fewer than two days with interruptions in the history there is no beta,
so no threshold and no Major Event Days.
"""

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

HISTORY_YEARS = 5
BETA_MULTIPLIER = 2.5


@dataclass(frozen=True)
class MedThreshold:
    alpha: float
    """Mean of ln(daily SAIDI) over the history's days with interruptions."""
    beta: float
    """Sample standard deviation of the same logarithms."""
    t_med: float
    """exp(alpha + 2.5 beta), in the unit of the daily SAIDI given."""
    days: int
    """History days with a SAIDI above zero, the ones the threshold stands on."""


def history_start(period_start: date) -> date:
    """The first day of the five years before `period_start` (29 February becomes the 28th)."""
    year = period_start.year - HISTORY_YEARS
    try:
        return period_start.replace(year=year)
    except ValueError:
        return period_start.replace(year=year, day=28)


def med_threshold(daily_saidi: Iterable[float]) -> MedThreshold | None:
    """T_MED from the daily SAIDI of the history; None with fewer than two non-zero days."""
    logs = []
    for value in daily_saidi:
        if value < 0:
            raise ValueError(f"a daily SAIDI cannot be negative ({value})")
        if value > 0:
            logs.append(math.log(value))
    if len(logs) < 2:
        return None
    alpha = statistics.fmean(logs)
    beta = statistics.stdev(logs, alpha)
    return MedThreshold(
        alpha=alpha, beta=beta, t_med=math.exp(alpha + BETA_MULTIPLIER * beta), days=len(logs)
    )


def major_event_days(daily_saidi: Mapping[date, float], t_med: float) -> list[date]:
    """The days whose SAIDI exceeds T_MED, in order."""
    return sorted(day for day, value in daily_saidi.items() if value > t_med)
