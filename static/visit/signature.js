// A signature drawn with a finger or stylus on a canvas; kept as a PNG data
// URL in the draft (`onChange` gets it after every stroke, "" when cleared).

export function signaturePad(canvas, { value, onChange }) {
  const ctx = canvas.getContext("2d");
  let drawing = false;
  let locked = false;
  ctx.lineWidth = 2.5;
  ctx.lineCap = "round";
  ctx.strokeStyle = "#1b1f24";

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) * canvas.width) / box.width, ((event.clientY - box.top) * canvas.height) / box.height];
  }

  function show(dataUrl) {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!dataUrl) return;
    const image = new Image();
    image.onload = () => ctx.drawImage(image, 0, 0);
    image.src = dataUrl;
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (locked) return;
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    ctx.beginPath();
    ctx.moveTo(...point(event));
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    ctx.lineTo(...point(event));
    ctx.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    onChange(canvas.toDataURL("image/png"));
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  show(value);
  return {
    clear() {
      show("");
      onChange("");
    },
    show,
    lock(value) {
      locked = value;
    },
  };
}
