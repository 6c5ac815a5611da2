// The runs page: sort by a column (click its header; again to reverse), tick runs to compare.
(function () {
  "use strict";
  var table = document.getElementById("runs");
  if (!table) return;
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;

  function key(row, col) {
    var v = row.cells[col].getAttribute("data-sort") || "";
    var n = Number(v);
    return v !== "" && !isNaN(n) ? n : v;
  }

  Array.prototype.forEach.call(heads, function (th, col) {
    if (!th.classList.contains("sortable")) return;
    th.addEventListener("click", function () {
      var asc = !th.classList.contains("asc");
      Array.prototype.forEach.call(heads, function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(asc ? "asc" : "desc");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a, col), y = key(b, col);
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });

  var button = document.getElementById("compare");
  var picked = document.getElementById("picked");
  function chosen() {
    return Array.prototype.slice.call(table.querySelectorAll("input.pick:checked")).map(function (c) { return c.value; });
  }
  table.addEventListener("change", function () {
    var ids = chosen();
    button.disabled = ids.length < 2;
    picked.textContent = ids.length ? ids.length + " picked" + (ids.length < 2 ? ": pick one more" : "") : "";
  });
  button.addEventListener("click", function () {
    var q = chosen().map(function (id) { return "run=" + encodeURIComponent(id); }).join("&");
    window.location.href = "/compare?" + q;
  });
})();
