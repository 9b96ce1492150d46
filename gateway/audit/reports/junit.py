"""JUnit XML for CI: a test suite per consent state, a test case per page.

A violation fails its page's test case; findings and notes go to `<system-out>`, so CI shows
them without failing on them. A state the banner would not let the audit choose is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree

from gateway.audit.judge import Item
from gateway.audit.record import AuditRun


def junit_report(audit: AuditRun, items: Sequence[Item]) -> str:
    suites = ElementTree.Element("testsuites", name=f"consent audit of {audit.url}")
    total = failed = 0
    for run in audit.runs:
        suite = ElementTree.SubElement(
            suites, "testsuite", name=f"consent state: {run.state.label}"
        )
        cases = fails = 0
        for visit in run.pages or []:
            cases += 1
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"consent_audit.{run.state.name}", name=visit.url
            )
            mine = [i for i in items if i.state == run.state.name and i.page == visit.url]
            violations = [i for i in mine if i.level == "violation"]
            if violations:
                fails += 1
                failure = ElementTree.SubElement(
                    case, "failure", type=violations[0].code,
                    message=f"{len(violations)} consent violation(s): {violations[0].message}",
                )  # fmt: skip
                failure.text = "\n".join(_line(i) for i in violations)
            others = [i for i in mine if i.level != "violation"]
            if others:
                ElementTree.SubElement(case, "system-out").text = "\n".join(map(_line, others))
        if run.error:
            cases += 1
            fails += 1
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"consent_audit.{run.state.name}", name="choice"
            )
            ElementTree.SubElement(case, "error", type="choice-failed", message=run.error)
        suite.set("tests", str(cases))
        suite.set("failures", str(fails))
        total, failed = total + cases, failed + fails
    notes = [i for i in items if not i.state]
    if notes:
        ElementTree.SubElement(suites, "system-out").text = "\n".join(map(_line, notes))
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    ElementTree.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + ElementTree.tostring(suites, encoding="unicode")
        + "\n"
    )


def _line(item: Item) -> str:
    cause = f" (caused by {item.cause})" if item.cause else ""
    rule = f" [{item.rule}]" if item.rule else ""
    return f"{item.level.upper()} {item.code}: {item.subject}: {item.message}{cause}{rule}"
