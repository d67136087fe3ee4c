// Trợ lý số console: the live preview of a notice, the audio preview, the progress bar.
// No framework and no build step. Every form also works without this file.
"use strict";
(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  async function post(url, body) {
    const r = await fetch(url, {method: "POST", body, credentials: "same-origin",
                                headers: {"X-CSRF-Token": csrf()}});
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || ("HTTP " + r.status));
    return data;
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ------------------------------------------------------------------ compose
  const form = document.getElementById("compose");
  if (form) {
    const text = document.getElementById("text");
    const count = document.getElementById("text-count");
    const max = Number(text.getAttribute("maxlength"));
    const reach = document.getElementById("reach");
    const warnings = document.getElementById("preview-warnings");
    const channels = document.getElementById("preview-channels");
    const spokenBox = document.getElementById("spoken-box");
    const spoken = document.getElementById("spoken");
    let timer = null, seq = 0;

    const formData = () => {
      const fd = new FormData(form);
      fd.delete("attachment");
      return fd;
    };

    function showAck(show) {
      let ack = document.getElementById("ack-live");
      if (show && !ack && !form.querySelector('input[name="ack"]')) {
        const label = el("label", {class: "check", id: "ack-live"});
        const box = el("input", {type: "checkbox", name: "ack", value: "1", required: ""});
        label.append(box, " Tôi đã đọc các cảnh báo và vẫn muốn gửi");
        document.getElementById("send").before(label);
      } else if (!show && ack) {
        ack.remove();
      }
    }

    async function refresh() {
      const mine = ++seq;
      count.textContent = `${text.value.length}/${max} ký tự`;
      let data;
      try {
        data = await post("/console/notices/preview", formData());
      } catch (e) {
        reach.textContent = "Chưa xem trước được: " + e.message;
        return;
      }
      if (mine !== seq) return;  // a newer request is on its way
      const r = data.reach;
      const parts = r.areas.map(a => `${a.name}: ${a.n}`).join("; ");
      reach.textContent = `Sẽ gửi tới ${r.total} người` + (parts ? ` (${parts})` : "") +
        (r.blocked ? `. ${r.blocked} người đã chặn trợ lý, không gửi.` : ".");
      warnings.replaceChildren(...[...data.errors.map(t => el("li", {class: "err"}, t)),
                                   ...data.warnings.map(w => el("li", {}, w.text))]);
      showAck(data.warnings.length > 0);
      channels.replaceChildren(...data.channels.map(ch => {
        const box = el("div", {class: "channel " + ch.name});
        box.append(el("h3", {}, ch.label +
          (ch.parts.length > 1 ? ` (${ch.parts.length} tin)` : "")));
        for (const html of ch.parts) {
          const bubble = el("div", {class: "bubble"});
          bubble.innerHTML = html;  // rendered and escaped by the server, as the channel does
          box.append(bubble);
        }
        return box;
      }));
      const file = document.getElementById("attachment");
      const chosen = file && file.files && file.files[0];
      if (chosen) {
        const big = chosen.size > Number(file.dataset.max);
        for (const box of channels.querySelectorAll(".channel")) {
          const note = box.classList.contains("telegram") ? `📎 ${chosen.name} gửi kèm`
            : "📎 Đường dẫn tới tệp gửi kèm (khi đã đặt web.public_url)";
          box.append(el("p", {class: "hint"}, note));
        }
        if (big) warnings.append(el("li", {class: "err"}, "Tệp gửi kèm lớn quá giới hạn."));
      }
      spokenBox.hidden = data.spoken === null;
      if (data.spoken !== null) spoken.textContent = data.spoken;
    }

    form.addEventListener("change", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 50);
    });
    form.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 350);
    });
    refresh();

    const listen = document.getElementById("listen");
    const status = document.getElementById("listen-status");
    const player = document.getElementById("player");
    listen.addEventListener("click", async () => {
      listen.disabled = true;
      status.textContent = "Đang tạo bản nghe thử…";
      try {
        const data = await post("/console/notices/audio", formData());
        player.src = data.url;
        player.hidden = false;
        status.textContent = "Máy đọc: " + data.engine;
        player.play().catch(() => {});
      } catch (e) {
        status.textContent = e.message;
      } finally {
        listen.disabled = false;
      }
    });
  }

  // ------------------------------------------------------------------ progress bar
  const progress = document.getElementById("progress");
  if (progress) {
    const url = progress.dataset.url;
    const set = (part, x, w) => {
      const r = progress.querySelector(`rect[data-part="${part}"]`);
      r.setAttribute("x", x.toFixed(2));
      r.setAttribute("width", w.toFixed(2));
    };
    async function tick() {
      let d;
      try {
        const r = await fetch(url, {credentials: "same-origin"});
        if (!r.ok) return setTimeout(tick, 5000);
        d = await r.json();
      } catch (e) {
        return setTimeout(tick, 5000);
      }
      const total = d.recipients || 1;
      const pct = n => 100 * n / total;
      set("sent", 0, pct(d.sent));
      set("failed", pct(d.sent), pct(d.failed));
      set("blocked", pct(d.sent + d.failed), pct(d.blocked));
      for (const k of ["recipients", "sent", "failed", "blocked", "pending"]) {
        const e = progress.querySelector(`[data-count="${k}"]`);
        if (e) e.textContent = d[k];
      }
      progress.dataset.state = d.state;
      const reasons = document.getElementById("reasons");
      const names = {failed: "Lỗi", blocked: "Đã chặn trợ lý", pending: "Đang chờ"};
      if (d.reasons.length) {
        reasons.replaceChildren(el("h3", {}, "Lý do"), el("ul"));
        for (const x of d.reasons)
          reasons.lastChild.append(el("li", {}, `${names[x.state]}: ${x.reason} (${x.n})`));
      }
      if (d.pending > 0 || d.state === "sending") setTimeout(tick, 1500);
    }
    tick();
  }

  // ------------------------------------------------------------------ a person takes over
  // Long polls: the server answers when something changed (or after `wait` seconds). Each
  // request also tells the server this page is open, so the operator keeps their chats.
  async function poll(url, onData) {
    let delay = 0;
    for (;;) {
      if (delay) await new Promise(ok => setTimeout(ok, delay));
      let data;
      try {
        const r = await fetch(url(), {credentials: "same-origin",
                                      headers: {"Accept": "application/json"}});
        if (r.status === 401 || r.status === 403) { location.reload(); return; }
        if (!r.ok) { delay = 5000; continue; }
        data = await r.json();
      } catch (e) {
        delay = 5000;
        continue;
      }
      delay = 0;
      if (onData(data) === false) return;
    }
  }

  const live = document.getElementById("live");
  if (live) {
    let version = live.dataset.version;
    const queue = document.getElementById("queue");
    const mine = document.getElementById("mine");
    const claimForm = id => {
      const f = el("form", {method: "post", action: `/console/handover/${id}/claim`});
      f.append(el("input", {type: "hidden", name: "csrf", value: csrf()}));
      const b = el("button", {type: "submit", class: "primary"}, "Nhận");
      f.append(b);
      return f;
    };
    poll(() => `${live.dataset.url}?wait=25&v=${encodeURIComponent(version)}`, d => {
      version = d.v;
      document.getElementById("queue-count").textContent = d.queue.length;
      queue.replaceChildren(...(d.queue.length ? d.queue.map(q => {
        const tr = el("tr", {"data-id": q.id});
        for (const t of [q.place, q.ward, q.channel, `${q.minutes} phút`])
          tr.append(el("td", {}, String(t)));
        const td = el("td");
        td.append(claimForm(q.id));
        tr.append(td);
        return tr;
      }) : [(() => { const tr = el("tr"); tr.append(el("td", {colspan: "5", class: "hint"},
        "Không có ai đang chờ.")); return tr; })()]));
      mine.replaceChildren(...(d.mine.length ? d.mine.map(m => {
        const li = el("li");
        li.append(el("a", {href: `/console/handover/${m.id}`},
                      `${m.ward} · ${m.channel} · ${m.minutes} phút`));
        return li;
      }) : [el("li", {class: "hint"}, "Chưa có.")]));
    });
  }

  const chat = document.getElementById("chat");
  if (chat) {
    const names = {history: "Trước đó (người dân)", citizen: "Người dân", assistant: "Trợ lý",
                   operator: "Cán bộ", system: "Tin tự động", note: "Ghi chú"};
    const states = {pending: "đang chờ gửi", sending: "đang gửi", sent: "đã gửi",
                    failed: "KHÔNG GỬI ĐƯỢC"};
    const list = document.getElementById("transcript");
    const status = document.getElementById("chat-status");
    let after = Number(chat.dataset.after), version = chat.dataset.version;
    let state = chat.dataset.state;
    function delivery(li, st, reason) {
      let span = li.querySelector(".delivery");
      if (!span) { span = el("span"); li.append(span); }
      span.className = "delivery " + (st || "");
      span.textContent = (states[st] || "") + (reason ? ": " + reason : "");
    }
    function add(line) {
      if (list.querySelector(`[data-id="${line.id}"]`)) return;
      const li = el("li", {class: "line " + line.author, "data-id": line.id});
      li.append(el("span", {class: "who"}, `${names[line.author] || line.author} · ${line.local}`));
      li.append(el("span", {class: "text"}, line.text));
      if (line.author === "operator" || line.author === "system")
        delivery(li, line.state, line.reason);
      list.append(li);
      list.scrollTop = list.scrollHeight;
    }
    list.scrollTop = list.scrollHeight;
    poll(() => `${chat.dataset.url}?wait=25&after=${after}&v=${encodeURIComponent(version)}` +
              `&state=${state}`, d => {
      for (const line of d.lines) { add(line); after = Math.max(after, line.id); }
      for (const x of d.deliveries) {
        const li = list.querySelector(`[data-id="${x.id}"]`);
        if (li) delivery(li, x.state, x.reason);
      }
      version = d.v;
      state = d.state;
      if (!d.mine) {
        status.textContent = d.state === "closed" ? "Cuộc trò chuyện đã kết thúc."
          : "Cuộc trò chuyện không còn do bạn phụ trách.";
        document.getElementById("say-send").disabled = true;
        return false;
      }
    });
    const form = document.getElementById("say");
    const text = document.getElementById("say-text");
    form.addEventListener("submit", async e => {
      e.preventDefault();
      if (!text.value.trim()) return;
      const fd = new FormData(form);
      try {
        const r = await fetch(form.action, {method: "POST", body: fd, credentials: "same-origin",
          headers: {"X-CSRF-Token": csrf(), "Accept": "application/json"}});
        const d = await r.json().catch(() => ({}));
        if (!r.ok) { status.textContent = d.error || ("Lỗi " + r.status); return; }
        text.value = "";
        status.textContent = "";
      } catch (err) {
        status.textContent = "Chưa gửi được: mất kết nối. Bạn thử lại.";
      }
    });
    text.addEventListener("keydown", e => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
    });
  }

  // ------------------------------------------------------------------ confirmations
  for (const f of document.querySelectorAll("form[data-confirm]")) {
    f.addEventListener("submit", e => {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  }

  // ------------------------------------------------------------------ learning
  // While a retrain runs, the page reloads itself when its state changes.
  const learning = document.getElementById("learning");
  if (learning && learning.dataset.busy === "1") {
    const job = learning.querySelector(".job");
    const seen = job ? `${job.dataset.id}:${job.dataset.state}` : "";
    const timer = setInterval(async () => {
      try {
        const r = await fetch("/console/learning/status", {credentials: "same-origin"});
        const data = await r.json();
        if (data.jobs.length && `${data.jobs[0].id}:${data.jobs[0].state}` !== seen) {
          clearInterval(timer);
          location.reload();
        }
      } catch (e) { /* the next tick tries again */ }
    }, 3000);
  }
})();
