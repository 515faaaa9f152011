// Dashboard island: the market table lives on the WebSocket stream (quotes:*), falls back to
// SSE, then to polling REST every 15 s; the chart draws history + forecast bands.
(function () {
  "use strict";
  const REFRESH_MS = 15000;
  const fmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
  const fmtSmall = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 4 });
  const fmtCompact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 2 });
  let selected = "bitcoin";

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const price = (v) => (v === null || v === undefined ? "—" : v >= 1 ? fmt.format(v) : fmtSmall.format(v));
  const pct = (v) => (v === null || v === undefined ? "—" : (v >= 0 ? "+" : "") + v.toFixed(2) + "%");
  const ago = (iso) => {
    if (!iso) return "—";
    const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (s < 120) return s + " s ago";
    if (s < 7200) return Math.round(s / 60) + " min ago";
    if (s < 172800) return Math.round(s / 3600) + " h ago";
    return new Date(iso).toISOString().slice(0, 10);
  };

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = body && body.errors && body.errors[0] ? body.errors[0].detail : response.statusText;
      throw new Error(response.status + " " + detail);
    }
    return body;
  }

  const coins = new Map(); // id -> latest quote payload (same shape over REST, WS and SSE)
  let transport = "connecting…";
  let apiError = null; // the last failed load, until prices arrive again
  // A quote goes stale while the page is open when no newer one arrives: the server's flag
  // is as of when the payload was built, so the age is checked here too, on the same window.
  const staleMs = Number($("markets-table").dataset.staleSeconds || 0) * 1000;
  const isOld = (iso) => staleMs > 0 && !!iso && Date.now() - new Date(iso).getTime() > staleMs;
  const isStale = (coin) => !!coin.stale || isOld(coin.as_of);

  function cell(row, key) { return row.querySelector(`[data-k="${key}"]`); }

  function renderRow(coin, flash) {
    const tbody = $("markets-table").querySelector("tbody");
    let row = tbody.querySelector(`tr[data-id="${CSS.escape(coin.id)}"]`);
    const previous = row ? Number(row.dataset.price) : null;
    if (!row) {
      row = el("tr", { "data-id": coin.id });
      const name = el("td");
      const link = el("a", { href: "/coins/" + encodeURIComponent(coin.id) });
      link.append(el("strong", {}, coin.symbol));
      name.append(link, document.createTextNode(" "), el("span", { class: "coin-name" }, coin.name));
      row.append(name);
      for (const k of ["price", "change_24h", "change_7d", "volume_24h", "source", "as_of"]) {
        row.append(el("td", { "data-k": k, class: k === "volume_24h" || k === "source" ? "hide-sm" : "" }));
      }
      row.addEventListener("click", () => { selected = coin.id; markSelected(); loadChart(coins.get(coin.id)); });
      tbody.append(row);
    }
    row.dataset.price = coin.price;
    row.dataset.asOf = coin.as_of || "";
    row.dataset.stale = coin.stale ? "1" : "";
    cell(row, "price").textContent = price(coin.price);
    for (const key of ["change_24h", "change_7d"]) {
      const v = coin[key];
      const c = cell(row, key);
      c.classList.remove("up", "down");
      if (v > 0) c.classList.add("up"); else if (v < 0) c.classList.add("down");
      c.textContent = pct(v);
    }
    cell(row, "volume_24h").textContent = coin.volume_24h ? fmtCompact.format(coin.volume_24h) : "—";
    const source = cell(row, "source");
    source.title = coin.fallback_reason ? "failover: " + coin.fallback_reason : "source: " + (coin.source || "none");
    source.textContent = coin.source || "—";
    if (coin.fallback_reason) source.append(el("span", { class: "badge fallback" }, "failover"));
    renderAge(row);
    if (flash && previous !== null && previous !== coin.price) {
      const c = cell(row, "price");
      c.classList.remove("flash-up", "flash-down");
      void c.offsetWidth; // restart the animation
      c.classList.add(coin.price > previous ? "flash-up" : "flash-down");
    }
  }

  function renderAge(row) {
    const c = cell(row, "as_of");
    c.textContent = ago(row.dataset.asOf);
    c.title = row.dataset.asOf ? "as of " + row.dataset.asOf : "";
    if (row.dataset.stale || isOld(row.dataset.asOf)) c.append(el("span", { class: "badge stale" }, "stale"));
  }

  function markSelected() {
    for (const row of document.querySelectorAll("#markets-table tbody tr")) row.classList.toggle("selected", row.dataset.id === selected);
  }

  function renderAll(list) {
    const tbody = $("markets-table").querySelector("tbody");
    const ranked = list.slice().sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9)).slice(0, 50);
    if (!ranked.length) {
      const row = el("tr");
      row.append(el("td", { colspan: "7", class: "muted" }, "No prices yet: run `manage.py sync_markets` or load sample data."));
      tbody.replaceChildren(row);
      return;
    }
    tbody.replaceChildren();
    for (const coin of ranked) { coins.set(coin.id, coin); renderRow(coin, false); }
    markSelected();
    if (!document.querySelector("#chart *")) loadChart(coins.get(selected) || ranked[0]);
  }

  function applyUpdate(items) {
    for (const coin of items) {
      const known = coins.has(coin.id);
      coins.set(coin.id, coin);
      if (known) renderRow(coin, true);
    }
    status();
  }

  function status() {
    $("markets-status").textContent = transport + " · updated " + new Date().toLocaleTimeString();
    feedState(apiError);
  }

  function received() { apiError = null; }

  // One banner above the table: the API is down (error), or every price is stale.
  function feedState(error) {
    const banner = $("feed-banner");
    if (!banner) return;
    if (error) {
      banner.className = "feed-banner error";
      banner.setAttribute("role", "alert");
      const rows = document.querySelectorAll("#markets-table tbody tr[data-id]").length;
      banner.textContent = "The price API is not answering (" + error + "). " +
        (rows ? "The table shows the last prices received; it retries on its own." : "No prices to show until it answers.");
      banner.hidden = false;
      return;
    }
    const list = [...coins.values()];
    if (list.length && list.every(isStale)) {
      const newest = list.map((c) => c.as_of).filter(Boolean).sort().pop();
      banner.className = "feed-banner stale";
      banner.setAttribute("role", "status");
      banner.textContent = "Prices are stale: the newest quote is from " + ago(newest) +
        " (older than the freshness window). The feed may be down; figures are the last received.";
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  }

  async function loadMarkets() {
    try {
      const data = await getJSON("/api/v1/cryptocurrencies/?ordering=rank&page_size=50");
      received();
      renderAll(data.results);
      status();
    } catch (err) {
      apiError = err.message;
      $("markets-status").textContent = "could not load prices: " + err.message;
      feedState(apiError);
      if (!document.querySelector("#chart *")) $("chart-status").textContent = "no chart until the API answers";
    }
  }

  // --- live: WebSocket first, then SSE, then polling --------------------------------------
  let lastSeq = null;
  let wsFailures = 0;
  let pollTimer = null;

  function onFrame(m, resend) {
    if (m.type === "snapshot") { received(); lastSeq = m.seq; renderAll(m.data); status(); }
    else if (m.type === "update") {
      if (lastSeq !== null && m.from_seq !== lastSeq + 1 && resend) return resend(lastSeq);
      lastSeq = m.seq;
      received();
      applyUpdate(m.data);
    }
  }

  function startPolling() {
    transport = "polling every 15 s";
    if (!pollTimer) pollTimer = setInterval(loadMarkets, REFRESH_MS);
    loadMarkets();
  }

  function startSSE() {
    if (!window.EventSource) return startPolling();
    transport = "live (SSE)";
    const source = new EventSource("/api/v1/stream/sse?channels=quotes:*");
    let opened = false;
    for (const kind of ["snapshot", "update", "reset"]) {
      source.addEventListener(kind, (ev) => { opened = true; onFrame(JSON.parse(ev.data), null); });
    }
    source.onerror = () => { if (!opened) { source.close(); startPolling(); } };
  }

  function startWS() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let ws;
    try { ws = new WebSocket(`${scheme}://${location.host}/api/v1/stream/ws`); } catch (_) { return startSSE(); }
    let opened = false;
    const resume = (seq) => ws.send(JSON.stringify({ action: "resume", channel: "quotes:*", after_seq: seq }));
    ws.onopen = () => {
      opened = true; wsFailures = 0; transport = "live (WebSocket)";
      if (lastSeq === null) ws.send(JSON.stringify({ action: "subscribe", channels: ["quotes:*"] }));
      else resume(lastSeq); // reconnect: what was missed, or a reset + snapshot
    };
    ws.onmessage = (ev) => onFrame(JSON.parse(ev.data), resume);
    ws.onclose = () => {
      if (!opened && ++wsFailures >= 2) return startSSE();
      transport = "reconnecting…"; status();
      setTimeout(startWS, Math.min(1000 * 2 ** wsFailures, 15000));
    };
  }

  setInterval(() => {
    for (const row of document.querySelectorAll("#markets-table tbody tr[data-id]")) renderAge(row);
    feedState(apiError);
  }, 5000);

  async function loadChart(coin) {
    selected = coin.id;
    const link = $("coin-link");
    if (link) { link.href = "/coins/" + encodeURIComponent(coin.id); }
    $("chart-title").textContent = coin.name + " (" + coin.symbol + ")";
    $("chart-status").textContent = "loading…";
    try {
      const since = new Date(Date.now() - 3650 * 864e5).toISOString().slice(0, 10);
      const history = await getJSON(`/api/v1/cryptocurrencies/${coin.id}/history?interval=1d&start=${since}&page_size=5000`);
      const candles = history.results.slice().sort((a, b) => a.open_time.localeCompare(b.open_time)).slice(-120);
      let forecast = null;
      try {
        const f = await getJSON(`/api/v1/forecasts?ids=${coin.id}&days=7&model=auto`);
        forecast = f.data && f.data[0];
      } catch (_) { forecast = null; }
      draw(candles, forecast);
      $("chart-status").textContent = candles.length ? "last " + candles.length + " daily closes" : "no candles";
      const info = $("forecast-info");
      if (forecast && forecast.points && forecast.points.length) {
        const skill = forecast.skill || {};
        info.textContent = `Forecast: ${forecast.model} ${forecast.version || ""}, data until ${forecast.data_until || "?"}; ` +
          `relMAE vs naive ${skill.rel_mae == null ? "n/a" : skill.rel_mae.toFixed(3)} (below 1 beats the random walk); bands 80% and 95%.` +
          (forecast.fallback ? " Note: " + forecast.fallback : "");
      } else {
        info.textContent = forecast && forecast.fallback ? "No forecast: " + forecast.fallback : "No forecast issued yet.";
      }
    } catch (err) {
      $("chart-status").textContent = "could not load history: " + err.message;
    }
  }

  function draw(candles, forecast) {
    const svg = $("chart");
    svg.replaceChildren();
    if (!candles.length) return;
    const W = 800, H = 320, L = 110, R = 10, T = 12, B = 34;
    const points = (forecast && forecast.points) || [];
    const series = candles.map((c) => ({ t: new Date(c.open_time).getTime(), v: c.close }));
    const all = series.map((p) => p.v);
    for (const p of points) all.push(p.point, (p.lower && p.lower["95"]) ?? p.point, (p.upper && p.upper["95"]) ?? p.point);
    const t0 = series[0].t;
    const t1 = points.length ? new Date(points[points.length - 1].date).getTime() : series[series.length - 1].t;
    const lo = Math.min(...all), hi = Math.max(...all);
    const x = (t) => L + ((t - t0) / Math.max(t1 - t0, 1)) * (W - L - R);
    const y = (v) => T + (1 - (v - lo) / Math.max(hi - lo, 1e-9)) * (H - T - B);
    const ns = "http://www.w3.org/2000/svg";
    const add = (tag, attrs, text) => {
      const n = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text !== undefined) n.textContent = text;
      svg.append(n);
      return n;
    };
    for (let i = 0; i <= 4; i++) {
      const v = lo + ((hi - lo) * i) / 4;
      add("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid-line" });
      add("text", { x: 4, y: y(v) + 6, class: "axis" }, price(v));
    }
    add("text", { x: L, y: H - 8, class: "axis" }, new Date(t0).toISOString().slice(0, 10));
    add("text", { x: W - R - 110, y: H - 8, class: "axis" }, new Date(t1).toISOString().slice(0, 10));
    const path = (pts) => pts.map((p, i) => (i ? "L" : "M") + x(p.t).toFixed(1) + "," + y(p.v).toFixed(1)).join("");
    if (points.length) {
      const last = series[series.length - 1];
      for (const level of ["95", "80"]) {
        const up = points.map((p) => ({ t: new Date(p.date).getTime(), v: p.upper[level] }));
        const down = points.map((p) => ({ t: new Date(p.date).getTime(), v: p.lower[level] })).reverse();
        const d = path([last, ...up]) + down.map((p) => "L" + x(p.t).toFixed(1) + "," + y(p.v).toFixed(1)).join("") + "Z";
        add("path", { d, class: "band" + level });
      }
      add("path", { d: path([last, ...points.map((p) => ({ t: new Date(p.date).getTime(), v: p.point }))]), class: "point" });
    }
    add("path", { d: path(series), class: "price" });
  }

  // The table arrives rendered by the server; adopt its rows, then go live.
  for (const row of document.querySelectorAll("#markets-table tbody tr[data-id]")) {
    row.addEventListener("click", (ev) => {
      if (ev.target.closest("a")) return;
      selected = row.dataset.id; markSelected(); loadChart(coins.get(row.dataset.id) || { id: row.dataset.id, name: row.dataset.id, symbol: "" });
    });
  }
  loadMarkets().then(startWS);
})();
