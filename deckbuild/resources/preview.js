// Filters, search, night mode and phone width for the preview page. Cards never run this script.
(function () {
  "use strict";
  var cards = Array.prototype.slice.call(document.querySelectorAll(".preview-card"));
  var search = document.getElementById("search");
  var topic = document.getElementById("topic");
  var difficulty = document.getElementById("difficulty");
  var shown = document.getElementById("shown");
  var lintOnly = document.getElementById("lint-only");
  function apply() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0;
    cards.forEach(function (card) {
      var visible = (!topic.value || card.dataset.topic === topic.value) &&
        (!difficulty.value || card.dataset.difficulty === difficulty.value) &&
        (!lintOnly.checked || card.dataset.lint !== "0") &&
        words.every(function (word) { return card.dataset.text.indexOf(word) !== -1; });
      card.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = count + (count === 1 ? " card" : " cards");
  }
  [search, topic, difficulty].forEach(function (control) { control.addEventListener("input", apply); });
  lintOnly.addEventListener("change", apply);
  document.getElementById("dark").addEventListener("change", function (event) {
    document.body.classList.toggle("nightMode", event.target.checked);
    document.body.classList.toggle("night_mode", event.target.checked);
  });
  document.getElementById("phone").addEventListener("change", function (event) {
    document.body.classList.toggle("phone", event.target.checked);
  });
}());
