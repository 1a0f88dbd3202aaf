// revlink settings pages: progressive enhancement only; every form also works without JavaScript.
"use strict";

// The hint line under a refused key's message: the same rule as service::stripe::KeyHints::for_refusal, with the
// texts the page rendered into the form's data-hint-* attributes (the API's message itself stays as it came).
function keyHint(form, key, status) {
  const k = key.trim();
  if (status === 502 || status === 504) return form.dataset.hintUnreachable || "";
  if (status !== 400) return "";
  if (k.startsWith("sk_")) return form.dataset.hintSecret || "";
  if (k.startsWith("pk_")) return form.dataset.hintPublishable || "";
  if (k.startsWith("rk_test_")) return form.dataset.hintTest || "";
  return "";
}

// A success message kept across the reload that follows it (sessionStorage: this tab only, no secret in it), shown
// where the server's own flash messages are.
const KEPT_FLASH = "revlink.flash";

function keepFlash(message) {
  try {
    sessionStorage.setItem(KEPT_FLASH, JSON.stringify({ path: window.location.pathname, message }));
    return true;
  } catch (err) {
    return false;
  }
}

function showKeptFlash() {
  let kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem(KEPT_FLASH) || "null");
    sessionStorage.removeItem(KEPT_FLASH);
  } catch (err) {
    return;
  }
  const main = document.getElementById("main");
  if (!kept || kept.path !== window.location.pathname || !main) return;
  const flash = document.createElement("p");
  flash.className = "flash flash-success";
  flash.setAttribute("role", "status");
  flash.textContent = kept.message;
  main.prepend(flash);
}

// A form marked data-api-form posts JSON to its data-api-action (the JSON API route) with the session's
// CSRF token and shows the answer in place (the message, and a hint line under it); without JavaScript it posts to
// its page route as a plain form. With data-reload-on-success the page is reloaded after a success, which then
// shows the success message at the top, as the page route's redirect would.
function enhanceApiForm(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.querySelector("input:not([type=hidden])");
    const [messageId, hintId] = input.getAttribute("aria-describedby").split(" ");
    const message = document.getElementById(messageId);
    const hint = hintId ? document.getElementById(hintId) : null;
    const button = form.querySelector("button[type=submit]");
    const body = {};
    body[input.name] = input.value;
    button.disabled = true;
    message.className = "field-message";
    message.textContent = "Checking the key with Stripe…";
    if (hint) hint.textContent = "";
    try {
      const res = await fetch(form.dataset.apiAction, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": form.dataset.csrf },
        body: JSON.stringify(body),
      });
      const answer = await res.json();
      if (answer.status === "success") {
        message.className = "field-message ok";
        const data = answer.data[0];
        // What the connect did to the import, in the words the page route's message uses (data-import-* attributes).
        const importNote = { "started": form.dataset.importStarted, "continued": form.dataset.importContinued,
          "started over": form.dataset.importStartedOver }[data.import];
        message.textContent = data.message + (data.currency ? " (" + data.currency + ")" : "") +
          (importNote ? ". " + importNote : "");
        input.value = "";
        if (form.hasAttribute("data-reload-on-success") && keepFlash(message.textContent)) window.location.reload();
      } else {
        message.textContent = answer.error.message;
        if (hint) hint.textContent = keyHint(form, input.value, res.status);
        input.focus();
      }
    } catch (err) {
      message.textContent = "revlink could not be reached; check your connection and try again.";
    } finally {
      button.disabled = false;
    }
  });
}

// An element marked data-auto-refresh="N" (an import under way) is brought up to date every N seconds, unless
// someone is using a form on the page (a focused field, or one changed from its initial value). An element with
// an id is replaced in place by its fresh copy (the rest of the page, a message included, stays), until the fresh
// copy no longer refreshes; one without an id reloads the page.
function autoRefresh(element) {
  const seconds = Number(element.dataset.autoRefresh) || 3;
  let current = element;
  const timer = setInterval(async () => {
    const active = document.activeElement;
    const busy = (active && active.matches("input, textarea, select")) ||
      [...document.querySelectorAll("input:not([type=hidden]), textarea")].some((f) => f.value !== f.defaultValue);
    if (busy) return;
    if (!current.id) {
      window.location.reload();
      return;
    }
    try {
      const res = await fetch(window.location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (!res.ok) return;
      const fresh = new DOMParser().parseFromString(await res.text(), "text/html").getElementById(current.id);
      if (!fresh) {
        window.location.reload();
        return;
      }
      current.replaceWith(fresh);
      current = fresh;
      if (!fresh.hasAttribute("data-auto-refresh")) clearInterval(timer);
    } catch (err) {
      // Offline for a moment: the next tick tries again.
    }
  }, seconds * 1000);
}

// The Dashboard's install card asks every 5 s whether the first event arrived, and turns green when it has;
// the "visitors now" figure is refreshed every 15 s. Without JavaScript, a reload shows the same.
function watchLive(card) {
  const state = document.getElementById("install-state");
  const now = document.getElementById("visitors-now");
  let arrived = false;
  const poll = async () => {
    try {
      const res = await fetch(card.dataset.live, { credentials: "same-origin", headers: { "Accept": "application/json" } });
      if (!res.ok) return;
      const live = await res.json();
      if (now) now.textContent = String(live.visitorsNow);
      if (live.hasEvents && !arrived && state) {
        arrived = true;
        state.className = "arrived";
        state.innerHTML = '<span class="dot" aria-hidden="true"></span> The first event arrived: revlink is receiving ' +
          'visits. <a href="">Reload</a> to see them.';
      }
    } catch (err) {
      // Offline for a moment: the next poll tries again.
    }
  };
  setInterval(poll, 5000);
}

function refreshVisitorsNow(element) {
  const url = element.dataset.live;
  setInterval(async () => {
    try {
      const res = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
      if (res.ok) element.textContent = String((await res.json()).visitorsNow);
    } catch (err) {
      // Try again at the next tick.
    }
  }, 15000);
}

// A chart (templates/chart.html) is one keyboard stop: the arrow keys, Home and End move between its buckets; the
// focused, tapped or hovered bucket's figures are written in the readout above it.
function enhanceChart(svg) {
  const buckets = [...svg.querySelectorAll(".bucket")];
  const readout = document.getElementById(svg.dataset.readout);
  const show = (bucket) => {
    buckets.forEach((b) => {
      b.classList.toggle("current", b === bucket);
      b.setAttribute("tabindex", b === bucket ? "0" : "-1");
    });
    if (readout) {
      readout.querySelector("strong").textContent = bucket.dataset.label;
      readout.querySelector("span").textContent = bucket.dataset.figures;
    }
  };
  buckets.forEach((bucket) => {
    bucket.addEventListener("focus", () => show(bucket));
    bucket.addEventListener("mouseenter", () => show(bucket));
    bucket.addEventListener("click", () => bucket.focus());
  });
  svg.addEventListener("keydown", (event) => {
    const at = buckets.indexOf(document.activeElement);
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: buckets.length - 1 }[event.key];
    if (at < 0 || to === undefined) return;
    event.preventDefault();
    buckets[Math.max(0, Math.min(buckets.length - 1, to))].focus();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  showKeptFlash();
  document.querySelectorAll("svg[data-chart]").forEach(enhanceChart);
  const install = document.querySelector("[data-live].install");
  if (install) watchLive(install);
  else document.querySelectorAll("#visitors-now[data-live]").forEach(refreshVisitorsNow);
  document.querySelectorAll("form[data-api-form]").forEach(enhanceApiForm);
  const refreshing = document.querySelector("[data-auto-refresh]");
  if (refreshing) autoRefresh(refreshing);
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copy);
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
        button.textContent = "Copied";
      } catch (err) {
        document.execCommand("copy");
        button.textContent = "Copied";
      }
    });
  });
});
