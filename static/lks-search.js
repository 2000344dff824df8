// LKS search with suggestions: any element with data-lks-search="<JSON
// endpoint>" holding a search input and a .suggestions list. Each match
// either links to data-pick-href + id (the report form), or, with
// data-pick-input="<id of a hidden input>", sets that input to the id and
// the search field to the name (the admin's user form). Without script the
// server lists the matches itself.
(function () {
  function debounce(fn, ms) {
    var t;
    return function () { clearTimeout(t); t = setTimeout(fn, ms); };
  }
  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-lks-search]"), function (box) {
    var input = box.querySelector("input[type=search]");
    var list = box.querySelector(".suggestions");
    var endpoint = box.getAttribute("data-lks-search");
    var href = box.getAttribute("data-pick-href");
    var target = box.getAttribute("data-pick-input") && document.getElementById(box.getAttribute("data-pick-input"));
    var chosen = box.querySelector(".chosen");
    var empty = box.getAttribute("data-empty") || "";
    if (!input || !list || !endpoint) return;
    var seq = 0;
    function render(items) {
      list.textContent = "";
      if (!items.length) { list.appendChild(text("li", empty, "muted")); return; }
      items.forEach(function (item) {
        var li = document.createElement("li");
        var pick;
        if (href) {
          pick = text("a", item.name);
          pick.href = href + item.id;
        } else {
          pick = text("button", item.name, "button link-button");
          pick.type = "button";
          pick.addEventListener("click", function () {
            if (target) target.value = item.id;
            input.value = item.name;
            if (chosen) chosen.textContent = chosen.getAttribute("data-label") + " " + item.name;
            list.textContent = "";
          });
        }
        li.appendChild(pick);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(text("span", [item.kelurahan_name, item.address].filter(Boolean).join(" · "), "muted small"));
        list.appendChild(li);
      });
    }
    input.addEventListener("input", debounce(function () {
      var q = input.value.trim();
      if (target) target.value = "";
      if (chosen) chosen.textContent = "";
      if (q.length < 2) { list.textContent = ""; return; }
      var mine = ++seq;
      fetch(endpoint + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) { if (mine === seq) render(data.items || []); })
        .catch(function () {});
    }, 250));
  });
})();
