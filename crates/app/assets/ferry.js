/*! Ferry tracker. Include with
 *    <script defer src="https://YOUR-FERRY/js/ferry.js" data-website-id="web_..."></script>
 *  (or data-domain="example.com"). It records a page view on load and on every single-page-app
 *  navigation, and exposes:
 *    ferry.track(name, properties)        a custom event
 *    ferry.identify(userId, {userHash, email, name, ...properties})
 *      userHash: hex(HMAC-SHA256(website identify secret, userId)), computed on your server;
 *      required unless the website takes unsigned identify calls.
 *    ferry.privacy(accountName)           opens Ferry's privacy page to ask for this browser's
 *      data by its visitor id alone (access or portability); the id is posted, never put in a URL.
 *  The visitor id lives in first-party localStorage (a cookie when storage is blocked).
 *  Set data-auto="false" to send page views yourself with ferry.pageview().
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var endpoint = new URL(script.src).origin;
  var site = script.getAttribute("data-website-id");
  var domain = script.getAttribute("data-domain") || location.hostname;
  var KEY = "ferry_vid";

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function visitorId() {
    try {
      var stored = localStorage.getItem(KEY);
      if (stored) return stored;
      var id = newId();
      localStorage.setItem(KEY, id);
      return id;
    } catch (e) {
      var match = document.cookie.match(/(?:^|; )ferry_vid=([^;]+)/);
      if (match) return decodeURIComponent(match[1]);
      var cid = newId();
      document.cookie = KEY + "=" + encodeURIComponent(cid) + "; path=/; max-age=63072000; SameSite=Lax";
      return cid;
    }
  }

  function send(path, body) {
    if (site) body.website_id = site; else body.domain = domain;
    body.visitor_id = visitorId();
    var data = JSON.stringify(body);
    // text/plain keeps this a simple request: no CORS preflight.
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint + path, new Blob([data], { type: "text/plain" }))) return;
    fetch(endpoint + path, { method: "POST", body: data, keepalive: true, headers: { "Content-Type": "text/plain" } });
  }

  var lastUrl = null;
  function pageview() {
    var url = location.pathname + location.search;
    if (url === lastUrl) return;
    var referrer = lastUrl === null ? document.referrer || null : lastUrl;
    lastUrl = url;
    send("/api/event", { type: "pageview", url: url, title: document.title || null, referrer: referrer });
  }

  function track(name, properties) {
    send("/api/event", { type: "event", name: String(name), properties: properties || {} });
  }

  function identify(userId, traits) {
    var t = traits || {};
    var properties = {};
    for (var k in t) if (k !== "email" && k !== "name" && k !== "userHash") properties[k] = t[k];
    var body = { user_id: String(userId), email: t.email || null, name: t.name || null, properties: properties };
    if (t.userHash) body.user_hash = String(t.userHash);
    send("/api/identify", body);
  }

  function privacy(account) {
    var form = document.createElement("form");
    form.method = "POST";
    form.action = endpoint + "/privacy/" + encodeURIComponent(String(account)) + "/browser";
    var fields = { visitor_id: visitorId() };
    if (site) fields.website_id = site; else fields.domain = domain;
    for (var name in fields) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
  }

  window.ferry = { pageview: pageview, track: track, identify: identify, privacy: privacy };

  if (script.getAttribute("data-auto") !== "false") {
    var wrap = function (method) {
      var original = history[method];
      history[method] = function () {
        var result = original.apply(this, arguments);
        pageview();
        return result;
      };
    };
    wrap("pushState");
    wrap("replaceState");
    window.addEventListener("popstate", pageview);
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", pageview);
    else pageview();
  }
})();
