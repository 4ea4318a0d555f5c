"""No dashboard page or form answers 5xx to an edited URL or form: every path, query and form value
of every dashboard route (and the confirm pages behind emailed links) gets digits no int() reads,
a number too large for any database, a negative one, a very long non-ASCII string and a NUL, and the
answer is a page saying what is wrong. On both backends: PostgreSQL refuses some strings SQLite keeps."""

import re
from urllib.parse import quote

import pytest

from tests.conftest import add_user
from tests.integration.api_fixtures import install
from tests.integration.test_dashboard_permissions import POST_ID, log_in, page_routes

ODD_VALUES = ["²", "9" * 5000, "-1", "é" * 3000, "1\x00"]
# Filled in when another value of the route is the odd one: ids that exist.
PATH_VALUES = {"post_id": POST_ID, "statement_id": "{s}", "incident_id": "{i}"}
SKIPPED = {"/logout"}  # it would end the session the rest of the walk uses


@pytest.fixture
def site(settings):
    return install(settings, dispatch=lambda settings, ids: None)


def _path(route_path: str, site, odd_name: str | None = None, odd: str = "") -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name == odd_name:
            return quote(odd, safe="")
        return PATH_VALUES.get(name, "1").format(s=site.statement_id, i=site.incident_id)
    return re.sub(r"\{(\w+)\}", value, route_path)


def test_no_dashboard_route_answers_5xx_to_odd_path_query_or_form_values(site, settings):
    add_user(settings, "everyone", ["author", "approver", "admin", "social"])  # reaches every code path
    csrf = log_in(site, settings, "everyone")
    failures = []
    for route in page_routes():
        if route.path in SKIPPED:
            continue
        dependant = route.dependant
        fields = [p.alias for p in dependant.query_params + dependant.body_params if p.alias != "csrf_token"]
        paths = [p.alias for p in dependant.path_params]
        for method in sorted(route.methods - {"HEAD"}):
            for name in paths + fields:
                for odd in ODD_VALUES:
                    url = _path(route.path, site, name if name in paths else None, odd)
                    given = {} if name in paths else {name: odd}
                    if method == "GET":
                        response = site.client.get(url, params=given)
                    else:
                        response = site.client.post(url, data={"csrf_token": csrf, **given})
                    if response.status_code >= 500 or "text/html" not in response.headers["content-type"]:
                        failures.append((method, route.path, name, odd[:10], response.status_code))
    assert not failures, "\n".join(map(str, failures))
