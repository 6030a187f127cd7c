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
