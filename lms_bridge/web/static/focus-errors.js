/* After a refused form, move focus to the list of problems so it is read out first. */
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
}());
