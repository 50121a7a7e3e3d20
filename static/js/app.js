// Behaviour shared by every page. Loaded as a file because the Content
// Security Policy forbids inline scripts.
(function () {
  "use strict";

  // Send the CSRF token from the page's meta tag with every htmx request.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });

  // Show 4xx and 5xx fragments inside the form that sent the request,
  // in its [data-role=errors] element, instead of dropping them.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status < 400) {
      return;
    }
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    var form = source && source.closest ? source.closest("form") : null;
    var box = form ? form.querySelector('[data-role="errors"]') : null;
    event.detail.shouldSwap = true;
    event.detail.isError = false;
    if (box) {
      event.detail.target = box;
      event.detail.swapOverride = "innerHTML";
    }
  });

  // Ask for confirmation before submitting a form marked data-confirm.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
