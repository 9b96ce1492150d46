"""`consent-gateway audit`: judge a site, in a real browser, against its own consent rules.

    crawl.py     Chromium visits the site once per consent state, choosing through the banner
    record.py    what a visit leaves behind: requests, cookies, storage keys, gateway decisions
    states.py    the consent states and the banner clicks that reach each one
    config.py    what the site promised: vendors, their hosts, cookies and categories
    judge.py     pure: records + promises -> violations, findings, notes
    sites.py     which hosts are one site (the Public Suffix List, offline)
    cookie_database.py  what a cookie or storage key is (Open Cookie Database CSV format)
    knowledge.py the undeclared cookies and keys, told apart by that database
    suggest.py   a draft tag rule per undeclared platform (`--suggest-rules DIR`)
    scrub.py     any text a site stores, made safe for JSON, XML 1.0, HTML and a terminal
    reports/     terminal, JSON, JUnit XML, self-contained HTML
    pytest_plugin.py  the same, as fixtures and assertions for a site's own test suite

Playwright and publicsuffixlist are needed only here: install `consent-gateway[audit]`.
"""
