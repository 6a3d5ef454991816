/* wagtail-leadscore tracker: reports the page view, custom events and engagement.
 * Configured by the JSON in #leadscore-config (no inline script, CSP-friendly).
 * Public API: leadscore.track(name, properties) -> Promise. */
(function () {
  "use strict";
  var configElement = document.getElementById("leadscore-config");
  if (!configElement || (window.leadscore && window.leadscore.ready)) {
    return;
  }
  var config = JSON.parse(configElement.textContent);
  var loadId = randomId();

  function randomId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function send(event, keepalive) {
    var body = {
      type: event.type,
      id: event.id || randomId(),
      view: config.view,
      name: event.name || "",
      path: window.location.pathname,
      query: window.location.search.replace(/^\?/, ""),
      referrer: document.referrer,
      properties: event.properties || {}
    };
    return window.fetch(config.endpoint, {
      method: "POST",
      credentials: "same-origin",
      keepalive: Boolean(keepalive),
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.ok;
    }, function () {
      return false;
    });
  }

  // The first request may create the visitor cookie: later events wait for it.
  var ready = config.pageView ? send({ type: "page_view", id: loadId }) : Promise.resolve(true);

  function track(name, properties) {
    return ready.then(function () {
      return send({ type: "custom", name: String(name), properties: properties || {} });
    });
  }

  var earlyCalls = (window.leadscore && window.leadscore.queue) || [];
  window.leadscore = { track: track, ready: ready };
  earlyCalls.forEach(function (args) {
    track.apply(null, args);
  });

  if (!config.timeOnPage && !config.scrollDepth) {
    return;
  }
  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  var visibleMs = 0;
  var maxScroll = 0;
  var reported = false;

  function scrollDepth() {
    var doc = document.documentElement;
    var scrollable = doc.scrollHeight - window.innerHeight;
    return scrollable <= 0 ? 100 : Math.min(100, Math.round(100 * window.scrollY / scrollable));
  }

  if (config.scrollDepth) {
    maxScroll = scrollDepth();
    window.addEventListener("scroll", function () {
      maxScroll = Math.max(maxScroll, scrollDepth());
    }, { passive: true });
  }

  function report() {
    if (visibleSince !== null) {
      visibleMs += Date.now() - visibleSince;
      visibleSince = null;
    }
    if (reported) {
      return;
    }
    reported = true;
    var properties = {};
    if (config.timeOnPage) {
      properties.seconds = Math.round(visibleMs / 1000);
    }
    if (config.scrollDepth) {
      properties.scroll_depth = maxScroll;
    }
    send({ type: "engagement", id: loadId + "-engagement", properties: properties }, true);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      report();
    } else if (visibleSince === null) {
      visibleSince = Date.now();
    }
  });
  window.addEventListener("pagehide", report);
})();
