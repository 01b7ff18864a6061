"""Bar charts drawn on the server: the geometry of each bar, for ``audit/_chart.html`` to
write as SVG ``<rect>`` and ``<text>`` elements (no script, no inline style: CSS classes)."""

import math
from dataclasses import dataclass
from datetime import date

WIDTH = 560
# Columns (one a day): room above for the values, below for the dates.
COLUMNS_HEIGHT = 220
COLUMNS_TOP = 18
COLUMNS_BOTTOM = 24
COLUMNS_SIDE = 18
COLUMNS_TICKS = 6
# Rows (one a person or code): room on the left for the labels, on the right for the values.
ROW = 26
BAR = 18
LABEL_WIDTH = 150
VALUE_WIDTH = 50
LABEL_CHARS = 20


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    # Where the value and the label are written; ``tick`` is the label as drawn ("" when
    # the axis shows only some labels).
    value_x: float
    value_y: float
    label_x: float
    label_y: float
    tick: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    unit: str
    heading: str  # what the labels are: the table's first column
    horizontal: bool
    width: int
    height: int
    bars: list[Bar]

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)

    @property
    def summary(self) -> str:
        """The chart in a sentence, for screen readers."""
        if not self.total:
            return f"No {self.unit}."
        top = max(self.bars, key=lambda bar: bar.value)
        return f"{self.total:,} {self.unit} in all; the most, {top.value:,}, for {top.label}."

    @property
    def baseline(self) -> float:
        return self.height - COLUMNS_BOTTOM


def daily_columns(id: str, title: str, unit: str, series: list[tuple[date, int]]) -> Chart:
    """A column a day, the tallest reaching the top; a date under every few columns."""
    plot = COLUMNS_HEIGHT - COLUMNS_TOP - COLUMNS_BOTTOM
    slot = (WIDTH - 2 * COLUMNS_SIDE) / max(len(series), 1)
    width = slot * 0.7
    most = max((n for _, n in series), default=0)
    every = max(1, math.ceil(len(series) / COLUMNS_TICKS))
    bars = []
    for position, (day, n) in enumerate(series):
        height = plot * n / most if most else 0
        x = COLUMNS_SIDE + position * slot + (slot - width) / 2
        y = COLUMNS_TOP + plot - height
        middle = x + width / 2
        # Counting back from the last day, so today always has its date.
        shown = (len(series) - 1 - position) % every == 0
        tick = f"{day.day} {day:%b}" if shown else ""
        bars.append(
            Bar(
                label=day.isoformat(),
                value=n,
                x=x,
                y=y,
                width=width,
                height=height,
                value_x=middle,
                value_y=y - 4,
                label_x=middle,
                label_y=COLUMNS_HEIGHT - 6,
                tick=tick,
            )
        )
    return Chart(id, title, unit, "Day", False, WIDTH, COLUMNS_HEIGHT, bars)


def ranked_bars(
    id: str, title: str, unit: str, heading: str, items: list[tuple[str, int]]
) -> Chart:
    """A row each, longest first as given; labels on the left, values after the bars."""
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    most = max((n for _, n in items), default=0)
    bars = []
    for position, (label, n) in enumerate(items):
        length = plot * n / most if most else 0
        y = position * ROW + (ROW - BAR) / 2
        middle = y + BAR / 2
        tick = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        bars.append(
            Bar(
                label=label,
                value=n,
                x=LABEL_WIDTH,
                y=y,
                width=length,
                height=BAR,
                value_x=LABEL_WIDTH + length + 6,
                value_y=middle,
                label_x=LABEL_WIDTH - 8,
                label_y=middle,
                tick=tick,
            )
        )
    return Chart(id, title, unit, heading, True, WIDTH, max(len(items), 1) * ROW, bars)
