// Draws every chart of the page from the JSON element beside it. plotly.min.js, loaded
// from assets/ before this file, is the only other script: nothing is fetched.
(function () {
  "use strict";
  var config = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d"]
  };
  var nodes = document.querySelectorAll("script.figure[type='application/json']");
  Array.prototype.forEach.call(nodes, function (node) {
    var target = document.getElementById(node.getAttribute("data-target"));
    var figure = JSON.parse(node.textContent);
    Plotly.newPlot(target, figure.data, figure.layout, config).then(function () {
      target.setAttribute("data-drawn", "true");
    });
  });
})();
