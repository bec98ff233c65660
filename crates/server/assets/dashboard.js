// bulwark dashboard: progressive enhancement only; every page works without it.
// - a "select all" box above each findings table that has row checkboxes;
// - the triage button says how many findings are selected.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.triage-form").forEach(function (form) {
    var boxes = form.querySelectorAll("input[type=checkbox][name=finding]");
    var button = form.querySelector("fieldset.triage button[type=submit]");
    if (boxes.length === 0 || !button) {
      return;
    }
    var label = document.createElement("label");
    label.className = "select-all";
    var all = document.createElement("input");
    all.type = "checkbox";
    label.appendChild(all);
    label.appendChild(document.createTextNode(" Select all " + boxes.length + " findings"));
    form.insertBefore(label, form.firstChild);
    function update() {
      var n = form.querySelectorAll("input[type=checkbox][name=finding]:checked").length;
      button.textContent = n ? "Apply to " + n + " selected" : "Apply";
    }
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    update();
  });
});
