// A drawn digit as the digits data set's 64 inputs: the pen paints a 32×32 binary bitmap,
// counted in 4×4 blocks (0–16 on pixels each) as the set itself was made. Pure functions,
// no DOM: deltaflow/data/digit_image.py computes the same numbers (a test checks they agree).

export const BITMAP = 32; // pixels per side
export const BLOCK = 4; // pixels per side of a block
export const SIDE = BITMAP / BLOCK; // 8 blocks per side
export const BRUSH = 2.8; // the pen's radius in pixels: strokes 5–6 px wide, as thick as the set's (a thinner pen reads 1 as 4)

/** An empty bitmap: Uint8Array(32·32), pixel (row r, column c) at r·32 + c, row 0 the top. */
export function newBitmap() {
  return new Uint8Array(BITMAP * BITMAP);
}

/** Switch on every pixel whose centre (c + ½, r + ½) lies within `radius` of (x, y) (pixel units). */
export function stamp(bitmap, x, y, radius = BRUSH) {
  const r0 = Math.max(0, Math.floor(y - radius)), r1 = Math.min(BITMAP - 1, Math.ceil(y + radius));
  const c0 = Math.max(0, Math.floor(x - radius)), c1 = Math.min(BITMAP - 1, Math.ceil(x + radius));
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      const dx = c + 0.5 - x, dy = r + 0.5 - y;
      if (dx * dx + dy * dy <= radius * radius) bitmap[r * BITMAP + c] = 1;
    }
  }
}

/** The pen moved from (x0, y0) to (x1, y1): stamps at most ¼ px apart along the segment, so no gap opens. */
export function stroke(bitmap, x0, y0, x1, y1, radius = BRUSH) {
  const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) * 4));
  for (let k = 0; k <= n; k++) stamp(bitmap, x0 + ((x1 - x0) * k) / n, y0 + ((y1 - y0) * k) / n, radius);
}

/**
 * The 64 inputs: x[8·r + c] = Σ of the 4×4 block (r, c)'s pixels, r, c = 0 … 7, each 0 … 16
 * (digit_image.downsample). bitmap: 1024 values 0 or 1, row-major. Returns an Array of 64 numbers.
 */
export function downsample(bitmap) {
  if (bitmap.length !== BITMAP * BITMAP) throw new Error(`downsample: expected ${BITMAP * BITMAP} pixels, got ${bitmap.length}`);
  const x = new Array(SIDE * SIDE).fill(0);
  for (let r = 0; r < BITMAP; r++) {
    for (let c = 0; c < BITMAP; c++) {
      if (bitmap[r * BITMAP + c]) x[Math.floor(r / BLOCK) * SIDE + Math.floor(c / BLOCK)] += 1;
    }
  }
  return x;
}

/** Whether anything is drawn. */
export function isEmpty(bitmap) {
  return !bitmap.some((v) => v);
}
