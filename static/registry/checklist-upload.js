// The document checklist is the upload form: each missing or rejected item
// has its own form. Without this script it is a plain multipart post. With
// it, "Upload" opens the camera or the files, the size is checked on the
// device (the server's limit, from data-max-bytes) before anything is sent,
// the file goes up through XHR with a progress bar, and the item itself shows
// the result.
(function () {
  "use strict";

  function randomId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "up-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function setup(form) {
    var input = form.querySelector("input[type=file]");
    var button = form.querySelector(".upload-button");
    var bar = form.querySelector(".upload-progress");
    var status = form.querySelector(".upload-status");
    var item = form.closest(".check-item");
    var maxBytes = parseInt(form.dataset.maxBytes, 10) || 0;
    var busy = false;

    form.classList.add("js");  // hides the raw file input; the button opens it

    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("error-text", !!isError);
    }

    function uploaded(row) {
      item.className = "check-item state-pending";
      var badge = item.querySelector(".check-state .badge");
      if (badge) {
        badge.className = "badge badge-warn";
        badge.textContent = form.dataset.pendingLabel;
      }
      var file = item.querySelector(".check-file");
      if (file) {
        file.textContent = "";
        var link = document.createElement("a");
        link.href = "/documents/" + row.id + "/content";
        link.textContent = row.filename;
        file.appendChild(link);
        file.hidden = false;
      }
      var reason = item.querySelector(".reason");
      if (reason) reason.remove();
      var done = document.createElement("p");
      done.className = "upload-done small";
      done.setAttribute("role", "status");
      done.textContent = form.dataset.done;
      form.replaceWith(done);
    }

    function send(file) {
      if (maxBytes && file.size > maxBytes) {
        say(form.dataset.tooLarge, true);
        input.value = "";
        return;
      }
      busy = true;
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      say(form.dataset.sending, false);
      var data = new FormData(form);
      data.set("client_id", randomId());
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.api);
      xhr.setRequestHeader("X-CSRFToken", form.querySelector("input[name=_csrf_token]").value);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
      });
      function finish() {
        busy = false;
        button.disabled = false;
        bar.hidden = true;
        input.value = "";
      }
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        finish();
        if (xhr.status === 200 || xhr.status === 201) {
          uploaded(body);
        } else {
          say((body && body.message) || form.dataset.failed, true);
        }
      });
      xhr.addEventListener("error", function () { finish(); say(form.dataset.failed, true); });
      xhr.addEventListener("abort", function () { finish(); say(form.dataset.failed, true); });
      xhr.send(data);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return;
      if (input.files && input.files.length) send(input.files[0]);
      else input.click();
    });
    input.addEventListener("change", function () {
      if (!busy && input.files && input.files.length) send(input.files[0]);
    });
  }

  document.querySelectorAll("form.item-upload").forEach(setup);
})();
