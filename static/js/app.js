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

  // Screen readers read an invalid input's message through
  // aria-describedby. The error box's id is added to the hints the input
  // already refers to, and removed again when the error is replaced.
  var errorBoxCount = 0;
  function addDescription(input, id) {
    var ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (ids.indexOf(id) < 0) {
      ids.push(id);
    }
    input.setAttribute("aria-describedby", ids.join(" "));
  }
  function removeDescription(input, id) {
    var ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (other) {
      return other && other !== id;
    });
    if (ids.length) {
      input.setAttribute("aria-describedby", ids.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
  }

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
      removeDescription(element, box.id);
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
    if (!box.id) {
      errorBoxCount += 1;
      box.id = "form-errors-" + errorBoxCount;
    }
    addDescription(input, box.id);
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

  // A result that replaces the form whose button had the focus would leave
  // the focus on the page body, so keyboard and screen reader users would
  // start again from the top. The focus moves to the result's first heading
  // instead, or to the result itself.
  // The focus is noted before the request, because htmx then disables the
  // form's button and the browser moves the focus off a disabled button.
  var focusedTargets = {};
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id && target.contains(document.activeElement)) {
      focusedTargets[target.id] = true;
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.id || !focusedTargets[target.id]) {
      return;
    }
    delete focusedTargets[target.id];
    if (event.detail.xhr.status >= 400) {
      return;
    }
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) {
      return;
    }
    var result = document.getElementById(target.id);
    if (!result) {
      return;
    }
    var heading = result.querySelector("h1, h2, h3, h4");
    var focusable = heading || result;
    if (!focusable.hasAttribute("tabindex")) {
      focusable.setAttribute("tabindex", "-1");
    }
    focusable.focus();
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
