// Photos are downscaled on the device before they are kept: drawn on a
// canvas (the longest side at most 1600 px) and encoded again as JPEG, so
// the new file carries no EXIF or other metadata. Time and position are kept
// as fields. A wrong type, an empty file or one still too large is refused
// here with the server's own (translated) message.

const LONGEST_SIDE = 1600;
const QUALITY = 0.8;
const TYPES = new Set(["image/jpeg", "image/png", "image/webp"]);

export class PhotoRefused extends Error {}

function canvasBlob(canvas) {
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
}

export async function downscale(file, { maxBytes, texts }) {
  if (!TYPES.has(file.type)) throw new PhotoRefused(texts.photo_type);
  if (file.size === 0) throw new PhotoRefused(texts.photo_empty);
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (error) {
    throw new PhotoRefused(texts.photo_type); // not a readable image
  }
  const scale = Math.min(1, LONGEST_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await canvasBlob(canvas);
  if (!blob || blob.size === 0) throw new PhotoRefused(texts.photo_empty);
  if (blob.size > maxBytes) throw new PhotoRefused(texts.photo_large);
  return { blob, width: canvas.width, height: canvas.height };
}
