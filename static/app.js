// revlink settings pages: progressive enhancement only; every form also works without JavaScript.
"use strict";

// A form marked data-api-form posts JSON to its data-api-action (the JSON API route) with the session's
// CSRF token and shows the answer in place; without JavaScript it posts to its page route as a plain form.
function enhanceApiForm(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.querySelector("input:not([type=hidden])");
    const message = document.getElementById(input.getAttribute("aria-describedby"));
    const button = form.querySelector("button[type=submit]");
    const body = {};
    body[input.name] = input.value;
    button.disabled = true;
    message.className = "field-message";
    message.textContent = "Checking the key with Stripe…";
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
        message.textContent = answer.data[0].message;
        input.value = "";
        if (form.hasAttribute("data-reload-on-success")) window.location.reload();
      } else {
        message.textContent = answer.error.message;
        input.focus();
      }
    } catch (err) {
      message.textContent = "revlink could not be reached; check your connection and try again.";
    } finally {
      button.disabled = false;
    }
  });
}

// An element marked data-auto-refresh="N" (an import under way) reloads the page every N seconds,
// unless someone is using a form on it: a focused field, or one changed from its initial value.
function autoRefresh(element) {
  const seconds = Number(element.dataset.autoRefresh) || 3;
  setInterval(() => {
    const active = document.activeElement;
    const busy = (active && active.matches("input, textarea, select")) ||
      [...document.querySelectorAll("input:not([type=hidden]), textarea")].some((f) => f.value !== f.defaultValue);
    if (!busy) window.location.reload();
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
