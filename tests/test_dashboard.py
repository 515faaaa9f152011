"""The dashboard page and its JS island are served (offline: no CDN assets)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.smoke
def test_dashboard_renders_with_its_script_and_styles(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="markets-table"' in html
    assert "/static/js/dashboard.js" in html
    assert "http://" not in html.replace("http://www.w3.org", "")


def test_dashboard_assets_are_served(client):
    js = client.get("/static/js/dashboard.js")
    assert js.status_code == 200
    assert "javascript" in js["Content-Type"]
    assert int(js["Content-Length"]) > 1000
    assert client.get("/static/css/dashboard.css").status_code == 200
