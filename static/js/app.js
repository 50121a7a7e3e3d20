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
    var section = input.closest("details");
    if (section && !section.open) {
      section.open = true;
    }
    if (!box.id) {
      errorBoxCount += 1;
      box.id = "form-errors-" + errorBoxCount;
    }
    input.setAttribute("aria-invalid", "true");
    addDescription(input, box.id);
    // A message that names several fields marks each of them, while the
    // focus goes to the first.
    var others = (fragment.getAttribute("data-other-fields") || "").split(" ");
    others.forEach(function (other) {
      if (!other) {
        return;
      }
      var otherInput = form.querySelector('[name="' + CSS.escape(other.split(".").pop()) + '"]');
      if (otherInput && otherInput.type !== "hidden") {
        otherInput.setAttribute("aria-invalid", "true");
        addDescription(otherInput, box.id);
      }
    });
    // A group of check boxes is named by its legend, not by the label of
    // its first box.
    var group = input.type === "checkbox" || input.type === "radio" ? input.closest("fieldset") : null;
    var legend = group ? group.querySelector("legend") : null;
    var label = input.closest("label");
    var caption = legend || (label ? label.querySelector("span") : null);
    if (caption) {
      var note = document.createElement("p");
      note.setAttribute("data-testid", "error-field-label");
      note.textContent = "Check “" + caption.textContent.trim() + "”.";
      fragment.appendChild(note);
    }
    input.focus();
  });

  // htmx disables a form's button during its request, and the browser then
  // moves the focus to the page body, so keyboard and screen reader users
  // would start again from the top. The focused element is noted before the
  // request, and the focus goes back to it when it is still on the page.
  // Otherwise it goes to the result that replaced it: to the element marked
  // data-focus, or else to the first heading.
  // A send spinner states how long one destination's send can take. When
  // the request starts, the estimate is computed again from the form's own
  // retries and timeout_seconds fields, the way the server bounds a send:
  // every attempt times out, and each quick retry first waits the longest
  // pause. An empty or invalid field leaves the server's default estimate.
  function formatSeconds(total) {
    var minutes = Math.floor(total / 60);
    var seconds = Math.round((total - minutes * 60) * 10) / 10;
    return (minutes > 0 ? minutes + "m" : "") + (seconds > 0 || minutes === 0 ? seconds + "s" : "");
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest("form") : null;
    if (!form || !form.elements.retries || !form.elements.timeout_seconds) {
      return;
    }
    var retries = Number(form.elements.retries.value);
    var timeout = Number(form.elements.timeout_seconds.value);
    if (form.elements.retries.value === "" || form.elements.timeout_seconds.value === "" ||
        !Number.isInteger(retries) || retries < 0 || !(timeout > 0)) {
      return;
    }
    form.querySelectorAll("[data-send-estimate]").forEach(function (estimate) {
      var pause = Number(estimate.getAttribute("data-pause-seconds")) || 0;
      estimate.textContent = formatSeconds((retries + 1) * timeout + retries * pause);
    });
  });

  // The page returned for a rejected form post marks the address to show
  // instead of the post's, so a reload loads the page and posts nothing.
  var replaceURL = document.querySelector("[data-replace-url]");
  if (replaceURL && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", replaceURL.getAttribute("data-replace-url"));
  }

  // The HTML standard skips autofocus when the address's fragment names an
  // element, so a rejected GET form whose action ends in a fragment, such
  // as /console#alert-history, would leave the focus on the page body.
  // The invalid field takes the focus once the page has loaded, because in
  // Chromium a focus moved before then is lost again.
  // The page stays at the fragment's section, which contains the field.
  window.addEventListener("load", function () {
    var autofocus = document.querySelector("[autofocus]");
    if (autofocus && window.location.hash && document.activeElement === document.body) {
      autofocus.focus({ preventScroll: true });
      autofocus.scrollIntoView({ block: "nearest" });
    }
  });

  var focusBeforeRequest = new WeakMap();
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    focusBeforeRequest.set(event.detail.xhr, {
      element: document.activeElement,
      targetId: target && target.id && target.contains(document.activeElement) ? target.id : "",
      swappedId: target && target.id ? target.id : ""
    });
  });
  // While a request runs, htmx disables the button that sent it, and the
  // browser then drops the focus to the page body, so the next Tab would
  // start from the top. The focus moves instead to the request's progress
  // message (a status element with tabindex=-1), which screen readers read
  // and which scrolls into view on a small screen. The message is the
  // element hx-indicator names, or else the indicator inside the form.
  function findProgressMessage(elt) {
    var owner = elt.closest("[hx-indicator]");
    var selector = owner ? owner.getAttribute("hx-indicator") : "";
    var progress = null;
    if (selector) {
      try {
        progress = document.querySelector(selector);
      } catch (error) {
        // An htmx extended selector such as "closest form" is not CSS.
        progress = null;
      }
    }
    if (!progress) {
      var form = elt.closest("form");
      progress = form ? form.querySelector(".htmx-indicator") : null;
    }
    return progress;
  }
  document.addEventListener("htmx:beforeSend", function (event) {
    var elt = event.detail.requestConfig ? event.detail.requestConfig.elt : event.detail.elt;
    var active = document.activeElement;
    var lost = !active || active === document.body || active.matches(":disabled");
    if (!elt || !elt.closest || !lost) {
      return;
    }
    var progress = findProgressMessage(elt);
    // htmx shows the indicator before this event, so a hidden one belongs
    // to another request.
    if (!progress || progress.getClientRects().length === 0) {
      return;
    }
    if (!progress.hasAttribute("tabindex")) {
      progress.setAttribute("tabindex", "-1");
    }
    progress.focus({ preventScroll: true });
    progress.scrollIntoView({ block: "nearest" });
  });

  function restoreFocus(noted, swappedNew) {
    // A new result that needs the next user action, such as a
    // confirmation, takes the focus wherever it was. After a rejected
    // request the focus stays on the field the error names.
    var swapped = swappedNew && noted && noted.swappedId ? document.getElementById(noted.swappedId) : null;
    var next = swapped ? swapped.querySelector("[data-take-focus]") : null;
    if (next) {
      if (!next.hasAttribute("tabindex")) {
        next.setAttribute("tabindex", "-1");
      }
      next.focus();
      return;
    }
    // A focused progress message counts as lost focus, because it hides
    // when the request ends. That includes the copy of it that a swap
    // brings: htmx focuses the new element with the focused element's id,
    // and keeps the old classes on it until it settles, so it still looks
    // shown here.
    var active = document.activeElement;
    var lost = !active || active === document.body || !document.contains(active) ||
      active.classList.contains("htmx-indicator");
    if (!noted || !lost) {
      return;
    }
    if (noted.element && noted.element !== document.body && document.contains(noted.element) && !noted.element.disabled) {
      noted.element.focus();
      return;
    }
    var result = noted.targetId ? document.getElementById(noted.targetId) : null;
    if (!result) {
      return;
    }
    var focusable = result.querySelector("[data-focus]") || result.querySelector("h1, h2, h3, h4") || result;
    if (!focusable.hasAttribute("tabindex")) {
      focusable.setAttribute("tabindex", "-1");
    }
    focusable.focus();
  }

  // A short summary of a new result, marked data-announce, is read out
  // through the page's polite live region, because a replaced element is
  // not announced by itself. A summary that is also the focus target
  // (data-focus) comes first.
  function announce(noted) {
    var announcer = document.getElementById("announcer");
    var result = noted && noted.swappedId ? document.getElementById(noted.swappedId) : null;
    var summary = result ? (result.querySelector("[data-focus][data-announce]") || result.querySelector("[data-announce]")) : null;
    if (!announcer || !summary) {
      return;
    }
    announcer.textContent = "";
    window.setTimeout(function () {
      announcer.textContent = summary.textContent.replace(/\s+/g, " ").trim();
    }, 50);
  }

  // A request that succeeds clears the error its form showed before.
  function clearErrors(form) {
    var box = form ? form.querySelector('[data-role="errors"]') : null;
    if (!box) {
      return;
    }
    form.querySelectorAll('[aria-invalid="true"]').forEach(function (element) {
      element.removeAttribute("aria-invalid");
      removeDescription(element, box.id);
    });
    box.textContent = "";
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    // htmx sets detail.elt to the element it fires the event on, which is
    // a parent when the request's element was replaced, so the request's
    // own element comes from requestConfig.
    var elt = event.detail.requestConfig ? event.detail.requestConfig.elt : event.detail.elt;
    var noted = focusBeforeRequest.get(event.detail.xhr);
    focusBeforeRequest.delete(event.detail.xhr);
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status > 0 && status < 400) {
      var form = elt && elt.closest ? elt.closest("form") : null;
      if (form && document.contains(form)) {
        clearErrors(form);
      }
      announce(noted);
    }
    restoreFocus(noted, status > 0 && status < 400);
  });

  // A request that reached no server, or got no response in time, shows
  // why in its form, because otherwise the spinner just stops and the page
  // looks as if nothing happened.
  function showRequestFailure(event, message) {
    var elt = event.detail.requestConfig ? event.detail.requestConfig.elt : event.detail.elt;
    var form = elt && elt.closest ? elt.closest("form") : null;
    var box = form ? form.querySelector('[data-role="errors"]') : null;
    var verb = event.detail.requestConfig ? event.detail.requestConfig.verb : "";
    if (!box && verb === "get" && elt && elt.prepend) {
      // A panel that refreshes itself after another action only reads.
      // A dialog would block the page after an action that did complete,
      // so the panel keeps its old content with a note above it.
      var stale = elt.querySelector('[data-testid="refresh-failure"]');
      if (!stale) {
        stale = document.createElement("p");
        stale.setAttribute("role", "status");
        stale.setAttribute("data-testid", "refresh-failure");
        stale.className = "mb-2 rounded border border-amber-200 bg-amber-50 p-2 text-sm text-amber-900";
        elt.prepend(stale);
      }
      stale.textContent = "This part of the page could not be refreshed, because the server could not be reached. " +
        "It shows what was true before; reload the page when the server is back.";
      return;
    }
    if (!box) {
      // Only forms record anything, so a link or button outside one only
      // reads, and nothing can be half done.
      window.alert("The server could not be reached. Try again when it is back.");
      return;
    }
    var note = document.createElement("p");
    note.setAttribute("role", "alert");
    note.setAttribute("data-testid", "request-failure");
    note.className = "mt-2 rounded border border-red-200 bg-red-50 p-2 text-sm text-red-800";
    note.textContent = message;
    box.replaceChildren(note);
  }
  document.addEventListener("htmx:sendError", function (event) {
    showRequestFailure(event, "The server could not be reached, so nothing is confirmed. " +
      "Check the History page for what was recorded before trying again.");
  });
  document.addEventListener("htmx:timeout", function (event) {
    showRequestFailure(event, "The server did not respond in time, so nothing is confirmed. " +
      "Check the History page for what was recorded before trying again.");
  });

  // A field that fails the browser's own check inside a closed <details>
  // section cannot show its message, so the section opens first.
  document.addEventListener("invalid", function (event) {
    var details = event.target && event.target.closest ? event.target.closest("details") : null;
    if (details && !details.open) {
      details.open = true;
    }
  }, true);

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

  // The element a successful swap replaces is kept by its id, so a
  // confirmation swapped in over a result can put that result back when
  // it is cancelled.
  var replacedById = {};
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr.status < 400 && target && target.id && !target.hasAttribute("data-cancel-box")) {
      replacedById[target.id] = target.cloneNode(true);
    }
  });

  // A link marked data-cancel leads back to the page it names. When that
  // page is the one already open, as after htmx swapped a confirmation
  // into it, following the link would only scroll. A confirmation marked
  // data-cancel-box is then replaced by the element it had replaced, and
  // the fields typed before it keep their values. Its data-cancel-text is
  // announced, and the focus goes to its data-cancel-focus element.
  // Without such a box the page is loaded again, which drops the
  // confirmation.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-cancel]") : null;
    // A click that opens a new tab or window keeps its usual meaning.
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    var target = new URL(link.href, window.location.href);
    if (target.pathname !== window.location.pathname || target.search !== window.location.search) {
      return;
    }
    event.preventDefault();
    var box = link.closest("[data-cancel-box]");
    if (!box) {
      window.location.replace(target.href);
      window.location.reload();
      return;
    }
    // The result the confirmation replaced comes back, and the live region
    // announces that nothing was sent.
    var text = box.getAttribute("data-cancel-text") || "";
    var focusSelector = box.getAttribute("data-cancel-focus");
    var previous = replacedById[box.id];
    delete replacedById[box.id];
    if (previous) {
      box.replaceWith(previous);
    } else {
      var note = document.createElement("p");
      note.className = "mt-4 text-sm text-slate-600";
      note.id = box.id;
      box.replaceWith(note);
    }
    var announcer = document.getElementById("announcer");
    if (announcer) {
      announcer.textContent = text;
    }
    var next = focusSelector ? document.querySelector(focusSelector) : null;
    if (next && event.detail > 0) {
      next.focus();
    } else if (next) {
      focusAfterKey(next);
    }
  });

  // Chromium follows a link on the keydown of Enter and presses a button on
  // its keypress. A link that focused a button at once would therefore
  // press it too, so after a click without a pointer (detail 0) the focus
  // moves when the key is released. A click made by a screen reader sends
  // no key, so the focus then moves after a short wait. A key still held
  // after that wait repeats, and its repeats are ignored until it is
  // released, so they cannot press the newly focused button either.
  function focusAfterKey(element) {
    var moved = false;
    function move() {
      if (moved) {
        return;
      }
      moved = true;
      element.focus();
    }
    function ignoreRepeat(event) {
      if (event.repeat) {
        event.preventDefault();
        event.stopPropagation();
      }
    }
    function release() {
      move();
      document.removeEventListener("keydown", ignoreRepeat, true);
      document.removeEventListener("keyup", release, true);
    }
    document.addEventListener("keydown", ignoreRepeat, true);
    document.addEventListener("keyup", release, true);
    window.setTimeout(move, 300);
    // A screen reader's click is followed by no key release.
    window.setTimeout(release, 10000);
  }
})();
