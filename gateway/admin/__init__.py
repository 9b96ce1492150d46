"""The admin dashboard at `/admin`: token login, charts of what the gateway does, subjects.

routes     the URLs: login, logout, dashboard, receipts CSV, subject lookup/export/erase
session    the signed session cookie and the forms' CSRF tokens
csrf       the checks every form post passes
dashboard  what the page shows, read from the parts in `DashboardSources`
figures    counters shaped into panels (chart + table), pure
charts     SVG charts, pure
subjects   a subject's export summarised for the page
pages      templates and the strict response headers
"""

from gateway.admin.dashboard import DashboardSources
from gateway.admin.routes import AdminSite

__all__ = ["AdminSite", "DashboardSources"]
