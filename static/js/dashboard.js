// Dashboard island: polls the REST API (prices every 15 s) and draws history + forecast bands.
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

  async function loadMarkets() {
    try {
      const data = await getJSON("/api/v1/cryptocurrencies/?ordering=rank&page_size=50");
      const tbody = $("markets-table").querySelector("tbody");
      tbody.replaceChildren();
      if (!data.results.length) {
        const row = el("tr");
        row.append(el("td", { colspan: "7", class: "muted" }, "No assets yet: run `manage.py sync_markets` or load sample data."));
        tbody.append(row);
      }
      for (const coin of data.results) {
        const row = el("tr", { "data-id": coin.id });
        if (coin.id === selected) row.classList.add("selected");
        const name = el("td");
        name.append(el("strong", {}, coin.symbol), document.createTextNode(" "), el("span", { class: "coin-name" }, coin.name));
        row.append(name, el("td", {}, price(coin.price)));
        for (const key of ["change_24h", "change_7d"]) {
          const v = coin[key];
          row.append(el("td", { class: v > 0 ? "up" : v < 0 ? "down" : "" }, pct(v)));
        }
        row.append(el("td", {}, coin.volume_24h ? fmtCompact.format(coin.volume_24h) : "—"));
        const source = el("td", { title: coin.fallback_reason || "" }, coin.source || "—");
        if (coin.fallback_reason) source.append(el("span", { class: "badge fallback" }, "failover"));
        row.append(source);
        const asOf = el("td", {}, ago(coin.as_of));
        if (coin.stale) asOf.append(el("span", { class: "badge stale" }, "stale"));
        row.append(asOf);
        row.addEventListener("click", () => { selected = coin.id; loadChart(coin); loadMarkets(); });
        tbody.append(row);
      }
      $("markets-status").textContent = "updated " + new Date().toLocaleTimeString();
      if (!document.querySelector("#chart *") && data.results.length) {
        loadChart(data.results.find((c) => c.id === selected) || data.results[0]);
      }
    } catch (err) {
      $("markets-status").textContent = "could not load prices: " + err.message;
    }
  }

  async function loadChart(coin) {
    selected = coin.id;
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

  loadMarkets();
  setInterval(loadMarkets, REFRESH_MS);
})();
