// What the tracking script does in a page, run with node (no browser, no npm packages; .ci/run runs it):
//
//     node --test tests/js/
//
// Plain `cargo test` does not need node: tests/pages/tracking_script.rs checks the served files. Each
// test here runs the script as served (the source with its comment lines and indentation dropped, then
// called with its variant, as src/web/tracking_script.rs does) in a fresh vm context with a small fake of
// the browser: location, history, document (cookies, listeners, elements), storage, fetch and sendBeacon.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";
import { webcrypto } from "node:crypto";

const source = readFileSync(new URL("../../static/js/script.js", import.meta.url), "utf8");
// The server's `shipped` (src/web/tracking_script.rs).
const shipped = source
  .split("\n")
  .map((line) => line.trimStart())
  .filter((line) => line && !line.startsWith("//"))
  .join("\n");
const file = (variant) => shipped + '("' + variant + '");\n';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A minimal element: attributes, a parent, closest() for the two selectors the script uses.
class El {
  constructor(tag, attrs = {}, parent = null, text = "") {
    Object.assign(this, { tag, attrs, parent, textContent: text });
  }
  get tagName() {
    return this.tag.toUpperCase();
  }
  get attributes() {
    return Object.entries(this.attrs).map(([name, value]) => ({ name, value }));
  }
  getAttribute(name) {
    return name in this.attrs ? this.attrs[name] : null;
  }
  hasAttribute(name) {
    return name in this.attrs;
  }
  closest(selector) {
    const match = {
      "[data-fast-goal]": (e) => e.hasAttribute("data-fast-goal"),
      "a[href]": (e) => e.tag === "a" && e.hasAttribute("href"),
    }[selector];
    if (!match) throw new Error("unexpected selector " + selector);
    for (let e = this; e; e = e.parent) if (match(e)) return e;
    return null;
  }
}

class Storage {
  constructor() {
    this.map = new Map();
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  // Like the real one, an item is also a property (localStorage.datafast_ignore).
  setItem(k, v) {
    this.map.set(k, String(v));
    this[k] = String(v);
  }
}

// Runs one variant in a fresh page. `tab` (sessionStorage and cookies) may be carried over to model a
// reload or the next page of the same site.
function page({
  variant = "default",
  url = "https://www.example.com/pricing",
  attrs = { "data-website-id": "dfid_test", "data-domain": "example.com" },
  src = "https://revlink.test/js/script.js",
  tab = { session: new Storage(), jar: new Map() },
  status = 200,
  before = () => {},
} = {}) {
  const sent = [];
  const cookieWrites = [];
  const logs = [];
  const warnings = [];
  const listeners = { doc: [], win: [] };
  const location = {};
  const setLocation = (href) => {
    const u = new URL(href, location.href);
    Object.assign(location, {
      href: u.href,
      protocol: u.protocol,
      hostname: u.hostname,
      pathname: u.pathname,
      search: u.search,
      hash: u.hash,
      origin: u.origin,
    });
  };
  setLocation(url);
  const script = new El("script", { src, ...attrs });
  script.src = src;
  const document = {
    currentScript: script,
    referrer: "https://www.google.com/",
    get cookie() {
      return [...tab.jar].map(([k, v]) => k + "=" + v).join("; ");
    },
    set cookie(raw) {
      cookieWrites.push(raw);
      const [pair, ...attributes] = raw.split("; ");
      const [name, value] = pair.split("=");
      const maxAge = attributes.find((a) => a.startsWith("max-age="));
      if (maxAge && +maxAge.slice(8) <= 0) tab.jar.delete(name);
      else tab.jar.set(name, value);
    },
    addEventListener: (type, fn, capture) => listeners.doc.push({ type, fn, capture }),
    querySelector: () => script,
  };
  const history = {
    pushState: (state, title, href) => setLocation(href),
    replaceState: (state, title, href) => setLocation(href),
  };
  const sandbox = {
    location,
    document,
    history,
    navigator: { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36", webdriver: false },
    localStorage: new Storage(),
    sessionStorage: tab.session,
    innerWidth: 1440,
    innerHeight: 900,
    crypto: webcrypto,
    URL,
    URLSearchParams,
    Blob,
    setTimeout,
    clearTimeout,
    console: { log: (...a) => logs.push(a.join(" ")), warn: (...a) => warnings.push(a.join(" ")) },
    fetch: (endpoint, init) => {
      sent.push({ endpoint, init, body: JSON.parse(init.body) });
      return Promise.resolve({ status });
    },
    addEventListener: (type, fn) => listeners.win.push({ type, fn }),
  };
  sandbox.window = sandbox;
  sandbox.top = sandbox;
  before(sandbox);
  vm.createContext(sandbox);
  vm.runInContext(file(variant), sandbox);
  const fire = (list, type, event) => list.filter((l) => l.type === type).forEach((l) => l.fn(event));
  return {
    sandbox,
    sent,
    cookieWrites,
    logs,
    warnings,
    tab,
    location,
    bodies: () => sent.map((s) => s.body),
    click: (target) => fire(listeners.doc, "click", { target }),
    submit: (target) => fire(listeners.doc, "submit", { target }),
    push: (href) => sandbox.history.pushState({}, "", href),
    replace: (href) => sandbox.history.replaceState({}, "", href),
    back: (href) => {
      setLocation(href);
      fire(listeners.win, "popstate", {});
    },
    hashTo: (hash) => {
      setLocation(hash);
      fire(listeners.win, "hashchange", {});
    },
    listeners,
  };
}

test("a pageview on load carries the §2 body and sets both cookies on .<data-domain>", async () => {
  const p = page({ url: "https://www.example.com/pricing?utm_source=x&gclid=abc" });
  assert.equal(p.sent.length, 1);
  const { endpoint, init, body } = p.sent[0];
  assert.equal(endpoint, "https://revlink.test/api/events");
  assert.equal(init.method, "POST");
  assert.equal(init.keepalive, true);
  assert.equal(init.headers["Content-Type"], "application/json");
  assert.deepEqual(Object.keys(body), [
    "websiteId", "domain", "href", "referrer", "viewport", "visitorId", "sessionId", "adClickIds", "type",
  ]);
  assert.equal(body.websiteId, "dfid_test");
  assert.equal(body.domain, "example.com");
  assert.equal(body.href, "https://www.example.com/pricing?utm_source=x&gclid=abc");
  assert.equal(body.referrer, "https://www.google.com/");
  assert.deepEqual(body.viewport, { width: 1440, height: 900 });
  assert.match(body.visitorId, UUID);
  assert.match(body.sessionId.slice(1), UUID);
  assert.equal(body.sessionId[0], "s");
  assert.deepEqual(body.adClickIds, { gclid: "abc" });
  assert.equal(body.type, "pageview");
  assert.equal(p.tab.jar.get("datafast_visitor_id"), body.visitorId);
  assert.equal(p.tab.jar.get("datafast_session_id"), body.sessionId);
  const visitorCookie = p.cookieWrites.find((c) => c.startsWith("datafast_visitor_id="));
  assert.ok(visitorCookie.endsWith("; max-age=31536000; path=/; domain=.example.com; SameSite=Lax; Secure"), visitorCookie);
  const sessionCookie = p.cookieWrites.find((c) => c.startsWith("datafast_session_id="));
  assert.ok(sessionCookie.endsWith("; max-age=1800; path=/; domain=.example.com; SameSite=Lax; Secure"), sessionCookie);

  // Accepted (200): the session cookie is written again, 30 minutes from now.
  await sleep(0);
  assert.equal(p.cookieWrites.filter((c) => c.startsWith("datafast_session_id=" + body.sessionId)).length, 2);
});

test("the next page keeps the visitor and the session; a refused event does not renew the session", async () => {
  const first = page();
  await sleep(0);
  const next = page({ url: "https://blog.example.com/post", tab: first.tab, status: 429 });
  assert.equal(next.sent[0].body.visitorId, first.sent[0].body.visitorId);
  assert.equal(next.sent[0].body.sessionId, first.sent[0].body.sessionId);
  await sleep(0);
  assert.equal(next.cookieWrites.length, 0, "nothing written: both cookies exist and the event was refused");
});

test("http pages get no Secure cookies; localhost gets no domain attribute and is skipped unless allowed", () => {
  const http = page({ url: "http://example.com/" });
  assert.ok(http.cookieWrites.every((c) => !c.includes("Secure") && c.includes("; domain=.example.com")));

  for (const url of ["http://localhost:3000/", "http://127.0.0.1/", "http://[::1]/", "http://shop.local/", "http://app.localhost/"]) {
    assert.equal(page({ url }).sent.length, 0, url);
  }
  const allowed = page({
    url: "http://localhost:3000/",
    attrs: { "data-website-id": "dfid_test", "data-domain": "example.com", "data-allow-localhost": "true" },
  });
  assert.equal(allowed.sent.length, 1);
  assert.ok(allowed.cookieWrites.every((c) => !c.includes("domain=")), allowed.cookieWrites.join("\n"));

  // An allowed hostname outside data-domain keeps its cookies on its own host.
  const other = page({ url: "https://app.io/" });
  assert.ok(other.cookieWrites.every((c) => !c.includes("domain=")));
});

test("nothing is sent for automation, file://, iframes or the opt-out, and datafast() stays harmless", () => {
  const cases = {
    webdriver: { before: (w) => (w.navigator.webdriver = true) },
    headless: { before: (w) => (w.navigator.userAgent = "Mozilla/5.0 HeadlessChrome/120.0") },
    file: { url: "file:///home/me/index.html" },
    iframe: { before: (w) => (w.top = {}) },
    optOut: { before: (w) => w.localStorage.setItem("datafast_ignore", "true") },
    missingDomain: { attrs: { "data-website-id": "dfid_test" } },
  };
  for (const [name, options] of Object.entries(cases)) {
    const p = page(options);
    assert.equal(p.sent.length, 0, name);
    p.sandbox.datafast("signup", { plan: "pro" });
    assert.equal(p.sent.length, 0, name);
    assert.equal(p.cookieWrites.filter((c) => c.startsWith("datafast_visitor_id")).length, 0, name);
  }
  const missing = page(cases.missingDomain);
  assert.ok(missing.warnings.some((w) => w.includes("data-domain")));

  const debugFrame = page({
    attrs: { "data-website-id": "dfid_test", "data-domain": "example.com", "data-debug": "true" },
    before: (w) => (w.top = {}),
  });
  assert.equal(debugFrame.sent.length, 1, "debug mode tracks inside an iframe");
  const file = page({
    url: "file:///home/me/index.html",
    attrs: { "data-website-id": "dfid_test", "data-domain": "example.com", "data-allow-file-protocol": "true" },
    src: "file:///home/me/script.js",
    before: (w) => (w.document.currentScript.src = ""),
  });
  assert.equal(file.sent.length, 1, "file:// when allowed");
});

test("history: a pageview 100 ms after the path changes; query-only changes and repeats are not pageviews", async () => {
  const p = page({ url: "https://example.com/" });
  p.push("/a");
  p.push("/b");
  await sleep(150);
  assert.deepEqual(p.bodies().map((b) => new URL(b.href).pathname), ["/", "/b"], "a redirect chain counts once");
  p.push("/b?tab=2");
  p.replace("/b?tab=3");
  p.hashTo("#section");
  await sleep(150);
  assert.equal(p.sent.length, 2, "query and hash changes are not pageviews in the default variant");
  p.back("/");
  await sleep(150);
  assert.equal(p.sent.length, 3, "popstate");
  assert.equal(p.bodies()[2].href, "https://example.com/");

  // A reload of the same URL within 60 s is not sent again (the same tab).
  const reload = page({ url: "https://example.com/", tab: p.tab });
  assert.equal(reload.sent.length, 0);
});

test("the default variant sends no fragment: #anchors are not pages", () => {
  assert.equal(page({ url: "https://example.com/docs#install" }).sent[0].body.href, "https://example.com/docs");
});

test("the hash variant counts hash changes as pages", async () => {
  const p = page({ variant: "hash", url: "https://example.com/app#/home" });
  p.hashTo("#/settings");
  await sleep(150);
  assert.deepEqual(p.bodies().map((b) => b.href), ["https://example.com/app#/home", "https://example.com/app#/settings"]);
});

test("the cookieless variant writes no cookie, sends no visitorId and keeps the session in the tab", async () => {
  const first = page({ variant: "cookieless" });
  await sleep(0);
  const next = page({ variant: "cookieless", url: "https://example.com/other", tab: first.tab });
  assert.equal(first.cookieWrites.length + next.cookieWrites.length, 0);
  const [a, b] = [first.sent[0].body, next.sent[0].body];
  assert.ok(!("visitorId" in a) && !("visitorId" in b));
  assert.match(a.sessionId.slice(1), UUID);
  assert.equal(b.sessionId, a.sessionId);
});

test("window.datafast: the queue replays after the first pageview; goals, payment and identify", () => {
  const p = page({
    before: (w) => {
      w.datafast = function () {
        (w.datafast.q = w.datafast.q || []).push(arguments);
      };
      w.datafast("signup", { PLAN: "Pro", seats: 3 });
      w.datafast("identify", { user_id: "u_1", name: "Ann" });
      w.datafast("payment", { email: "ann@example.com" });
    },
  });
  assert.deepEqual(p.bodies().map((b) => b.type), ["pageview", "custom", "identify", "payment"]);
  assert.deepEqual(p.bodies()[1].extraData, { eventName: "signup", plan: "Pro", seats: "3" });
  assert.deepEqual(p.bodies()[2].extraData, { user_id: "u_1", name: "Ann" });
  assert.deepEqual(p.bodies()[3].extraData, { email: "ann@example.com" });

  const eleven = Object.fromEntries([...Array(11).keys()].map((i) => ["k" + i, "v"]));
  const bad = [
    ["signup", eleven],
    ["signup", { "bad key": "v" }],
    ["signup", { ["k".repeat(33)]: "v" }],
    [""],
    [],
    ["Sign up"],
    ["g".repeat(65)],
    ["payment", {}],
    ["identify", {}],
  ];
  for (const call of bad) p.sandbox.datafast(...call);
  assert.equal(p.sent.length, 4, "invalid calls send nothing");
  assert.equal(p.warnings.length, bad.length, p.warnings.join("\n"));

  p.sandbox.datafast("Long_Note", { note: "x".repeat(300), emoji: "x".repeat(254) + "\u{1F600}\u{1F600}", none: null });
  const { extraData } = p.bodies()[4];
  assert.equal(extraData.eventName, "long_note", "goal names are lower-cased");
  assert.equal(extraData.note.length, 255);
  assert.equal([...extraData.emoji].length, 255, "255 characters, the last a whole emoji");
  assert.ok(extraData.emoji.endsWith("\u{1F600}"));
  assert.equal(extraData.none, "");
});

test("declarative goals on clicks and form submits; external links", () => {
  const p = page({
    url: "https://example.com/",
    attrs: { "data-website-id": "dfid_test", "data-domain": "example.com", "data-allowed-hostnames": "app.io, shop.io" },
  });
  const button = new El("button", { "data-fast-goal": "cta_click", "data-fast-goal-plan-name": "pro" });
  p.click(new El("span", {}, button));
  assert.deepEqual(p.bodies()[1].extraData, { eventName: "cta_click", plan_name: "pro" });

  const form = new El("form", { "data-fast-goal": "newsletter" });
  p.click(new El("button", { type: "submit" }, form));
  assert.equal(p.sent.length, 2, "a click inside a goal form is not the form's goal");
  p.submit(form);
  assert.deepEqual(p.bodies()[2].extraData, { eventName: "newsletter" });

  p.click(new El("a", { href: "https://other.com/docs?x=1" }, null, "  Read the docs "));
  assert.deepEqual(p.bodies()[3], { ...p.bodies()[3], type: "external_link", extraData: { url: "https://other.com/docs?x=1", text: "Read the docs" } });
  for (const href of ["/pricing", "https://example.com/x", "https://shop.io/", "mailto:a@b.c", "#top"]) {
    p.click(new El("a", { href }, null, "x"));
  }
  assert.equal(p.sent.length, 4, "same host, allowed hostnames and non-http links are not external");
});

test("payments from the success URL, once per tab, unless disabled", () => {
  const url = "https://example.com/success?session_id=cs_test_a1";
  const p = page({ url });
  assert.deepEqual(p.bodies().map((b) => b.type), ["pageview", "payment"]);
  assert.deepEqual(p.bodies()[1].extraData, { stripe_session_id: "cs_test_a1" });
  assert.equal(page({ url: url + "&again=1", tab: p.tab }).sent.filter((s) => s.body.type === "payment").length, 0);

  assert.deepEqual(page({ url: "https://example.com/thanks?checkout_id=c_1" }).bodies()[1].extraData, { polar_checkout_id: "c_1" });
  assert.deepEqual(page({ url: "https://example.com/thanks?order_id=42" }).bodies()[1].extraData, { lemonsqueezy_order_id: "42" });
  assert.equal(page({ url: "https://example.com/x?session_id=abc" }).sent.length, 1, "not a Checkout Session id");
  const disabled = page({ url, attrs: { "data-website-id": "d", "data-domain": "example.com", "data-disable-payments": "true" } });
  assert.equal(disabled.sent.length, 1);
});

test("data-api-url: a full URL, or an origin that gets /api/events", () => {
  const at = (api) => page({ attrs: { "data-website-id": "d", "data-domain": "example.com", "data-api-url": api } }).sent[0].endpoint;
  assert.equal(at("https://proxy.example.com"), "https://proxy.example.com/api/events");
  assert.equal(at("/stats/event"), "https://www.example.com/stats/event");
});

test("it never throws into the page, and falls back to sendBeacon without fetch", () => {
  assert.doesNotThrow(() => page({ before: (w) => (w.fetch = () => { throw new Error("blocked"); }) }));
  const broken = page({
    before: (w) =>
      Object.defineProperty(w.document, "cookie", { get: () => { throw new Error("sandboxed"); }, set: () => {} }),
  });
  assert.doesNotThrow(() => broken.sandbox.datafast("x", { a: "b" }));
  assert.doesNotThrow(() => broken.click({}));

  const beacons = [];
  page({
    before: (w) => {
      delete w.fetch;
      w.navigator.sendBeacon = (url, blob) => beacons.push({ url, type: blob.type }) > 0;
    },
  });
  assert.deepEqual(beacons, [{ url: "https://revlink.test/api/events", type: "application/json" }]);

  // A page without randomUUID (http) still gets UUIDv4s.
  const plain = page({ url: "http://example.com/", before: (w) => (w.crypto = { getRandomValues: (a) => webcrypto.getRandomValues(a) }) });
  assert.match(plain.sent[0].body.visitorId, UUID);
});

test("history wrappers return what the original returns and let its errors through", () => {
  const p = page({
    before: (w) => {
      w.history.pushState = () => {
        throw new Error("SecurityError");
      };
    },
  });
  assert.throws(() => p.push("https://elsewhere.com/"), /SecurityError/);
});

test("a second copy of the script on the page does nothing", () => {
  const tab = { session: new Storage(), jar: new Map() };
  const p = page({ tab });
  vm.runInContext(file("default"), p.sandbox);
  assert.equal(p.sent.length, 1);
});
