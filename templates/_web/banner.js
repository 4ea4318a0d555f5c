/* Broadcaster status banner. Paste one tag into any page:
 *   <script src="https://status.example.com/banner.js" async></script>
 * Optional attributes: data-refresh="60" (seconds between checks, 0: once),
 * data-dismiss-label="Dismiss" (the close button's accessible name).
 * No dependencies. It never blocks the page, fails silently when the status site is unreachable,
 * and inserts the approved text with textContent only: nothing it fetches is parsed as HTML.
 * It asks for the banner in the browser's language (the status site answers in it when it speaks it,
 * else in its default language), and shows a resolution only until its `show_until`. */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector('script[src$="/banner.js"],script[src="banner.js"]');
  if (!script || !window.fetch) { return; }
  var source = new URL("banner.json", script.src);  // from this script's own origin
  var languages = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  if (languages[0]) { source.searchParams.set("lang", String(languages[0]).slice(0, 35)); }
  source = source.href;
  var refresh = parseInt(script.getAttribute("data-refresh") || "60", 10);
  var dismissLabel = script.getAttribute("data-dismiss-label") || "Dismiss";
  var KEY = "broadcaster-banner-dismissed";
  var COLOURS = {
    none: ["#e6f4ea", "#1f7a3a"], minor: ["#fff8c5", "#7a5a00"],
    major: ["#fff1e5", "#9a3412"], critical: ["#b91c1c", "#ffffff"]
  };
  var element = null;

  function remembered() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }  // storage may be off
  }
  function remember(value) {
    try { window.localStorage.setItem(KEY, value); } catch (e) { /* the banner just comes back */ }
  }
  function identity(banner) { return banner.incident_id + ":" + banner.version; }

  function hide() {
    if (element && element.parentNode) { element.parentNode.removeChild(element); }
    element = null;
  }

  function expired(banner) {
    return banner.show_until && Date.parse(banner.show_until) <= Date.now();  // a resolution's time is up
  }

  function build(banner) {
    var colours = COLOURS[banner.severity] || COLOURS[banner.impact] || COLOURS.major;
    var box = document.createElement("div");
    box.id = "broadcaster-banner";
    box.setAttribute("role", "status");  // a WCAG status message: announced politely, whatever the severity
    if (banner.language) { box.setAttribute("lang", banner.language); }
    box.style.cssText = "display:flex;align-items:flex-start;gap:.75em;padding:.75em 1em;margin:0;" +
      "font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;border-bottom:1px solid rgba(0,0,0,.15);" +
      "background:" + colours[0] + ";color:" + colours[1] + ";position:relative;z-index:2147483000;";
    var text = document.createElement("a");
    text.className = "broadcaster-banner-text";
    text.textContent = banner.text;
    if (/^https?:\/\//.test(banner.url || "")) { text.href = banner.url; }
    text.style.cssText = "flex:1;color:inherit;text-decoration:none;overflow-wrap:anywhere;";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "broadcaster-banner-dismiss";
    close.setAttribute("aria-label", dismissLabel);
    close.textContent = "\u00d7";
    close.style.cssText = "background:none;border:0;color:inherit;font-size:1.4em;line-height:1;cursor:pointer;padding:0 .25em;";
    close.addEventListener("click", function () { remember(identity(banner)); hide(); });
    box.appendChild(text);
    box.appendChild(close);
    box.setAttribute("data-incident", String(banner.incident_id));
    box.setAttribute("data-version", String(banner.version));
    return box;
  }

  function show(banner) {
    if (!banner || expired(banner) || remembered() === identity(banner)) { hide(); return; }
    if (banner.show_until) { setTimeout(function () { if (expired(banner)) { hide(); } }, Math.max(0, Date.parse(banner.show_until) - Date.now()) + 1000); }
    if (element && element.getAttribute("data-incident") === String(banner.incident_id) &&
        element.getAttribute("data-version") === String(banner.version)) { return; }  // already shown
    var box = build(banner);
    if (element && element.parentNode) { element.parentNode.replaceChild(box, element); }
    else { document.body.insertBefore(box, document.body.firstChild); }
    element = box;
  }

  function check() {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, 10000) : null;
    fetch(source, { cache: "no-cache", credentials: "omit", signal: controller ? controller.signal : undefined })
      .then(function (response) { return response.ok ? response.json() : undefined; })
      .then(function (banner) { if (banner !== undefined) { show(banner); } })
      .catch(function () { /* unreachable: keep what is shown, try again later */ })
      .then(function () { if (timer) { clearTimeout(timer); } });
  }

  function start() {
    check();
    if (refresh > 0) { setInterval(check, refresh * 1000); }
  }
  if (document.body) { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
