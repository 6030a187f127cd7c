// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    // A failed submit moves focus to the error summary (GDS error-summary).
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();

    // Error-summary links focus the field, not just scroll to it.
    document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (target) {
          event.preventDefault();
          target.scrollIntoView({ block: "center" });
          target.focus();
        }
      });
    });

    // Show/hide password (GDS password-input); the button stays hidden without JS.
    document.querySelectorAll("[data-password-toggle]").forEach(function (button) {
      var input = document.getElementById(button.dataset.passwordToggle);
      var status = document.querySelector("[data-password-status='" + button.dataset.passwordToggle + "']");
      button.hidden = false;
      button.addEventListener("click", function () {
        var show = input.type === "password";
        input.type = show ? "text" : "password";
        button.firstChild.nodeValue = show ? "Hide" : "Show";
        if (status) status.textContent = show ? "Your password is visible" : "Your password is hidden";
      });
      input.form && input.form.addEventListener("submit", function () { input.type = "password"; });
    });

    // A second click on a submit button is ignored.
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.submitted) { event.preventDefault(); return; }
        form.dataset.submitted = "1";
      });
    });

    // Branding: preview the colour as it is typed.
    var colourInput = document.getElementById("id_brand_colour");
    var preview = document.querySelector("[data-colour-preview]");
    if (colourInput && preview) {
      var update = function () {
        if (/^#[0-9a-fA-F]{6}$/.test(colourInput.value.trim())) {
          preview.style.setProperty("--preview", colourInput.value.trim());
        }
      };
      colourInput.addEventListener("input", update);
      update();
    }
  });
})();

// People lists: side panel, dialogs, row selection, conditional fields, printing.
(function () {
  "use strict";
  var opener = null;

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-panel-opener]");
    if (link) opener = link;
    var close = event.target.closest("[data-panel-close]");
    if (close) closePanel();
    var dialogLink = event.target.closest("[data-dialog-open]");
    if (dialogLink) {
      var dialog = document.getElementById(dialogLink.dataset.dialogOpen);
      if (dialog && dialog.showModal) {
        event.preventDefault();
        dialog.returnFocusTo = dialogLink;
        dialog.showModal();
      }
    }
    var dialogClose = event.target.closest("[data-dialog-close]");
    if (dialogClose) dialogClose.closest("dialog").close();
    if (event.target.closest("[data-print]")) window.print();
  });

  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (dialog.tagName === "DIALOG" && dialog.returnFocusTo && document.contains(dialog.returnFocusTo)) {
      dialog.returnFocusTo.focus();
    }
  }, true);

  function closePanel() {
    var panel = document.getElementById("person-panel");
    if (!panel) return;
    panel.hidden = true;
    panel.innerHTML = "";
    if (opener && document.contains(opener)) opener.focus();
  }

  document.addEventListener("keydown", function (event) {
    var panel = document.getElementById("person-panel");
    if (event.key === "Escape" && panel && !panel.hidden && !document.querySelector("dialog[open]")) {
      closePanel();
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "person-panel") {
      var panel = event.detail.target;
      panel.hidden = false;
      var heading = panel.querySelector("#panel-heading");
      if (heading) heading.focus();
    }
  });

  function updateSelection(form) {
    var boxes = form.querySelectorAll("[data-select-row]");
    var ticked = form.querySelectorAll("[data-select-row]:checked").length;
    var allMatching = form.querySelector("[data-all-matching]");
    var count = form.querySelector("[data-selection-count]");
    var selectAll = form.querySelector("[data-select-all-matching]");
    if (allMatching.value === "1" && ticked !== boxes.length) allMatching.value = "0";
    if (count) {
      count.textContent = allMatching.value === "1"
        ? "All " + selectAll.dataset.total + " matching selected"
        : ticked + " selected";
    }
    if (selectAll) selectAll.hidden = !(ticked === boxes.length && boxes.length > 0) || allMatching.value === "1";
    var page = form.querySelector("[data-select-page]");
    if (page) page.checked = ticked === boxes.length && boxes.length > 0;
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("#selection-form");
    if (form && event.target.matches("[data-select-page]")) {
      form.querySelectorAll("[data-select-row]").forEach(function (box) { box.checked = event.target.checked; });
    }
    if (form) updateSelection(form);
    var radio = event.target.closest("input[type=radio]");
    if (radio) revealConditionals();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-select-all-matching]");
    if (!button) return;
    var form = button.closest("form");
    form.querySelector("[data-all-matching]").value = "1";
    updateSelection(form);
  });

  function revealConditionals() {
    document.querySelectorAll("[data-show-when]").forEach(function (block) {
      var parts = block.dataset.showWhen.split("=");
      var chosen = document.querySelector("input[name='" + parts[0] + "']:checked");
      block.hidden = !(chosen && chosen.value === parts[1]);
    });
  }

  document.addEventListener("DOMContentLoaded", revealConditionals);

  // A checkbox that must be ticked before a button works (imports: skip rows with errors).
  // Without JavaScript the button stays enabled and the server asks for the tick.
  function syncEnables() {
    document.querySelectorAll("[data-enables]").forEach(function (box) {
      var button = document.getElementById(box.dataset.enables);
      if (button) button.disabled = !box.checked;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.closest("[data-enables]")) syncEnables();
  });
  document.addEventListener("DOMContentLoaded", syncEnables);
  document.addEventListener("htmx:afterSettle", syncEnables);
})();
