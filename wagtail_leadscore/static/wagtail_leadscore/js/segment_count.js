/* The segment editor's live member count: the form as it is now goes to the count view
   (nothing is saved), at most once per pause in typing. */
(function () {
  "use strict";
  function start(panel) {
    var form = panel.closest("form");
    var text = panel.querySelector("[data-leadscore-member-count-text]");
    var timer = null;
    var sent = 0;
    function count() {
      var number = ++sent;
      fetch(panel.dataset.url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (number !== sent) return; // an older answer
          text.textContent = data.error || panel.dataset.message
            .replace("{contacts}", data.contacts).replace("{visitors}", data.visitors);
        })
        .catch(function () { text.textContent = panel.dataset.unavailable; });
    }
    function later() {
      clearTimeout(timer);
      timer = setTimeout(count, 600);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    count();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-leadscore-member-count]").forEach(start);
  });
})();
