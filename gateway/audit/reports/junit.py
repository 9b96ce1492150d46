"""JUnit XML for CI: a test suite per consent state, a test case per page.

A violation fails its page's test case; findings and notes go to `<system-out>`, so CI shows
them without failing on them. A page that could not be loaded, and a state the banner would
not let the audit choose, are errors. Every count attribute the JUnit schema asks for is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree

from gateway.audit.judge import NOT_LOADED, Item
from gateway.audit.record import AuditRun


def junit_report(audit: AuditRun, items: Sequence[Item]) -> str:
    suites = ElementTree.Element("testsuites", name=f"consent audit of {audit.url}")
    total = failed = broken = 0
    for run in audit.runs:
        suite = ElementTree.SubElement(
            suites, "testsuite", name=f"consent state: {run.state.label}"
        )
        cases = fails = errors = 0
        for visit in run.pages or []:
            cases += 1
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"consent_audit.{run.state.name}", name=visit.url
            )
            mine = [i for i in items if i.state == run.state.name and i.page == visit.url]
            unloaded = [i for i in mine if i.code == NOT_LOADED]
            if unloaded:
                errors += 1
                ElementTree.SubElement(
                    case, "error", type=NOT_LOADED, message=unloaded[0].message
                ).text = visit.error
            violations = [i for i in mine if i.level == "violation"]
            if violations:
                fails += 1
                failure = ElementTree.SubElement(
                    case, "failure", type=violations[0].code,
                    message=f"{len(violations)} consent violation(s): {violations[0].message}",
                )  # fmt: skip
                failure.text = "\n".join(_line(i) for i in violations)
            others = [i for i in mine if i.level != "violation" and i.code != NOT_LOADED]
            if others:
                ElementTree.SubElement(case, "system-out").text = "\n".join(map(_line, others))
        if run.error:
            cases += 1
            errors += 1
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"consent_audit.{run.state.name}", name="choice"
            )
            ElementTree.SubElement(case, "error", type="choice-failed", message=run.error)
        _counts(suite, cases, fails, errors)
        total, failed, broken = total + cases, failed + fails, broken + errors
    notes = [i for i in items if not i.state]
    if notes:
        ElementTree.SubElement(suites, "system-out").text = "\n".join(map(_line, notes))
    _counts(suites, total, failed, broken)
    ElementTree.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + ElementTree.tostring(suites, encoding="unicode")
        + "\n"
    )


def _counts(element: ElementTree.Element, tests: int, failures: int, errors: int) -> None:
    for name, value in (("tests", tests), ("failures", failures), ("errors", errors)):
        element.set(name, str(value))
    element.set("skipped", "0")


def _line(item: Item) -> str:
    cause = f" (caused by {item.cause})" if item.cause else ""
    rule = f" [{item.rule}]" if item.rule else ""
    known = f" — {item.known}" if item.known else ""
    return f"{item.level.upper()} {item.code}: {item.subject}: {item.message}{cause}{rule}{known}"
