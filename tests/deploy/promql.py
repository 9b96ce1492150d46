"""What a PromQL expression reads: the metric names and the labels it names.

Enough of PromQL for the dashboard's and the alerts' queries: `name{label="x"}` selectors,
`by (...)` / `without (...)`, and the `{{label}}` of a legend or an annotation.

>>> sorted(metrics_in('sum by (vendor) (rate(cg_x_total{job="$job"}[5m])) > 0'))
['cg_x_total']
>>> sorted(labels_in('sum by (vendor, le) (rate(cg_x_total{job="$job",status=~"5.."}[5m]))'))
['job', 'le', 'status', 'vendor']
"""

from __future__ import annotations

import re

_FUNCTIONS_AND_WORDS = {
    "sum", "min", "max", "avg", "count", "rate", "irate", "increase", "delta", "by", "without",
    "and", "or", "unless", "on", "ignoring", "histogram_quantile", "max_over_time", "bool",
    "label_values", "humanize", "humanizeDuration", "humanizePercentage", "offset",
}  # fmt: skip
_NAME = re.compile(r"(?<![\w$\"{.])([a-zA-Z_:][\w:]*)\s*(?=[{\[(\s)]|$)")
_SELECTOR = re.compile(r"\{([^{}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)")
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
_TEMPLATE = re.compile(r"\{\{\s*\$?labels\.(\w+)\s*\}\}|\{\{\s*(\w+)\s*\}\}")


def metrics_in(expr: str) -> set[str]:
    bare = _SELECTOR.sub(" ", _GROUPING.sub(" ", expr))
    bare = re.sub(r"\[[^\]]*\]", " ", bare)
    bare = re.sub(r"\"[^\"]*\"", " ", bare)
    return {
        name
        for name in _NAME.findall(bare)
        if name not in _FUNCTIONS_AND_WORDS and not re.fullmatch(r"[\d.]+\w*", name)
    }


def labels_in(expr: str) -> set[str]:
    labels = {label for body in _SELECTOR.findall(expr) for label in _MATCHER.findall(body)}
    for grouping in _GROUPING.findall(expr):
        labels |= {part.strip() for part in grouping.split(",") if part.strip()}
    return labels


def labels_templated(text: str) -> set[str]:
    """`{{vendor}}` in a legend, `{{ $labels.vendor }}` in an annotation."""
    return {a or b for a, b in _TEMPLATE.findall(text)}
