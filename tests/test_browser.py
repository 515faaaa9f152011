"""The dashboard in a real browser: Playwright for Python driving Debian's Chromium.

A live daphne on the embedded default (a temp SQLite file with the sample data, the news
samples, the replayed market up to now and the demo forecasts of ``make run``; mail written to
files by Django's file-based backend) serves the pages; a second Django process stores quotes
the way a sync does and runs the alert sweep (and the mail delivery) the way the worker does.
The user flow: a user signs up through /signup, confirms the address from the link in the mail,
signs in through /signin, sees a price arrive over the WebSocket on the markets table, opens a
coin page with candles and the forecast band, adds the coin to a watchlist, sets an alert, sees
it fire from a replayed move with the unread badge changing without a reload, opens
/notifications, /watchlists, /alerts and signs out. A second user turns on TOTP two-factor on
/account and signs in again with a code at /signin/code. Plus the markets page saying the feed
is stale when quotes stop, and its error state when the API is down.

Any console error, page error, failed request, HTTP error response or request to another host
fails a test; only the deliberately broken page (API answering 503) has an allow-list, for
exactly the 503s it provokes. Screenshots of every page (desktop and phone width) go to
var/screenshots/.

Playwright's own browser download does not work here: the test uses /usr/bin/chromium
(``.ci/run`` installs it) and skips, with the reason, when it is absent outside CI.
"""

from __future__ import annotations

import email
import os
import re
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from django.conf import settings

from tests.live import PY, ROOT, Daphne, DjangoProcess, free_port, server_env

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
USER = "ada@example.com"
PASSWORD = "correct horse battery staple"

# No django_db mark: the sync Playwright API runs an event loop in this thread. The server's
# database is its own SQLite file, migrated by manage.py and loaded by the helper process.

if not CHROMIUM.exists():
    if os.environ.get("CRYPTOCAST_CI"):  # set by .ci/run, which installs it
        raise RuntimeError(f"{CHROMIUM} is missing in CI (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

# What `make setup` + `make run`'s demo-forecasts step (and the worker's first quote sync) do,
# cut down to one coin, one quick model (naive is always trained) and 7 horizons; one
# call_command each in the helper process, which saves a Django start-up per command.
SETUP_COMMANDS = [
    ["load_sample_data"],
    ["load_news_samples"],
    ["replay_fill"],
    ["sync_markets", "--provider", "replay", "--top", "10"],  # the worker's first quote sync
    ["train_models", "--symbols", "BTC", "--models", "drift", "--horizons", "7"],
    ["generate_forecasts", "--symbols", "BTC", "--models", "auto,naive,drift"],
]
SETUP = """
import io
from django.core.management import call_command
out = io.StringIO()
for args in {commands!r}:
    call_command(*args, stdout=out, stderr=out)
result = out.getvalue()[-4000:]
"""

# The worker's minute sweep, run eagerly: evaluate every active alert, deliver what is due
# (in-app push = a publish on the user's notifications channel).
SWEEP = """
from alerts import tasks
result = tasks.sweep.apply().get()
"""

# A replayed move: the coin's latest quote again, now, at ``factor`` x its price (its other
# figures kept, market cap scaled), stored the way a sync does; the new price comes back.
MOVE = """
from datetime import UTC, datetime
from markets import selectors
from markets.contracts import AssetData, QuoteBatch, QuoteData
from markets.services import quotes_store
q = selectors.latest_quotes(ids=[{coin!r}])[0]
price = round(q.price * {factor!r}, 2)
if round(price * 100) % 10 == 0:  # the pages drop trailing zeros: keep the cents unambiguous
    price = round(price + 0.01, 2)
now = datetime.now(UTC)
kept = {{f: getattr(q, f) for f in ("volume_24h", "change_1h", "change_24h", "change_7d",
                                    "high_24h", "low_24h")}}
cap = q.market_cap * price / q.price if q.market_cap else None
asset = AssetData(slug=q.asset_id, symbol=q.asset.symbol, name=q.asset.name, rank=q.asset.rank)
quote = QuoteData(asset=asset, price=price, source="replay", as_of=now, fetched_at=now,
                  market_cap=cap, **kept)
quotes_store(batch=QuoteBatch(source="replay", quotes=(quote,)))
result = price
"""


def move(live: dict, coin: str, factor: float) -> float:
    return float(live["writer"].run(MOVE.format(coin=coin, factor=factor)))


# A user made the way a finished sign-up + e-mail confirmation leaves one (for the tests that
# are not about signing up); they still sign in through the /signin form.
ENSURE_USER = """
from accounts.models import User
if not User.objects.filter(email={email!r}).exists():
    User.objects.create_user(email={email!r}, password={password!r}, email_verified=True)
"""

# No worker runs here: deliver what the sign-up queued, in the helper process. First any
# outbox/mail sweep task the project has (accounts.mail_sweep: the mail outbox rows); only
# when that leaves no mail (``send``), the older per-mail task itself, eagerly, if it exists.
DELIVER_MAIL = """
from celery import current_app
current_app.loader.import_default_modules()
ran = []
def sweeps():
    for name in sorted(current_app.tasks):
        low = name.lower()
        sweep = any(w in low for w in ("sweep", "deliver", "flush"))
        if "outbox" in low or ("mail" in low and sweep):
            try:
                ran.append([name, current_app.tasks[name].apply(throw=True).get()])
            except TypeError:  # needs arguments: not a sweep
                pass
sweeps()
task = current_app.tasks.get("accounts.send_email_verification_mail")  # before the outbox
if {send!r} and task is not None:
    from accounts.models import User
    user_id = User.objects.get(email={email!r}).pk
    ran.append([task.name, task.apply(kwargs={{"user_id": user_id}}, throw=True).get()])
    sweeps()
result = ran
"""

EMAIL_VERIFIED = """
from accounts.models import User
result = User.objects.get(email={email!r}).email_verified
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    data = settings.CRYPTOCAST_SAMPLE_DATA
    if not data or not (Path(data) / "ohlcv").is_dir():
        pytest.skip("CRYPTOCAST_SAMPLE_DATA is not set to a directory")
    tmp = tmp_path_factory.mktemp("browser")
    port = free_port()  # known before the server starts: the mailed links point at it
    mail = tmp / "mail"
    env = server_env(
        tmp,
        keep_redis=False,
        CRYPTOCAST_SAMPLE_DATA=data,
        MODEL_ARTIFACTS_DIR=tmp / "models",
        # settings read the mail backend from EMAIL_URL (django-environ): filemail:// + an
        # absolute path = django's file-based backend writing every mail into ``mail``.
        EMAIL_URL=f"filemail:///{mail}",
        EMAIL_VERIFY_URL_TEMPLATE=f"http://127.0.0.1:{port}/verify-email#token={{token}}",
        PASSWORD_RESET_URL_TEMPLATE=(
            f"http://127.0.0.1:{port}/reset-password#uid={{uid}}&token={{token}}"
        ),
    )
    done = subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    server = Daphne(env, tmp / "daphne.log", port=port)  # starts while the helper loads data
    writer = DjangoProcess(env)
    try:
        writer.run(SETUP.format(commands=SETUP_COMMANDS))
        server.wait_ready()
        yield {"server": server, "writer": writer, "mail": mail}
    finally:
        writer.stop()
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_sync.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Watched:
    """A page whose console errors, failed requests and foreign requests are recorded.

    ``allow``: patterns of problems this page provokes on purpose (they are kept apart in
    ``allowed`` so the test can check they happened); anything else still fails.
    """

    def __init__(  # type: ignore[no-untyped-def]
        self, browser, base: str, viewport: dict, *, allow: Sequence[str] = (), cookies=()
    ) -> None:
        self.problems: list[str] = []
        self.allowed: list[str] = []
        self.allow = [re.compile(p) for p in allow]
        self.host = urlsplit(base).netloc
        self.context = browser.new_context(viewport=viewport)
        if cookies:
            self.context.add_cookies(list(cookies))
        self.page = self.context.new_page()
        page = self.page
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self._problem(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.on("request", self._request)

    def _problem(self, text: str) -> None:
        if any(p.search(text) for p in self.allow):
            self.allowed.append(text)
        else:
            self.problems.append(text)

    def _console(self, msg) -> None:  # type: ignore[no-untyped-def]
        if msg.type == "error":
            self._problem(f"console error: {msg.text}")

    def _failed(self, request) -> None:  # type: ignore[no-untyped-def]
        self._problem(f"request failed: {request.method} {request.url} ({request.failure})")

    def _response(self, response) -> None:  # type: ignore[no-untyped-def]
        if response.status >= 400:
            self._problem(f"HTTP {response.status}: {response.url}")

    def _request(self, request) -> None:  # type: ignore[no-untyped-def]
        url = urlsplit(request.url)
        if url.scheme in {"http", "https", "ws", "wss"} and url.netloc != self.host:
            self.problems.append(f"external request: {request.url}")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert self.problems == [], "\n".join(self.problems)


def sign_in(page, base: str, address: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Fill and submit the /signin form (the caller checks where it leads)."""
    page.goto(base + "/signin")
    form = page.locator("#signin-form")
    form.locator("[name=email]").fill(address)
    form.locator("[name=password]").fill(password)
    form.locator("button[type=submit]").click()


def signed_in(browser, live: dict, viewport: dict, address: str = USER) -> Watched:  # type: ignore[no-untyped-def]
    """A watched page signed in as ``address`` through the /signin form (the user is made,
    already confirmed, in the helper process when missing)."""
    base = live["server"].url
    live["writer"].run(ENSURE_USER.format(email=address, password=PASSWORD))
    w = Watched(browser, base, viewport)
    sign_in(w.page, base, address)
    expect(w.page.locator("#nav-account")).to_be_visible()
    settle(w.page)  # the markets page it lands on is done loading: leaving aborts nothing
    return w


def mails_to(live: dict, address: str) -> list[email.message.Message]:
    """Every mail the file-based backend wrote for ``address``, oldest first."""
    found = []
    files = sorted(live["mail"].glob("*.log"), key=lambda f: f.stat().st_mtime_ns)
    for file in files:
        # One file per connection; its messages are separated by a line of 79 dashes.
        for chunk in file.read_text().split("\n" + "-" * 79 + "\n"):
            message = email.message_from_string(chunk.strip())
            if address in (message.get("To") or ""):
                found.append(message)
    return found


def verification_link(live: dict, address: str) -> str:
    """The link of the newest verification mail to ``address``.

    The server may have sent it already (mail sent on commit); else the helper process runs what
    a worker would (an outbox sweep if the project has one, else the mail task itself).
    """
    ran: list = []
    for send in (False, True):
        if mails_to(live, address):
            break
        ran += live["writer"].run(DELIVER_MAIL.format(email=address, send=send))
    messages = mails_to(live, address)
    assert messages, f"no mail to {address} in {live['mail']} (ran {ran})"
    body = messages[-1].get_payload(decode=True).decode()
    found = re.search(r"https?://\S+/verify-email#token=\S+", body)
    assert found, body
    return found.group(0)


def settle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the page's islands have made their start-up requests (the unread badge's
    ticket, socket and first count), so that leaving the page aborts none of them."""
    badge = page.locator("#notif-badge")
    if badge.count():
        expect(badge).to_have_attribute("data-transport", "websocket", timeout=20_000)
    page.wait_for_load_state("networkidle")


def test_markets_table_shows_a_price_stored_by_another_process_over_the_websocket(live, browser):
    base = live["server"].url
    w = Watched(browser, base, DESKTOP)
    page = w.page
    page.goto(base + "/")
    rows = page.locator("#markets-table tbody tr[data-id]")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 3
    expect(page.locator("#markets-status")).to_contain_text("live (WebSocket)", timeout=20_000)
    price = page.locator('#markets-table tr[data-id="bitcoin"] [data-k="price"]')
    before = price.inner_text()

    moved = move(live, "bitcoin", 1.0013)  # a price no process had: only the stream has it

    assert f"{moved:,.2f}" != before
    expect(price).to_have_text(f"{moved:,.2f}", timeout=20_000)
    source = page.locator('#markets-table tr[data-id="bitcoin"] [data-k="source"]')
    expect(source).to_contain_text("replay")
    w.close()


def test_markets_page_says_the_feed_is_stale_when_quotes_stop_arriving(live, browser):
    base = live["server"].url
    move(live, "bitcoin", 1.0)  # a fresh quote: the page starts with bitcoin not stale
    w = Watched(browser, base, DESKTOP)
    page = w.page
    page.clock.install()  # the page's own clock: time passes with no quote arriving
    page.goto(base + "/")
    expect(page.locator("#markets-status")).to_contain_text("live (WebSocket)", timeout=20_000)
    age = page.locator('#markets-table tr[data-id="bitcoin"] [data-k="as_of"]')
    banner = page.locator("#feed-banner")
    expect(age).not_to_contain_text("stale")
    expect(banner).to_be_hidden()

    page.clock.fast_forward(settings.MARKETS_QUOTE_STALE_SECONDS * 1000 + 60_000)

    expect(age.locator(".badge.stale")).to_be_visible(timeout=10_000)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Prices are stale")
    w.shot("markets-stale-desktop")
    w.close()


def test_markets_page_shows_its_error_state_when_the_api_is_down(live, browser):
    base = live["server"].url
    # Deliberately broken: every /api/v1/ request answers 503 and the stream socket closes.
    # Chromium logs each failed load as a console error; only those are allowed, not any
    # page error (an uncaught exception still fails the test).
    w = Watched(
        browser,
        base,
        DESKTOP,
        allow=[
            r"^HTTP 503: .*/api/v1/",
            r"^console error: Failed to load resource: the server responded with a status of 503",
            # the page closes its EventSource on the 503 and falls back to polling: when the
            # close wins the race with the response, Chromium reports the SSE request aborted
            r"^request failed: GET .*/api/v1/stream/sse\?.* \(net::ERR_ABORTED\)$",
        ],
    )
    page = w.page
    page.route(
        re.compile(r"/api/v1/"),
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body='{"errors": [{"code": "unavailable", "detail": "down for the test"}]}',
        ),
    )
    page.route_web_socket(re.compile(r"/api/v1/stream/"), lambda ws: ws.close())
    page.goto(base + "/")
    rows = page.locator("#markets-table tbody tr[data-id]")
    expect(rows.first).to_be_visible()  # the server-rendered table is still there
    banner = page.locator("#feed-banner")
    expect(banner).to_be_visible(timeout=20_000)
    expect(banner).to_contain_text("The price API is not answering")
    expect(banner).to_contain_text("503")
    expect(page.locator("#chart-status")).to_contain_text("no chart until the API answers")
    # Reconnect attempts (socket, then SSE, then polling) must not clear the error state.
    page.wait_for_timeout(4_000)
    expect(banner).to_contain_text("The price API is not answering")
    w.shot("markets-api-down-desktop")
    assert any("503" in a for a in w.allowed), "the route did not break the API"
    w.close()


def test_coin_page_draws_candles_and_the_forecast_band_and_says_how_it_compares(live, browser):
    base = live["server"].url
    w = Watched(browser, base, DESKTOP)
    page = w.page
    with page.expect_response(lambda r: "/api/v1/forecasts?" in r.url) as forecast_response:
        page.goto(base + "/coins/bitcoin")
    expect(page.locator("#candles canvas").first).to_be_visible(timeout=20_000)
    expect(page.locator("#candles-status")).to_contain_text("1d candles · source")
    served = forecast_response.value.json()["data"][0]
    assert len(served["points"]) == 7, served  # the band the chart draws beyond the last candle
    forecast = page.locator("#forecast")
    expect(forecast).not_to_contain_text("No forecast has been issued")
    expect(forecast).to_contain_text("tomorrow = today")
    expect(forecast.locator("tbody tr")).to_have_count(7)
    expect(page.locator("#coin-news")).to_be_visible()
    expect(page.locator("#signin-to-watch")).to_be_visible()  # anonymous: a sign-in link
    w.close()


def test_a_user_signs_up_confirms_signs_in_watches_a_coin_gets_an_alert_and_signs_out(
    live, browser
):
    writer = live["writer"]
    base = live["server"].url
    w = Watched(browser, base, DESKTOP)
    page = w.page

    # Sign up through /signup: no session yet, a confirmation mail, sent on to /signin.
    page.goto(base + "/")
    settle(page)
    page.click("#nav-signup")
    form = page.locator("#signup-form")
    form.locator("[name=email]").fill(USER)
    form.locator("[name=display_name]").fill("Ada")
    form.locator("[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(base + "/signin")
    expect(page.locator(".messages")).to_contain_text("Account created")
    expect(page.locator("#nav-signin")).to_be_visible()
    assert writer.run(EMAIL_VERIFIED.format(email=USER)) is False

    # The link in the mail: the fragment-form island fills the code in, the user submits.
    link = verification_link(live, USER)
    assert link.startswith(base + "/verify-email#token="), link
    page.goto(link)
    verify = page.locator("#verify-email-form")
    expect(verify.locator(".fragment-found")).to_be_visible()
    expect(verify.locator(".fragment-manual")).to_be_hidden()
    assert verify.locator("[name=token]").input_value() == link.split("#token=", 1)[1]
    expect(page).to_have_url(base + "/verify-email")  # the code is gone from the address bar
    verify.locator("button[type=submit]").click()
    expect(page).to_have_url(base + "/signin")
    expect(page.locator(".messages")).to_contain_text("E-mail address verified.")
    assert writer.run(EMAIL_VERIFIED.format(email=USER)) is True

    # Sign in through /signin.
    sign_in(page, base, USER)
    expect(page).to_have_url(base + "/")
    expect(page.locator("#nav-account")).to_be_visible()
    expect(page.locator("#nav-signin")).to_have_count(0)

    # The markets table, signed in: a price over the WebSocket.
    expect(page.locator("#markets-status")).to_contain_text("live (WebSocket)", timeout=20_000)
    price = page.locator('#markets-table tr[data-id="bitcoin"] [data-k="price"]')
    moved = move(live, "bitcoin", 1.0007)
    expect(price).to_have_text(f"{moved:,.2f}", timeout=20_000)
    settle(page)

    page.goto(base + "/coins/bitcoin")
    expect(page.locator("#candles canvas").first).to_be_visible(timeout=20_000)
    expect(page.locator("#forecast")).to_contain_text("tomorrow = today")
    badge = page.locator("#notif-badge")
    settle(page)  # the candles and forecast requests are done: submitting aborts none

    # Watch: the coin page's form, into a new watchlist.
    page.select_option("#watch-list", "new")
    page.fill("#watch-new", "Majors")
    page.click("#watch-button")
    expect(page.locator(".messages")).to_contain_text("Added bitcoin to “Majors”")
    expect(page.locator("#watch-list option", has_text="Majors")).to_contain_text("already in")
    settle(page)

    # Alert: crosses above 1% over the current price, set with the coin page's form.
    now = move(live, "bitcoin", 1.0)  # a fresh quote below the threshold
    threshold = round(now * 1.01, 2)
    if round(threshold * 100) % 10 == 0:  # shown without trailing zeros: keep it unambiguous
        threshold = round(threshold + 0.01, 2)
    page.select_option("#alert-kind", "crosses_above")
    page.fill("#alert-value", f"{threshold}")
    page.click("#alert-button")
    expect(page.locator(".messages")).to_contain_text(
        f"Alert set: bitcoin: price crosses above {threshold:,.2f}"
    )
    expect(page.locator("#coin-actions")).to_contain_text("Your alerts on BTC")
    writer.run(SWEEP)  # the first look: the price is below the threshold, nothing fires
    settle(page)  # the badge is live again on the page the alert form redirected to
    expect(badge).to_have_attribute("data-unread", "0")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    # The replayed move: a quote above the threshold, then the worker's sweep.
    moved = move(live, "bitcoin", 1.015)
    assert moved > threshold
    report = writer.run(SWEEP)
    assert report["fired"] == 1, report

    expect(badge).to_have_attribute("data-unread", "1", timeout=20_000)
    expect(badge).not_to_have_class(re.compile(r"\bzero\b"))
    expect(page.locator("#coin-price")).to_have_text(f"{moved:,.2f}")  # the live quote too
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    w.shot("coin-signed-in-desktop")

    page.click("#notif-link")
    settle(page)
    notes = page.locator("#notifications li.note.unread")
    expect(notes).to_have_count(1)
    expect(notes.first).to_contain_text("bitcoin")
    expect(notes.first).to_contain_text("crossed above")
    page.goto(base + "/watchlists")
    settle(page)
    majors = page.locator("section.watchlist").filter(has_text="Majors")
    expect(majors.locator('tr[data-coin="bitcoin"]')).to_be_visible()
    page.goto(base + "/alerts")
    settle(page)
    alert = page.locator("#alert-list .alert-row").first
    expect(alert).to_contain_text("crosses above")
    expect(alert.locator(".events")).to_contain_text("crossed above")

    # Sign out: the menu offers Sign in again and the signed-in pages send to /signin.
    page.click("#nav-signout")
    expect(page).to_have_url(base + "/")
    expect(page.locator("#nav-signin")).to_be_visible()
    expect(page.locator("#nav-account")).to_have_count(0)
    expect(page.locator(".messages")).to_contain_text("Signed out.")
    settle(page)
    page.goto(base + "/alerts")
    expect(page).to_have_url(re.compile(r"/signin\?next=(/|%2F)alerts$"))
    expect(page.locator("#signin-form")).to_be_visible()
    w.close()


def test_a_user_turns_on_two_factor_and_signs_in_with_a_code(live, browser):
    base = live["server"].url
    address = "grace@example.com"
    w = signed_in(browser, live, DESKTOP, address)
    page = w.page
    page.click("#nav-account")
    settle(page)

    # An API key, shown once.
    page.locator("#api-key-form [name=name]").fill("laptop")
    page.locator("#api-key-form button[type=submit]").click()
    expect(page.locator("#new-api-key-value")).not_to_be_empty()
    expect(page.locator("#api-key-table")).to_contain_text("laptop")
    settle(page)

    # Enrol: the secret (and QR code) on the page, the authenticator app's code confirms it.
    page.locator("#mfa-enrol-form button[type=submit]").click()
    expect(page.locator("#totp-qr")).to_be_visible()
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().strip())
    settle(page)
    w.shot("account-2fa-enrol-desktop")
    step = int(time.time()) // totp.interval
    page.locator("#mfa-confirm-form [name=code]").fill(totp.generate_otp(step))
    page.locator("#mfa-confirm-form button[type=submit]").click()
    codes = page.locator("#recovery-codes")
    expect(codes).to_contain_text("Two-factor authentication is on.")
    assert codes.locator("li").count() >= 8
    settle(page)

    page.click("#nav-signout")
    expect(page.locator("#nav-signin")).to_be_visible()
    settle(page)

    # The password alone is not enough now: /signin/code asks for the app's code. A code is
    # accepted once per time step, so the next step's (within MFA_TOTP_VALID_WINDOW) is used.
    assert settings.MFA_TOTP_VALID_WINDOW >= 1
    sign_in(page, base, address)
    expect(page).to_have_url(base + "/signin/code")
    expect(page.locator("#nav-account")).to_have_count(0)
    w.shot("signin-code-desktop")
    form = page.locator("#signin-code-form")
    form.locator("[name=code]").fill(totp.generate_otp(step + 1))
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(base + "/")
    expect(page.locator("#nav-account")).to_be_visible()
    settle(page)
    w.close()


ANONYMOUS_PAGES = [("/signin", "signin"), ("/signup", "signup")]
PAGES = [
    ("/", "markets"),
    ("/coins/bitcoin", "coin"),
    ("/news", "news"),
    ("/forecasts", "forecasts"),
    ("/watchlists", "watchlists"),
    ("/alerts", "alerts"),
    ("/notifications", "notifications"),
    ("/account", "account"),
]


@pytest.mark.parametrize(("viewport", "width"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_every_page_renders_without_errors_and_fits_its_width(live, browser, viewport, width):
    base = live["server"].url
    live["writer"].run(ENSURE_USER.format(email=USER, password=PASSWORD))
    w = Watched(browser, base, viewport)
    page = w.page
    too_wide = []

    def visit(path: str, name: str) -> None:
        response = page.goto(base + path)
        assert response is not None and response.status == 200, (path, response)
        settle(page)
        w.shot(f"{name}-{width}")
        # Wide tables scroll inside their own box; the page itself must not scroll sideways.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            too_wide.append(f"{path} is {overflow}px wider than the window")

    for path, name in ANONYMOUS_PAGES:
        visit(path, name)
    sign_in(page, base, USER)
    expect(page.locator("#nav-account")).to_be_visible()
    settle(page)
    for path, name in PAGES:
        visit(path, name)
    assert too_wide == []
    w.close()


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_render_from_this_site_alone(live, browser, path):
    base = live["server"].url
    w = Watched(browser, base, DESKTOP)
    page = w.page
    page.goto(base + path)
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("cryptocast", exact=False).first).to_be_visible(timeout=20_000)
    w.close()
