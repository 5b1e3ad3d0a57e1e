// Sorting the steps table by a column, and opening or closing every tree at once. The
// page reads the same without it: the bars are SVG and the trees are details elements.
document.querySelectorAll("th[data-sort]").forEach(function (th) {
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0], key = th.dataset.sort;
    var down = th.dataset.dir !== "down";
    th.dataset.dir = down ? "down" : "up";
    Array.from(body.rows)
      .sort(function (a, b) { var d = Number(a.dataset[key]) - Number(b.dataset[key]); return down ? -d : d; })
      .forEach(function (row) { body.appendChild(row); });
  });
});
document.querySelectorAll("button[data-open]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = button.dataset.open === "1";
    document.querySelectorAll(button.dataset.target + " details").forEach(function (d) { d.open = open; });
  });
});
