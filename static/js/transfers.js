import { API_BASE, ApiError, refreshSession } from "./api.js";
import { accessToken } from "./session.js";

// Files the server makes for a person to keep: a zip of originals, and photos
// re-encoded by the export endpoint. Both come back as downloads.

export const EXPORT_FORMATS = [
  { value: "jpeg", label: "JPEG" },
  { value: "webp", label: "WebP" },
  { value: "avif", label: "AVIF" },
  { value: "png", label: "PNG (lossless)" },
];

// TODO: the archive is gathered in memory before it is saved; for selections of
// many gigabytes, a streamed save (the form post the endpoint also accepts, or
// the File System Access API) would keep the browser's memory flat.
export async function downloadOriginals(assetIds) {
  const response = await send("POST", `${API_BASE}/assets/download`,
    { asset_ids: assetIds });
  await save(response, "lumilio-assets.zip");
}

// options: { format, quality, maxSide, keepMetadata }
export async function exportPhoto(asset, options) {
  const query = new URLSearchParams({ format: options.format });
  if (options.quality) query.set("quality", String(options.quality));
  if (options.maxSide) {
    query.set("max_width", String(options.maxSide));
    query.set("max_height", String(options.maxSide));
  }
  if (options.keepMetadata) query.set("keep_metadata", "true");
  const id = encodeURIComponent(asset.asset_id);
  const response = await send("GET", `${API_BASE}/assets/${id}/export?${query}`);
  await save(response, `export.${options.format}`);
}

async function send(method, url, body) {
  const attempt = () => fetch(url, {
    method,
    headers: {
      Authorization: `Bearer ${accessToken()}`,
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });

  let response;
  try {
    response = await attempt();
    if (response.status === 401 && (await refreshSession())) response = await attempt();
  } catch (failure) {
    throw new ApiError(0, { message: failure.message });
  }
  if (!response.ok) {
    const answer = await response.json().catch(() => null);
    throw new ApiError(response.status, answer);
  }
  return response;
}

async function save(response, fallbackName) {
  const name = filenameOf(response.headers.get("Content-Disposition"))
    ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), {
    href: url, download: name, hidden: true,
  });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken its copy once the click is handled.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function filenameOf(disposition) {
  if (!disposition) return null;
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (encoded) {
    try {
      return decodeURIComponent(encoded[1]);
    } catch {
      // A malformed escape: the plain name below is better than nothing.
    }
  }
  const plain = /filename="([^"]*)"/i.exec(disposition);
  return plain ? plain[1] : null;
}
