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

  // After an error fragment lands in a form, mark the input it names as
  // invalid, move the focus to it and name its label, because the message
  // names the field as the JSON API does.
  document.addEventListener("htmx:afterSwap", function (event) {
    var box = event.detail.target;
    if (!box || !box.getAttribute || box.getAttribute("data-role") !== "errors") {
      return;
    }
    var form = box.closest("form");
    if (!form) {
      return;
    }
    form.querySelectorAll('[aria-invalid="true"]').forEach(function (element) {
      element.removeAttribute("aria-invalid");
    });
    var fragment = box.querySelector("[data-field]");
    var field = fragment ? fragment.getAttribute("data-field") : "";
    if (!field) {
      return;
    }
    var name = field.split(".").pop();
    var input = form.querySelector('[name="' + CSS.escape(name) + '"]');
    if (!input || input.type === "hidden") {
      return;
    }
    input.setAttribute("aria-invalid", "true");
    var label = input.closest("label");
    var caption = label ? label.querySelector("span") : null;
    if (caption) {
      var note = document.createElement("p");
      note.setAttribute("data-testid", "error-field-label");
      note.textContent = "Check “" + caption.textContent.trim() + "”.";
      fragment.appendChild(note);
    }
    input.focus();
  });

  // Keep inputs of the same data-sync group and name equal across forms,
  // such as the retry policy of the plan and the run form.
  function syncInputs(event) {
    var input = event.target;
    var group = input && input.getAttribute && input.getAttribute("data-sync");
    if (!group) {
      return;
    }
    var selector = '[data-sync="' + CSS.escape(group) + '"][name="' + CSS.escape(input.name) + '"]';
    document.querySelectorAll(selector).forEach(function (other) {
      if (other === input) {
        return;
      }
      if (input.type === "checkbox") {
        other.checked = input.checked;
      } else {
        other.value = input.value;
      }
    });
  }
  document.addEventListener("input", syncInputs);
  document.addEventListener("change", syncInputs);

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
