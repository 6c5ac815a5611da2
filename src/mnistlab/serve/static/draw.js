// The draw page: a canvas (mouse, pen and touch through pointer events), class probabilities
// updated while drawing, the 28x28 image the model sees, a run selector, clear and upload.
// At most one request is in flight; strokes made meanwhile are sent when it returns, so the
// bars follow the pen without queueing stale images. <body data-state> is "idle" once the bars
// show the current drawing (the browser test waits for it).
(function () {
  "use strict";
  var pad = document.getElementById("pad");
  if (!pad) return;
  var ctx = pad.getContext("2d");
  var seen = document.getElementById("seen").getContext("2d");
  var runSelect = document.getElementById("run");
  var bars = document.getElementById("bars");
  var top = document.getElementById("top");
  var message = document.getElementById("message");
  var state = { inFlight: false, dirty: false, drawing: false, inked: false, upload: null, last: null };

  function reset() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, pad.width, pad.height);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 18;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    state.inked = false;
  }

  function setState() {
    document.body.setAttribute("data-state", state.inFlight || state.dirty ? "busy" : "idle");
  }

  function point(ev) {
    var r = pad.getBoundingClientRect();
    return [(ev.clientX - r.left) * pad.width / r.width, (ev.clientY - r.top) * pad.height / r.height];
  }

  pad.addEventListener("pointerdown", function (ev) {
    ev.preventDefault();
    pad.setPointerCapture(ev.pointerId);
    state.drawing = true;
    state.upload = null;
    var p = point(ev);
    ctx.beginPath();
    ctx.moveTo(p[0], p[1]);
    ctx.lineTo(p[0] + 0.01, p[1]);  // a dot for a click without a move
    ctx.stroke();
    state.inked = true;
    changed();
  });
  pad.addEventListener("pointermove", function (ev) {
    if (!state.drawing) return;
    var p = point(ev);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    changed();
  });
  function stop() {
    if (!state.drawing) return;
    state.drawing = false;
    changed();
  }
  pad.addEventListener("pointerup", stop);
  pad.addEventListener("pointercancel", stop);

  function changed() {
    state.dirty = true;
    setState();
    if (!state.inFlight) send();
  }

  function send() {
    var image = state.upload || (state.inked ? pad.toDataURL("image/png") : null);
    state.dirty = false;
    if (!image) { setState(); return; }
    state.inFlight = true;
    setState();
    var body = JSON.stringify({ run: runSelect.value, image: image, invert: "auto" });
    var t0 = performance.now();
    fetch("/api/predict", { method: "POST", headers: { "Content-Type": "application/json" }, body: body })
      .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (res) {
        if (res[0]) { show(res[1], performance.now() - t0); state.last = image; }
        else { message.textContent = res[1].error || "the server refused the image"; }
      })
      .catch(function (err) { message.textContent = "no answer from the server: " + err; })
      .then(function () {
        state.inFlight = false;
        if (state.dirty) send(); else setState();
      });
  }

  function show(res, ms) {
    bars.innerHTML = "";
    res.class_names.forEach(function (name, i) {
      var p = res.probabilities[i];
      var row = document.createElement("div");
      row.className = "barrow" + (i === res.class_index ? " best" : "");
      row.setAttribute("data-class", name);
      row.setAttribute("data-p", String(p));
      var label = document.createElement("span");
      label.textContent = name;
      var track = document.createElement("span");
      track.className = "track";
      var fill = document.createElement("span");
      fill.className = "fill";
      fill.style.display = "block";
      fill.style.width = (100 * p).toFixed(1) + "%";
      track.appendChild(fill);
      var pct = document.createElement("span");
      pct.className = "pct";
      pct.textContent = (100 * p).toFixed(1) + "%";
      row.appendChild(label); row.appendChild(track); row.appendChild(pct);
      bars.appendChild(row);
    });
    top.textContent = res.prediction;
    top.setAttribute("data-class-index", String(res.class_index));
    var img = seen.createImageData(28, 28);
    for (var r = 0; r < 28; r++) {
      for (var c = 0; c < 28; c++) {
        var v = res.input[r][c], k = 4 * (28 * r + c);
        img.data[k] = img.data[k + 1] = img.data[k + 2] = v;
        img.data[k + 3] = 255;
      }
    }
    seen.putImageData(img, 0, 0);
    message.textContent = (res.inverted ? "inverted (dark ink on a light background); " : "") +
      "answered in " + ms.toFixed(0) + " ms (model " + res.server_ms.toFixed(1) + " ms)";
  }

  document.getElementById("clear").addEventListener("click", function () {
    reset();
    state.upload = null;
    bars.innerHTML = "";
    top.innerHTML = "&nbsp;";
    message.textContent = "";
    seen.clearRect(0, 0, 28, 28);
    setState();
  });

  document.getElementById("upload").addEventListener("change", function (ev) {
    var file = ev.target.files[0];
    if (!file) return;
    var reader = new FileReader();
    reader.onload = function () {
      reset();
      state.upload = reader.result;
      message.textContent = "uploaded " + file.name;
      changed();
    };
    reader.readAsDataURL(file);
  });

  runSelect.addEventListener("change", function () {
    var u = new URL(window.location.href);
    u.searchParams.set("run", runSelect.value);
    window.history.replaceState(null, "", u.toString());
    if (state.inked || state.upload) changed();
  });

  reset();
  setState();
})();
