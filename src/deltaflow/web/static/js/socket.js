// The connection: one WebSocket per tab, JSON messages out, JSON replies and binary frames
// in. decodeFrame mirrors deltaflow/web/frames.py (encode_frame / decode_frame) exactly; its
// constants (magic, version, header size, flags, stats, metrics) are hello's `frame`.

/**
 * One quantised G×G map of a frame: q is the Uint8Array view of its G² cells in the frame's
 * buffer (row-major, row 0 the top; no copy), value = lo + q/255·(hi − lo). `values`
 * (Float32Array(G²)) is computed on first use and cached, so a painter that colours from `q`
 * through a 256-entry lookup table never pays for it.
 */
class QuantisedMap {
  constructor(q, G, lo, hi) {
    Object.assign(this, { w: G, h: G, q, lo, hi });
  }

  get values() {
    if (!this.cached) {
      const { q, lo } = this, span = (this.hi - lo) / 255, v = new Float32Array(q.length);
      for (let i = 0; i < q.length; i++) v[i] = lo + q[i] * span;
      Object.defineProperty(this, "cached", { value: v });
    }
    return this.cached;
  }
}

/**
 * A binary frame (ArrayBuffer, version 3) → {frameId, step, epoch, flags, alarm, alarmLayer, lr,
 * handled, shapes, lossPoints: Float32Array(2P) of (step, loss), metrics: {name: v}, layers: [{...stats,
 * nOut, nIn, W, b, gW, gb}], units: [Uint8Array(nOut)] per unit layer (bits: hello's
 * frame.unit_marks, saturated 1, dead 2), grid, nOutputs, maps: [QuantisedMap {w, h, q, lo, hi,
 * values}] | null, curves: [Float32Array] | null, predictions: Uint8Array | Uint16Array (predicted class of
 * each test example, in state.data.test order) | null, trainPredictions: the same for the training examples}.
 * Every section starts on a 4-byte boundary, so the sections are views, not copies.
 */
export function decodeFrame(buffer, constants) {
  const { header_bytes: HEADER_BYTES, flags: FLAGS, stats, metrics } = constants;
  if (buffer.byteLength < HEADER_BYTES) throw new Error(`frame is ${buffer.byteLength} bytes, shorter than its header`);
  const dv = new DataView(buffer);
  const magic = String.fromCharCode(dv.getUint8(0), dv.getUint8(1), dv.getUint8(2), dv.getUint8(3));
  const version = dv.getUint16(4, true);
  if (magic !== constants.magic || version !== constants.version) throw new Error(`not a deltaflow frame (magic ${magic}, version ${version})`);
  const P = dv.getUint32(28, true), L = dv.getUint16(32, true), S = dv.getUint16(34, true), N = dv.getUint16(36, true);
  const G = dv.getUint16(38, true), M = dv.getUint16(40, true), K = dv.getUint16(42, true);
  const f = {
    flags: dv.getUint16(6, true), frameId: dv.getUint32(8, true), step: dv.getUint32(12, true),
    epoch: dv.getUint32(16, true), alarm: dv.getUint16(20, true), alarmLayer: dv.getInt16(22, true),
    lr: dv.getFloat32(24, true), grid: G, nMaps: M, nOutputs: K, handled: dv.getUint32(44, true), maps: null, curves: null,
  };
  let pos = HEADER_BYTES;
  const take = (Type, count) => {
    if (pos + count * Type.BYTES_PER_ELEMENT > buffer.byteLength) throw new Error("frame is truncated");
    const a = new Type(buffer, pos, count);
    pos += count * Type.BYTES_PER_ELEMENT;
    return a;
  };
  const shapes = take(Uint32Array, 2 * L);
  f.shapes = Array.from({ length: L }, (_, l) => [shapes[2 * l], shapes[2 * l + 1]]);
  f.lossPoints = take(Float32Array, 2 * P);
  const m = take(Float32Array, N);
  f.metrics = Object.fromEntries(metrics.slice(0, N).map((name, i) => [name, m[i]]));
  const s = take(Float32Array, S * L); // stat-major: s[i·L + l]
  f.layers = f.shapes.map(([nOut, nIn], l) => {
    const layer = { nOut, nIn };
    stats.slice(0, S).forEach((name, i) => (layer[name] = s[i * L + l]));
    return layer;
  });
  for (const layer of f.layers) {
    layer.W = take(Float32Array, layer.nOut * layer.nIn);
    layer.b = take(Float32Array, layer.nOut);
    layer.gW = take(Float32Array, layer.nOut * layer.nIn);
    layer.gb = take(Float32Array, layer.nOut);
  }
  f.units = f.layers.map((layer) => take(Uint8Array, layer.nOut));
  pos += (4 - (pos % 4)) % 4;
  if (f.flags & FLAGS.MAPS) {
    const ranges = take(Float32Array, 2 * M);
    const q = take(Uint8Array, M * G * G);
    pos += (4 - (pos % 4)) % 4;
    f.maps = Array.from({ length: M }, (_, k) => new QuantisedMap(q.subarray(k * G * G, (k + 1) * G * G), G, ranges[2 * k], ranges[2 * k + 1]));
  } else if (f.flags & FLAGS.CURVES) {
    const c = take(Float32Array, M * G);
    f.curves = Array.from({ length: M }, (_, k) => c.subarray(k * G, (k + 1) * G));
  }
  f.predictions = f.trainPredictions = null;
  if (f.flags & FLAGS.PREDICTIONS) {
    const head = take(Uint32Array, 2), T = head[0], R = head[1];
    const B = dv.getUint16(pos, true);
    pos += 4; // B and a zero uint16
    if (B !== 1 && B !== 2) throw new Error(`predictions of ${B} bytes each`);
    const Type = B === 1 ? Uint8Array : Uint16Array; // the section starts 4-aligned: a uint16 view is aligned
    f.predictions = take(Type, T);
    f.trainPredictions = take(Type, R);
    pos += (4 - (pos % 4)) % 4;
  }
  if (pos !== buffer.byteLength) throw new Error(`frame has ${buffer.byteLength - pos} bytes after its last section`);
  return f;
}

/**
 * connect(handlers): handlers.onMessage(json), onFrame(frame), onStatus("open"|"closed"|…).
 * Returns {send(obj), ack(id), close()}. Reconnects after a drop (a new session), but not
 * when the server is full (its `full` message), closed the session as idle (hello's close
 * code: an abandoned tab must not hold a session for ever) or refused it (forbidden: a server
 * restarted with another access token; the close reason says so).
 */
export function connect(handlers) {
  let ws = null;
  let closedByUs = false;
  let refused = false; // the server said it is full: a new session would be refused as well
  let hello = null; // the frame constants and close codes of this session

  function open() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    handlers.onStatus("connecting");
    ws.addEventListener("open", () => handlers.onStatus("open"));
    ws.addEventListener("message", (e) => {
      if (typeof e.data === "string") {
        const msg = JSON.parse(e.data);
        if (msg.type === "hello") hello = msg;
        if (msg.type === "full") refused = true;
        handlers.onMessage(msg);
        return;
      }
      let frame;
      try {
        frame = decodeFrame(e.data, hello.frame);
      } catch (err) {
        handlers.onMessage({ type: "error", message: `could not read a frame: ${err.message}` });
        return;
      }
      handlers.onFrame(frame);
    });
    ws.addEventListener("close", (e) => {
      handlers.onStatus("closed", e);
      const final = hello && (e.code === hello.close_codes.idle || e.code === hello.close_codes.forbidden);
      if (!closedByUs && !refused && !final) setTimeout(open, 1500);
    });
  }

  open();
  return {
    send(obj) {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
    },
    ack(frameId) {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ack", frame: frameId }));
    },
    close() {
      closedByUs = true;
      ws && ws.close();
    },
  };
}
