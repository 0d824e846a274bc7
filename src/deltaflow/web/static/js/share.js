// Share and keep: the config in the URL's hash, as a downloaded JSON file, and the model.

/** {config, grid} read from location.hash ("#config=<JSON>&grid=50"), or null. */
export function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const text = params.get("config");
  if (!text) return null;
  try {
    const grid = params.has("grid") ? Number(params.get("grid")) : null;
    return { config: JSON.parse(text), grid: Number.isInteger(grid) ? grid : null };
  } catch {
    return null;
  }
}

export function writeHash(config, grid) {
  const params = new URLSearchParams({ config: JSON.stringify(config), grid: String(grid) });
  history.replaceState(null, "", `#${params}`);
}

export function download(name, blobOrUrl) {
  const href = typeof blobOrUrl === "string" ? blobOrUrl : URL.createObjectURL(blobOrUrl);
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  if (typeof blobOrUrl !== "string") setTimeout(() => URL.revokeObjectURL(href), 1000);
}

export function downloadConfig(config) {
  const name = `${config.name || config.data.name}.config.json`;
  download(name, new Blob([JSON.stringify(config, null, 2) + "\n"], { type: "application/json" }));
}

export function downloadModel(sessionId, config) {
  download(`${config.name || config.data.name}.model.npz`, `/api/session/${encodeURIComponent(sessionId)}/model.npz`);
}
