// LKS list: the kelurahan choice follows the chosen kecamatan.
(function () {
  var kec = document.getElementById("f-kec");
  var kel = document.getElementById("f-kel");
  if (!kec || !kel) return;
  function sync() {
    var chosen = kec.value;
    Array.prototype.forEach.call(kel.options, function (opt) {
      var parent = opt.getAttribute("data-parent");
      var show = !parent || !chosen || parent === chosen;
      opt.hidden = !show;
      opt.disabled = !show;
      if (!show && opt.selected) kel.value = "";
    });
  }
  kec.addEventListener("change", sync);
  sync();
})();
