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

document.addEventListener("DOMContentLoaded", () => {
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
