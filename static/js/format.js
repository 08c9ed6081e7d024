// Human wording for the numbers and codes an asset carries.

import { parseInstant } from "./captime.js";

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1000) return `${bytes} B`;

  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "";

  const total = Math.round(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = String(total % 60).padStart(2, "0");
  if (hours) return `${hours}:${String(minutes).padStart(2, "0")}:${rest}`;
  return `${minutes}:${rest}`;
}

export function formatCamera(meta) {
  const make = (meta?.camera_make ?? "").trim();
  const model = (meta?.camera_model ?? "").trim();
  if (!make) return model;
  if (!model) return make;

  // Most models repeat the make ("Canon" + "Canon EOS 40D", "NIKON CORPORATION" +
  // "NIKON D5300"); printing both would stutter.
  const brand = make.split(/\s+/)[0].toLowerCase();
  if (model.toLowerCase().startsWith(brand)) return model;
  return `${make} ${model}`;
}

function formatShutter(value) {
  if (value === undefined || value === null || value === "") return "";

  const text = String(value).trim().replace(/\s*s(ec)?$/i, "");
  const seconds = Number(text);
  if (!Number.isFinite(seconds)) return `${text} s`;
  if (seconds > 0 && seconds < 0.5) return `1/${Math.round(1 / seconds)} s`;
  return `${Number(seconds.toFixed(1))} s`;
}

export function formatExposure(meta) {
  if (!meta) return "";

  const aperture = Number(meta.f_number);
  const focal = Number(meta.focal_length);
  const parts = [];
  if (meta.exposure_time) parts.push(formatShutter(meta.exposure_time));
  if (aperture > 0) parts.push(`f/${Number(aperture.toFixed(1))}`);
  if (meta.iso_speed) parts.push(`ISO ${meta.iso_speed}`);
  if (focal > 0) parts.push(`${Number(focal.toFixed(1))} mm`);
  return parts.join(" · ");
}

export function hasPlace(meta) {
  const lat = meta?.gps_latitude;
  const lon = meta?.gps_longitude;
  return Number.isFinite(lat) && Number.isFinite(lon)
    && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
}

export function formatCoordinates(lat, lon) {
  const north = `${Math.abs(lat).toFixed(5)}° ${lat < 0 ? "S" : "N"}`;
  const east = `${Math.abs(lon).toFixed(5)}° ${lon < 0 ? "W" : "E"}`;
  return `${north}, ${east}`;
}

export function formatDimensions(width, height) {
  if (!width || !height) return "";

  const megapixels = (width * height) / 1e6;
  const size = `${width} × ${height}`;
  if (megapixels < 0.1) return size;
  return `${size} (${megapixels.toFixed(1)} MP)`;
}

const TYPE_NAMES = { PHOTO: "Photo", VIDEO: "Video", AUDIO: "Audio" };

export function formatType(asset) {
  const name = TYPE_NAMES[asset.type] ?? asset.type ?? "";
  return [name, asset.mime_type].filter(Boolean).join(" · ");
}

export function plural(count, word) {
  const number = count.toLocaleString("en");
  return `${number} ${word}${count === 1 ? "" : "s"}`;
}

// How long ago something happened, in the words a status line uses.
export function formatSince(timestamp) {
  const instant = parseInstant(timestamp);
  if (instant === null) return "";

  const seconds = Math.max(0, (Date.now() - instant) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${plural(Math.round(seconds / 60), "minute")} ago`;
  if (seconds < 86_400) return `${plural(Math.round(seconds / 3600), "hour")} ago`;
  return `on ${new Date(instant).toLocaleDateString("en", { dateStyle: "medium" })}`;
}
