// Coin page island: candlestick chart with volume (Lightweight Charts), interval switch,
// forecast band beyond the last candle, live updates from the stream (candles + quotes).
(function () {
  "use strict";
  const root = document.getElementById("coin");
  if (!root || !window.LightweightCharts) return;
  const id = root.dataset.id;
  const status = document.getElementById("candles-status");
  const container = document.getElementById("candles");
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const STEP = { "1h": 3600, "1d": 86400 };
  let interval = "1d";
  let last = null; // last bar shown
  let ws = null;

  const chart = LightweightCharts.createChart(container, {
    autoSize: true,
    // No logo element: it comes with an inline <style> (the CSP forbids it); the page credits
    // TradingView in text under the chart.
    layout: { background: { color: "transparent" }, textColor: css("--muted"), attributionLogo: false },
    grid: { vertLines: { color: css("--line") }, horzLines: { color: css("--line") } },
    timeScale: { timeVisible: true, secondsVisible: false },
    rightPriceScale: { scaleMargins: { top: 0.08, bottom: 0.25 } },
  });
  const candles = chart.addCandlestickSeries({
    upColor: css("--up"), downColor: css("--down"), borderVisible: false,
    wickUpColor: css("--up"), wickDownColor: css("--down"),
  });
  const volume = chart.addHistogramSeries({ priceScaleId: "vol", priceFormat: { type: "volume" }, color: "#5aa9ff55" });
  chart.priceScale("vol").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  const band = (color, style) => chart.addLineSeries({ color, lineWidth: 1, lineStyle: style, priceLineVisible: false, lastValueVisible: false });
  const fc = {
    point: chart.addLineSeries({ color: "#e0a000", lineWidth: 2, lineStyle: LightweightCharts.LineStyle.Dashed, priceLineVisible: false }),
    // Amber dark enough to read on the light theme's white as well as on the dark panel.
    up80: band("#d99a00", LightweightCharts.LineStyle.Dotted), lo80: band("#d99a00", LightweightCharts.LineStyle.Dotted),
    up95: band("#d99a0099", LightweightCharts.LineStyle.Dashed), lo95: band("#d99a0099", LightweightCharts.LineStyle.Dashed),
  };
  document.addEventListener("themechange", () => chart.applyOptions({
    layout: { textColor: css("--muted") }, grid: { vertLines: { color: css("--line") }, horzLines: { color: css("--line") } },
  }));

  const sec = (iso) => Math.floor(new Date(iso).getTime() / 1000);
  const bar = (c) => ({ time: sec(c.time), open: c.open, high: c.high, low: c.low, close: c.close });
  const vol = (c) => ({ time: sec(c.time), value: c.volume, color: c.close >= c.open ? "#2ecc7155" : "#ff5c5c55" });

  // News markers: the server-rendered news list (#coin-news) carries time and sentiment;
  // each article sits on the bar of its period, coloured by sentiment.
  const SENTIMENT = { positive: "#2ecc71", negative: "#ff5c5c", neutral: "#8a94a6" };
  function newsMarkers(bars) {
    if (!bars.length) return [];
    const step = interval === "1h" ? 3600 : 86400;
    const first = bars[0].time, lastBar = bars[bars.length - 1].time;
    return [...document.querySelectorAll("#coin-news [data-published]")]
      .map((node) => ({
        time: Math.floor(sec(node.dataset.published) / step) * step,
        position: "aboveBar",
        shape: "circle",
        color: SENTIMENT[node.dataset.sentiment] || SENTIMENT.neutral,
      }))
      .filter((m) => m.time >= first && m.time <= lastBar)
      .sort((a, b) => a.time - b.time);
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await r.json().catch(() => null);
    if (!r.ok) throw new Error((body && body.errors && body.errors[0] && body.errors[0].detail) || r.status);
    return body;
  }

  async function load() {
    status.textContent = "loading " + interval + " candles…";
    for (const b of document.querySelectorAll("button.interval")) b.setAttribute("aria-pressed", String(b.dataset.interval === interval));
    try {
      const days = interval === "1h" ? 30 : 365;
      const h = await getJSON(`/api/v1/prices/history/${encodeURIComponent(id)}?interval=${interval}&days=${days}`);
      const bars = h.data.map(bar);
      candles.setData(bars);
      candles.setMarkers(newsMarkers(bars));
      volume.setData(h.data.map(vol));
      last = h.data.length ? bar(h.data[h.data.length - 1]) : null;
      status.textContent = `${h.count} ${interval} candles · source ${h.source} · last ${h.as_of}` + (h.stale ? " · STALE" : "");
      const forecastDays = await forecast();
      chart.timeScale().fitContent();
      // Daily view: the last ~4 months and the forecast beyond them, so the band is visible
      // (fitted to a year of candles, 7 forecast days were a sliver at the right edge).
      if (interval === "1d" && forecastDays && bars.length > 120) {
        chart.timeScale().setVisibleLogicalRange({ from: bars.length - 120, to: bars.length + forecastDays + 1 });
      }
      live();
    } catch (err) {
      candles.setData([]); volume.setData([]);
      status.textContent = "no " + interval + " candles: " + err.message;
    }
  }

  async function forecast() {
    for (const s of Object.values(fc)) s.setData([]);
    if (interval !== "1d" || !last) return 0;
    try {
      const f = await getJSON(`/api/v1/forecasts?ids=${encodeURIComponent(id)}&days=7&model=auto`);
      const d = f.data && f.data[0];
      if (!d || !d.points || !d.points.length) return 0;
      const start = { time: last.time, value: last.close };
      const pts = d.points.map((p) => ({ t: sec(p.date + "T00:00:00Z"), p }));
      fc.point.setData([start, ...pts.map(({ t, p }) => ({ time: t, value: p.point }))]);
      for (const lv of ["80", "95"]) {
        fc["up" + lv].setData([start, ...pts.map(({ t, p }) => ({ time: t, value: p.upper[lv] }))]);
        fc["lo" + lv].setData([start, ...pts.map(({ t, p }) => ({ time: t, value: p.lower[lv] }))]);
      }
      return pts.length;
    } catch (_) { return 0; /* no forecast: the text panel says so */ }
  }

  function onQuote(q) {
    if (!last || q.price == null) return;
    const step = STEP[interval];
    const bucket = Math.floor(sec(q.as_of) / step) * step;
    if (bucket < last.time) return;
    if (bucket === last.time) last = { ...last, high: Math.max(last.high, q.price), low: Math.min(last.low, q.price), close: q.price };
    else last = { time: bucket, open: last.close, high: Math.max(last.close, q.price), low: Math.min(last.close, q.price), close: q.price };
    candles.update(last);
    const price = document.getElementById("coin-price");
    if (price) price.textContent = q.price >= 1 ? q.price.toLocaleString("en-US", { maximumFractionDigits: 2 }) : q.price.toPrecision(4);
  }

  function live() {
    if (ws) ws.close();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${scheme}://${location.host}/api/v1/stream/ws`);
    const mine = ws;
    ws.onopen = () => mine.send(JSON.stringify({ action: "subscribe", channels: [`quotes:${id}`, `candles:${id}:${interval}`] }));
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type !== "update" && m.type !== "snapshot") return;
      if (m.channel.startsWith("quotes:") && m.type === "update") for (const q of m.data) onQuote(q);
      if (m.channel.startsWith("candles:") && m.type === "update") {
        for (const c of m.data) { const b = bar(c); if (!last || b.time >= last.time) { candles.update(b); volume.update(vol(c)); last = b; } }
      }
    };
    ws.onclose = () => { if (ws === mine) setTimeout(live, 3000); };
  }

  for (const b of document.querySelectorAll("button.interval")) {
    b.addEventListener("click", () => { interval = b.dataset.interval; load(); });
  }
  load();
})();
