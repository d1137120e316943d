"""How reports print numbers and times: percentages, a value beside its threshold with the digits
that tell them apart, and times in UTC.

Rounded to one decimal, 49.96 % and 50.0 % both print "50.0%", and a reader sees "50.0 % against a
threshold of 50.0 %: below". A value and its threshold are printed with as many decimals as it takes
for the printed numbers to differ when the numbers do (and for a small threshold, such as
torchxrayvision's 0.04 %, not to print as 0.0 %); the web app does the same (utils/format.ts).
"""

import datetime

MAX_DECIMALS = 4


def format_percent(fraction: float, decimals: int = 1) -> str:
    return f"{fraction * 100:.{decimals}f}%"


def percent_pair(value: float, threshold: float) -> tuple[str, str]:
    """``value`` and ``threshold`` as percentages at the fewest decimals (one at least) that keep them
    apart, and the threshold off zero."""
    decimals = 1
    while decimals < MAX_DECIMALS and (
        (value != threshold and format_percent(value, decimals) == format_percent(threshold, decimals))
        or (threshold > 0 and float(f"{threshold * 100:.{decimals}f}") == 0)
    ):
        decimals += 1
    return format_percent(value, decimals), format_percent(threshold, decimals)


def format_time(moment: datetime.datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
