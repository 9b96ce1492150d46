"""Every metric and label the Grafana dashboard and the alert rules query exists in a live scrape.

A renamed metric or label otherwise leaves a panel empty and an alert silent, with nothing red.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.deploy.promql import labels_in, labels_templated, metrics_in
from tests.deploy.scrape import Scrape, scrape_every_route

DASHBOARD = REPO / "deploy" / "grafana" / "consent-gateway.json"
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
TARGET_LABELS = {"job", "instance", "pod"}  # added by Prometheus at scrape time, not the gateway


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(where, expression, legend) of every panel target."""
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"], target.get("legendFormat", ""))
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def alert_queries() -> list[tuple[str, str, str]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [
        (rule["alert"], rule["expr"], " ".join(rule.get("annotations", {}).values()))
        for group in groups
        for rule in group["rules"]
    ]


def problems(scrape: Scrape, queries: list[tuple[str, str, str]]) -> list[str]:
    found = []
    for where, expr, legend in queries:
        names = metrics_in(expr) - {"up"}  # `up` is Prometheus' own
        missing = sorted(name for name in names if name not in scrape.samples)
        found += [f"{where}: {name} is in no scrape" for name in missing]
        offered = set().union(*(scrape.labels_of(name) for name in names)) | TARGET_LABELS
        wanted = labels_in(expr) | labels_templated(legend)
        found += [f"{where}: no label {label!r} on {sorted(names)}" for label in wanted - offered]
    return found


async def test_every_query_reads_series_a_live_gateway_exports(
    make_settings, vendor, tmp_path: Path
) -> None:
    scrape = await scrape_every_route(make_settings, vendor, tmp_path)
    dashboard, alerts = dashboard_queries(), alert_queries()
    assert len(dashboard) > 20
    assert len(alerts) >= 10
    assert "\n".join(problems(scrape, dashboard)) == ""
    assert "\n".join(problems(scrape, alerts)) == ""
    # Every metric the gateway exports has a place on the dashboard (a new one needs a panel).
    shown = {family_of(name) for _, expr, _ in dashboard for name in metrics_in(expr)}
    exported = {n for n in scrape.families if n.startswith("cg_") and not n.endswith("_created")}
    assert sorted(exported - shown) == []


def family_of(sample: str) -> str:
    for suffix in ("_total", "_bucket", "_count", "_sum"):
        if sample.endswith(suffix):
            return sample.removesuffix(suffix)
    return sample


@pytest.mark.parametrize(
    ("expr", "legend", "wrong"),
    [
        ('sum by (vendr) (cg_delivery_queue_depth{job="$job"})', "", "no label 'vendr'"),
        ("cg_delivery_queue_dept", "", "cg_delivery_queue_dept is in no scrape"),
        ("cg_delivery_queue_depth", "{{route}}", "no label 'route'"),
    ],
)
def test_the_check_sees_a_wrong_name(expr: str, legend: str, wrong: str) -> None:
    scrape = Scrape()
    scrape.add('# TYPE cg_delivery_queue_depth gauge\ncg_delivery_queue_depth{vendor="ga4"} 1.0\n')
    (problem,) = problems(scrape, [("panel", expr, legend)])
    assert wrong in problem


def test_the_dashboard_is_well_formed() -> None:
    """What Grafana's import needs and a reader expects: unique panel ids, panels within the
    24-column grid and not overlapping, one data source variable that every query uses."""
    dashboard = json.loads(DASHBOARD.read_text())
    panels = dashboard["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert set(variables) == {"datasource", "job", "instance"}
