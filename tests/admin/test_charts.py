"""The SVG charts: pure functions whose every piece of text from data is escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from gateway.admin.charts import Series, bar_rows, columns, compact, lines, nice_scale, share_bar

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & \' "'


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def child(node: ET.Element, tag: str) -> str:
    """The text of `node`'s `<tag>` child, which must be there."""
    found = node.find(f"{SVG}{tag}")
    assert found is not None
    return found.text or ""


def attribute(node: ET.Element, name: str) -> str:
    value = node.get(name)
    assert value is not None
    return value


def marks(svg: str, tag: str) -> list[ET.Element]:
    """The `<tag>` elements that carry a tooltip: the data, not the legend or the frame."""
    return [n for n in parse(svg).iter(f"{SVG}{tag}") if n.find(f"{SVG}title") is not None]


def texts(svg: str) -> list[str]:
    return ["".join(node.itertext()) for node in parse(svg).iter(f"{SVG}text")]


def every_chart(label: str) -> list[str]:
    return [
        columns("c1", label, label, [label, "2 Nov"], [Series(label, [1, 2], "accept")]),
        lines("c2", label, label, [label, "2 Nov"], [Series(label, [0.5, None], "cat1")]),
        bar_rows("c3", label, label, [(label, [3.0, 1.0])], [(label, "forward"), ("b", "block")]),
        share_bar("c4", label, label, [(label, 2.0, "accept"), ("other", 1.0, "reject")]),
    ]


@pytest.mark.parametrize("svg", every_chart(HOSTILE))
def test_every_label_title_and_description_is_escaped(svg: str) -> None:
    assert "<script>" not in svg
    assert '"x")' not in svg
    root = parse(svg)
    assert child(root, "title") == HOSTILE  # the text survives, as text
    assert child(root, "desc") == HOSTILE
    assert any(HOSTILE in "".join(node.itertext()) for node in root.iter(f"{SVG}title"))


@pytest.mark.parametrize("svg", every_chart("Accept all"))
def test_every_chart_is_a_named_image(svg: str) -> None:
    root = parse(svg)
    title = root.find(f"{SVG}title")
    assert title is not None
    chart_id = attribute(title, "id").removesuffix("-title")
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
    assert "style=" not in svg  # the page's CSP admits no style attributes


def test_an_unknown_tone_falls_back_instead_of_reaching_the_class_attribute() -> None:
    svg = columns("c", "t", "d", ["1 Nov"], [Series("s", [1], 'x" onload="alert(1)')])
    assert "onload" not in svg
    assert 'class="tone-other"' in svg


def test_stacked_columns_stack_each_day_to_its_total() -> None:
    svg = columns(
        "c",
        "Choices",
        "d",
        ["1 Nov", "2 Nov"],
        [Series("Accept", [3, 1], "accept"), Series("Reject", [1, None], "reject")],
    )
    bars = marks(svg, "rect")
    tooltips = [child(r, "title") for r in bars]
    assert tooltips == ["1 Nov · Accept: 3", "1 Nov · Reject: 1", "2 Nov · Accept: 1"]
    heights = [float(attribute(r, "height")) for r in bars]
    assert heights[0] == pytest.approx(3 * heights[2])
    assert heights[0] + heights[1] == pytest.approx(4 * heights[2])


def test_a_line_breaks_where_there_is_nothing_to_divide() -> None:
    svg = lines(
        "c", "t", "d", ["1", "2", "3", "4", "5"], [Series("A", [0.5, 1, None, 0.25, 0], "cat1")]
    )
    polylines = list(parse(svg).iter(f"{SVG}polyline"))
    assert [len(attribute(p, "points").split()) for p in polylines] == [2, 2]
    tooltips = [child(c, "title") for c in marks(svg, "circle")]
    assert tooltips == ["1 · A: 50%", "2 · A: 100%", "4 · A: 25%", "5 · A: 0%"]


def test_long_periods_label_about_eight_days_counted_back_from_today() -> None:
    days = [f"{n} Nov" for n in range(1, 31)]
    svg = columns("c", "t", "d", days, [Series("A", [1] * 30, "accept")])
    axis = [t for t in texts(svg) if t.endswith("Nov")]
    assert axis[-1] == "30 Nov"
    assert 6 <= len(axis) <= 8
    assert axis == days[29 - 4 * (len(axis) - 1) :: 4]


@pytest.mark.parametrize("svg", [
    columns("c", "t", "d", ["1 Nov"], [Series("A", [0], "accept")]),
    lines("c", "t", "d", ["1 Nov"], [Series("A", [None], "cat1")]),
    bar_rows("c", "t", "d", [], [("A", "forward")]),
    share_bar("c", "t", "d", [("A", 0.0, "accept")]),
])  # fmt: skip
def test_no_data_says_so(svg: str) -> None:
    assert "No data yet" in texts(svg)


def test_a_share_bar_labels_each_part_with_its_share() -> None:
    svg = share_bar("c", "t", "d", [("Accept", 3.0, "accept"), ("Reject", 1.0, "reject")])
    assert "Accept 75% (3)" in texts(svg)
    assert "Reject 25% (1)" in texts(svg)
    widths = [float(attribute(r, "width")) for r in marks(svg, "rect")]
    assert widths == pytest.approx([480, 160])


def test_a_long_row_label_is_shortened_but_kept_whole_in_its_tooltip() -> None:
    label = "a-campaign-with-a-very-long-name"
    svg = bar_rows("c", "t", "d", [(label, [1.0])], [("Human", "human")])
    axis = next(t for t in parse(svg).iter(f"{SVG}text") if t.get("text-anchor") == "end")
    assert axis.text == label[:17] + "…"
    assert child(axis, "title") == label


@pytest.mark.parametrize(
    ("maximum", "top", "step"),
    [(0, 4, 1), (1, 1, 1), (3, 3, 1), (4, 4, 1), (5, 6, 2), (9, 10, 5), (10, 10, 5),
     (37, 40, 10), (90, 100, 25), (101, 150, 50),
     (180, 200, 50), (1234, 1500, 500), (99_000, 100_000, 25_000)],
)  # fmt: skip
def test_nice_scale(maximum: float, top: float, step: float) -> None:
    assert nice_scale(maximum) == (top, step)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (12, "12"), (2.5, "2.5"), (999, "999"), (1000, "1k"), (1234, "1.2k"), (2_500_000, "2.5M")],
)  # fmt: skip
def test_compact(value: float, text: str) -> None:
    assert compact(value) == text


def test_numbers_in_the_svg_are_plain_coordinates() -> None:
    svg = columns("c", "t", "d", ["1 Nov"], [Series("A", [7], "accept")])
    assert not re.search(r'="[^"]*(nan|inf)', svg)
