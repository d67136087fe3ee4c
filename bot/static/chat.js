// Trợ lý số web chat. All text is inserted with textContent: nothing from the server or the
// user is ever interpreted as HTML. Phone numbers the server lists in a reply's "numbers"
// become tel: links (built as elements, never from markup).
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("text");
  const limitNote = document.getElementById("limit");
  const limit = parseInt(input.dataset.limit, 10) || 4000;
  let session = localStorage.getItem("trolyso-session");
  if (!session) {
    const rnd = new Uint8Array(12);
    crypto.getRandomValues(rnd);
    session = "w-" + Array.from(rnd, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem("trolyso-session", session);
  }

  function telLink(number) {
    const a = document.createElement("a");
    a.href = "tel:" + number.replace(/[^\d+]/g, "");
    a.textContent = number;
    return a;
  }

  // Text with the given phone numbers as tel: links; a number inside a longer one is left.
  function withLinks(parent, text, numbers) {
    const wanted = (numbers || []).filter((n) => n && /\d/.test(n));
    if (!wanted.length) { parent.appendChild(document.createTextNode(text)); return; }
    const escaped = wanted.slice().sort((a, b) => b.length - a.length)
      .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    const re = new RegExp("(?<![\\d.])(" + escaped.join("|") + ")(?![\\d])", "g");
    let last = 0;
    for (const m of text.matchAll(re)) {
      parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      parent.appendChild(telLink(m[0]));
      last = m.index + m[0].length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function add(cls, text) {
    const div = document.createElement("div");
    div.className = "msg " + cls;
    div.textContent = text;
    log.appendChild(div);
    return div;
  }

  function render(reply) {
    const emergency = reply.kind === "emergency";
    const div = document.createElement("div");
    div.className = "msg bot" + (emergency ? " emergency" : "");
    if (emergency && reply.numbers && reply.numbers.length) {
      // Big call buttons first, the most relevant number first ("cháy": 114).
      const calls = document.createElement("div");
      calls.className = "calls";
      calls.setAttribute("aria-label", "Bấm để gọi");
      for (const n of reply.numbers) {
        const a = telLink(n);
        a.textContent = "📞 " + n;
        calls.appendChild(a);
      }
      div.appendChild(calls);
    }
    withLinks(div, reply.text, reply.numbers);
    log.appendChild(div);
    if (reply.audio_url) {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.src = reply.audio_url;
      div.appendChild(audio);
    }
    if (reply.buttons && reply.buttons.length) {
      const box = document.createElement("div");
      box.className = "buttons";
      for (const b of reply.buttons) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.label;
        if (b.url) {
          btn.addEventListener("click", () => window.open(b.url, "_blank", "noopener"));
        } else {
          btn.dataset.payload = b.payload;
          btn.addEventListener("click", () => send({ button: b.payload }, b.label));
        }
        box.appendChild(btn);
      }
      div.appendChild(box);
    }
    return div;
  }

  // After the replies AND their buttons are on the page: the top of the first new reply at
  // the top of the view, so the citizen reads from its beginning and its buttons follow.
  function reveal(el) {
    if (!el) return;
    log.scrollTop = el.offsetTop - log.offsetTop - 8;
  }

  async function send(body, shown) {
    if (shown) reveal(add("me", shown));
    const wait = add("bot typing", "…");
    reveal(wait);
    try {
      const res = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ session: session }, body)),
      });
      const data = await res.json();
      wait.remove();
      if (!res.ok) { reveal(add("bot", "Có lỗi: " + (data.error || res.status))); return; }
      let first = null;
      for (const r of data.replies) {
        const el = render(r);
        first = first || el;
      }
      reveal(first);
      listen();
    } catch (e) {
      wait.remove();
      reveal(add("bot", "Không kết nối được. Bạn thử lại sau ít phút nhé."));
    }
  }

  // Say so when the text is over the limit instead of cutting it: the whole text is still
  // sent (the server looks for danger in all of it) and answered with the limit.
  function checkLength() {
    const n = input.value.length;
    const over = n > limit;
    input.classList.toggle("over", over);
    limitNote.hidden = !over;
    limitNote.textContent = over
      ? "Tin nhắn dài " + n.toLocaleString("vi-VN") + " ký tự, quá " +
        limit.toLocaleString("vi-VN") + " ký tự. Bạn viết ngắn lại giúp tôi nhé."
      : "";
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    checkLength();
    send({ text: text }, text);
  });
  input.addEventListener("input", checkLength);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });
  document.getElementById("sos").addEventListener("click", () => send({ button: "em" }, "🆘 Khẩn cấp"));
  // Messages the page did not ask for: a person of the ward who took over the chat writes,
  // or the chat is handed back. Long polling while a request is open (GET /api/chat/messages).
  const afterKey = "trolyso-after-" + session;
  let listening = false;
  async function listen() {
    if (listening) return;
    listening = true;
    try {
      for (;;) {
        const after = localStorage.getItem(afterKey) || "0";
        let data;
        try {
          const res = await fetch("/api/chat/messages?session=" + encodeURIComponent(session) +
                                  "&after=" + after + "&wait=25");
          if (!res.ok) { await new Promise((ok) => setTimeout(ok, 5000)); continue; }
          data = await res.json();
        } catch (e) {
          await new Promise((ok) => setTimeout(ok, 5000));
          continue;
        }
        let first = null;
        for (const m of data.messages) {
          let el;
          if (m.from === "operator") {
            el = add("operator", m.text);
            const who = document.createElement("span");
            who.className = "who";
            who.textContent = "👤 Cán bộ phường";
            el.prepend(who);
          } else {
            el = render({ text: m.text, buttons: m.buttons, audio_url: null });
          }
          first = first || el;
        }
        if (first) reveal(first);
        localStorage.setItem(afterKey, String(data.last));
        if (data.handover === null && !data.messages.length) return;
      }
    } finally {
      listening = false;
    }
  }

  send({ text: "/start" }, null);
})();
