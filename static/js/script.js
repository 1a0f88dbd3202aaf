// revlink's tracking script: DataFast's wire contract (pageviews, goals, payments, identify).
//
// One source, three files. This file is a function of its variant; the server appends the call
// ("default"), ("cookieless") or ("hash") and drops the comment lines and indentation once, at start
// (src/web/tracking_script.rs), so the variants cannot drift apart and no JS toolchain is needed.
//   cookieless: sets no cookie and sends no visitorId (the server derives the visitor); the session
//               id lives in sessionStorage, for this tab only.
//   hash:       for hash routers: the page is path + hash, and a hash change is a pageview.
// Comments only on lines of their own (the server drops those lines), no template strings.
// It must never throw into the host page: every entry point (the start, each listener, the history
// wrappers, window.datafast) runs inside safe().
(function (variant) {
  "use strict";
  var w = window, d = document, loc = location, nav = navigator;
  var cookieless = variant == "cookieless", hashes = variant == "hash";
  // Ad click ids copied from the query into adClickIds.
  var CLICKS = "gclid gclsrc wbraid gbraid fbclid msclkid ttclid twclid li_fat_id".split(" ");
  // Success-URL parameter -> payment field (Stripe's only when it names a Checkout Session, cs_...).
  var PAYMENTS = { session_id: "stripe_session_id", checkout_id: "polar_checkout_id", order_id: "lemonsqueezy_order_id" };
  var script, debug, websiteId, domain, endpoint, scope, off, allowed, lastPage, lastHref, lastTime, timer;

  function log(m) {
    debug && console.log("DataFast:", m);
  }
  function warn(m) {
    console.warn("DataFast:", m);
  }
  // fn, made unable to throw.
  function safe(fn) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (e) {
        log(e);
      }
    };
  }
  function attr(n) {
    return script.getAttribute("data-" + n);
  }
  function flag(n) {
    return attr(n) == "true";
  }
  // Reads (one argument) or writes sessionStorage; storage may be disabled: then nothing is kept.
  function tab(k, v) {
    try {
      return v ? sessionStorage.setItem(k, v) : sessionStorage.getItem(k);
    } catch (e) {}
  }

  // A UUIDv4 (randomUUID exists on https pages only).
  function uuid() {
    var c = w.crypto;
    return c.randomUUID ? c.randomUUID() : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (x) {
      return (x ^ (c.getRandomValues(new Uint8Array(1))[0] & (15 >> (x / 4)))).toString(16);
    });
  }
  function getCookie(n) {
    var m = d.cookie.match("(^|; )" + n + "=([^;]*)");
    return m && m[2];
  }
  function setCookie(n, v, seconds) {
    d.cookie = n + "=" + v + "; max-age=" + seconds + "; path=/" + scope + "; SameSite=Lax" +
      (loc.protocol == "https:" ? "; Secure" : "");
  }
  // The session lasts 30 minutes from its last accepted event.
  function sessionId() {
    var kept = (tab("datafast_session_id") || "").split(" ");
    var id = cookieless ? kept[1] > Date.now() && kept[0] : getCookie("datafast_session_id");
    id || renew((id = "s" + uuid()));
    return id;
  }
  function renew(id) {
    cookieless ? tab("datafast_session_id", id + " " + (Date.now() + 18e5)) : setCookie("datafast_session_id", id, 1800);
  }

  // The query, with the one inside a hash route (#/done?session_id=...).
  function query() {
    return new URLSearchParams(loc.search + "&" + (loc.hash.split("?")[1] || ""));
  }

  // Posts one event (the body of POST /api/events); only HTTP 200 renews the session.
  function send(type, extraData) {
    var params = query(), ads = {}, sid, visitor, body;
    try {
      if (localStorage.datafast_ignore == "true") return log("datafast_ignore");
    } catch (e) {}
    sid = sessionId();
    if (!cookieless && !(visitor = getCookie("datafast_visitor_id"))) {
      setCookie("datafast_visitor_id", (visitor = uuid()), 31536000);
    }
    CLICKS.forEach(function (k) {
      if (params.get(k)) ads[k] = params.get(k);
    });
    // The page's URL; a fragment only from the hash variant, where it is part of the page.
    body = JSON.stringify({
      websiteId: websiteId,
      domain: domain,
      href: hashes ? loc.href : loc.href.split("#")[0],
      referrer: d.referrer || null,
      viewport: { width: w.innerWidth, height: w.innerHeight },
      visitorId: visitor,
      sessionId: sid,
      adClickIds: ads,
      type: type,
      extraData: extraData
    });
    log(body);
    // keepalive: an event sent as the page unloads (an external link) still arrives.
    if (w.fetch) {
      fetch(endpoint, { method: "POST", headers: { "Content-Type": "application/json" }, body: body, keepalive: true })
        .then(function (res) {
          res.status == 200 ? renew(sid) : log(res.status);
        }, log);
    } else if (nav.sendBeacon(endpoint, new Blob([body], { type: "application/json" }))) renew(sid);
  }

  // At most 255 characters (code points: a cut never splits an emoji into an invalid half).
  function cap(value) {
    return Array.from(value == null ? "" : "" + value).slice(0, 255).join("");
  }
  // A custom goal: a name of a-z 0-9 _ - (up to 64, lower-cased), at most 10 parameters named
  // ^[a-z0-9_-]{1,32}$ once lower-cased, values strings of at most 255 characters.
  function goal(name, params) {
    var extra = { eventName: ((name || "") + "").trim().toLowerCase() }, keys = Object.keys(params), key, i;
    if (!/^[a-z0-9_-]{1,64}$/.test(extra.eventName) || keys.length > 10) return warn("bad goal " + name);
    for (i = 0; i < keys.length; i++) {
      key = keys[i].toLowerCase();
      if (!/^[a-z0-9_-]{1,32}$/.test(key)) return warn("bad goal param " + key);
      extra[key] = cap(params[keys[i]]);
    }
    send("custom", extra);
  }

  // window.datafast(name, data): "payment" {email}, "identify" {user_id, name}, else a custom goal.
  function api(name, data) {
    data = Object(data);
    if (off) log(off);
    else if (name == "payment") data.email ? send(name, { email: "" + data.email }) : warn("payment: no email");
    else if (name == "identify") {
      data.user_id ? send(name, { user_id: "" + data.user_id, name: "" + (data.name || "") }) : warn("identify: no user_id");
    } else goal(name, data);
  }

  function page() {
    return loc.pathname + (hashes ? loc.hash : "");
  }
  // A pageview, unless this same URL was sent less than a minute ago (a reload too);
  // then a payment for each id the (success) URL names, once per tab.
  function pageview() {
    var now = Date.now(), kept = (tab("datafast_pageview") || "").split(" "), params = query(), p, id, extra;
    lastPage = page();
    if (!lastHref) {
      lastHref = kept[1];
      lastTime = kept[0];
    }
    if (loc.href == lastHref && now - lastTime < 6e4) return log("repeat");
    lastHref = loc.href;
    lastTime = now;
    tab("datafast_pageview", now + " " + lastHref);
    send("pageview");
    for (p in PAYMENTS) {
      id = params.get(p);
      if (id && !flag("disable-payments") && (p != "session_id" || !id.indexOf("cs_")) && !tab("datafast_" + p + id)) {
        tab("datafast_" + p + id, 1);
        extra = {};
        extra[PAYMENTS[p]] = id;
        send("payment", extra);
      }
    }
  }
  // After pushState, replaceState, popstate (hashchange): a pageview 100 ms after the page changed,
  // so a redirect chain counts once. A query-only change is not a new page.
  function navigated() {
    if (page() != lastPage) {
      clearTimeout(timer);
      timer = setTimeout(safe(pageview), 100);
    }
  }

  // data-fast-goal="name" on an element; data-fast-goal-foo-bar="v" adds the parameter foo_bar.
  function declared(el) {
    var params = {}, a, i;
    for (i = 0; (a = el.attributes[i]); i++) {
      if (!a.name.indexOf("data-fast-goal-")) params[a.name.slice(15).replace(/-/g, "_")] = a.value;
    }
    goal(el.getAttribute("data-fast-goal"), params);
  }
  // A click on a goal (a form's goal counts on submit instead) or on a link to another host.
  function clicked(e) {
    var t = e.target, el = t.closest("[data-fast-goal]"), a = t.closest("a[href]"), url;
    if (el && el.tagName != "FORM") declared(el);
    // getAttribute: an SVG link's .href is an object.
    url = a && new URL(a.getAttribute("href"), loc.href);
    if (url && /^http/.test(url.protocol) && url.hostname != loc.hostname && allowed.indexOf(url.hostname) < 0) {
      send("external_link", { url: url.href, text: cap(a.textContent.trim()) });
    }
  }
  function submitted(e) {
    e.target.hasAttribute("data-fast-goal") && declared(e.target);
  }

  function start() {
    script = d.currentScript || d.querySelector("script[data-website-id]");
    // No tag, or a second copy of this script on the page.
    if (!script || (w.datafast && w.datafast.revlink)) return;
    var queued = w.datafast && w.datafast.q, host = loc.hostname, custom = attr("api-url"), i;
    var local = /^localhost$|^127(\.\d+){3}$|^\[?::1\]?$|\.local(host)?$/i.test(host);
    debug = flag("debug");
    websiteId = attr("website-id");
    domain = (attr("domain") || "").toLowerCase();
    allowed = (attr("allowed-hostnames") || "").toLowerCase().split(/\s*,\s*/);
    if (!websiteId || !domain) warn((off = "data-website-id and data-domain needed"));
    else if (nav.webdriver || /headless|phantom|selenium|webdriver|puppeteer|playwright|lighthouse/i.test(nav.userAgent)) {
      off = "automated browser";
    } else if (local && !flag("allow-localhost")) off = "localhost";
    else if (loc.protocol == "file:" && !flag("allow-file-protocol")) off = "file://";
    else if (w != w.top && !debug) off = "iframe";
    // Cookies go on .<data-domain>, so subdomains share them, unless the page is elsewhere
    // (localhost, an allowed hostname of another domain): then they stay on this host.
    scope = !local && (host == domain || host.endsWith("." + domain)) ? "; domain=." + domain : "";
    // data-api-url: the events URL, or an origin (then /api/events there); by default /api/events
    // where this script came from.
    endpoint = new URL(custom || "/api/events", custom ? loc.href : script.src || loc.href);
    if (endpoint.pathname == "/") endpoint.pathname = "/api/events";
    endpoint = endpoint.href;
    w.datafast = safe(api);
    w.datafast.revlink = 1;
    if (off) return log(off);
    safe(pageview)();
    ["pushState", "replaceState"].forEach(function (name) {
      var original = history[name];
      history[name] = function () {
        var result = original.apply(this, arguments);
        safe(navigated)();
        return result;
      };
    });
    w.addEventListener("popstate", safe(navigated));
    hashes && w.addEventListener("hashchange", safe(navigated));
    // Capture phase: a page that stops a click's propagation does not hide it from us.
    d.addEventListener("click", safe(clicked), true);
    d.addEventListener("submit", safe(submitted), true);
    // Calls made before the script loaded (window.datafast.q), after the first pageview.
    for (i = 0; queued && i < queued.length; i++) w.datafast.apply(null, queued[i]);
  }

  safe(start)();
})
