// Trợ lý số web chat. All text is inserted with textContent: nothing from the server or the
// user is ever interpreted as HTML.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("text");
  let session = localStorage.getItem("trolyso-session");
  if (!session) {
    const rnd = new Uint8Array(12);
    crypto.getRandomValues(rnd);
    session = "w-" + Array.from(rnd, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem("trolyso-session", session);
  }

  function add(cls, text) {
    const div = document.createElement("div");
    div.className = "msg " + cls;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  function render(reply) {
    const div = add("bot" + (reply.text.startsWith("🆘") ? " emergency" : ""), reply.text);
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
  }

  async function send(body, shown) {
    if (shown) add("me", shown);
    const wait = add("bot typing", "…");
    try {
      const res = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ session: session }, body)),
      });
      const data = await res.json();
      wait.remove();
      if (!res.ok) { add("bot", "Có lỗi: " + (data.error || res.status)); return; }
      for (const r of data.replies) render(r);
      listen();
    } catch (e) {
      wait.remove();
      add("bot", "Không kết nối được. Bạn thử lại sau ít phút nhé.");
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text: text }, text);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });
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
        for (const m of data.messages) {
          if (m.from === "operator") {
            const div = add("operator", m.text);
            const who = document.createElement("span");
            who.className = "who";
            who.textContent = "👤 Cán bộ phường";
            div.prepend(who);
          } else {
            render({ text: m.text, buttons: m.buttons, audio_url: null });
          }
        }
        localStorage.setItem(afterKey, String(data.last));
        if (data.handover === null && !data.messages.length) return;
      }
    } finally {
      listening = false;
    }
  }

  send({ text: "/start" }, null);
})();
