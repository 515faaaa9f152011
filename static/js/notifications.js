// Unread-notifications badge in the menu, live over the user's `notifications` stream channel.
// The socket signs in with a single-use ticket (POST /api/v1/auth/ws-ticket, session + CSRF);
// when the socket keeps failing the badge falls back to polling the unread count.
(function () {
  "use strict";
  const badge = document.getElementById("notif-badge");
  if (!badge) return;
  const POLL_MS = 30000;
  const csrf = badge.dataset.csrf || "";
  let failures = 0;
  let pollTimer = null;

  function show(count) {
    badge.dataset.unread = String(count);
    badge.firstChild.nodeValue = String(count);
    badge.classList.toggle("zero", count === 0);
    badge.title = count + " unread notification" + (count === 1 ? "" : "s");
  }

  async function refresh() {
    try {
      const r = await fetch("/api/v1/notifications/unread-count", {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (r.ok) show((await r.json()).unread);
    } catch (_) { /* offline: keep the last count */ }
  }

  function poll() {
    badge.dataset.transport = "polling";
    if (!pollTimer) pollTimer = setInterval(refresh, POLL_MS);
    refresh();
  }

  async function ticket() {
    const r = await fetch("/api/v1/auth/ws-ticket", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    });
    if (!r.ok) throw new Error("ticket " + r.status);
    return (await r.json()).ticket;
  }

  async function connect() {
    let t;
    try { t = await ticket(); } catch (_) { return poll(); }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/stream/ws?ticket=${encodeURIComponent(t)}`);
    let opened = false;
    ws.onopen = () => {
      opened = true;
      failures = 0;
      ws.send(JSON.stringify({ action: "subscribe", channels: ["notifications"] }));
    };
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type === "subscribed") { badge.dataset.transport = "websocket"; refresh(); }
      if (m.type === "update" && m.channel === "notifications") {
        refresh();
        document.dispatchEvent(new CustomEvent("cc:notifications", { detail: m.data }));
      }
    };
    ws.onclose = () => {
      if (!opened) failures += 1;
      if (failures >= 3) return poll();
      badge.dataset.transport = "reconnecting";
      setTimeout(connect, Math.min(1000 * 2 ** failures, 15000));
    };
  }

  connect();
})();
