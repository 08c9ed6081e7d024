import { captureClock, formatCaptureTime } from "./captime.js";
import { h } from "./dom.js";
import {
  formatBytes, formatCamera, formatCoordinates, formatDimensions, formatDuration,
  formatExposure, formatType, hasPlace,
} from "./format.js";

const STATE_WORDS = {
  processing: "Still being processed",
  warning: "Processed with warnings",
  failed: "Processing failed",
};

// The facts of one asset as [field, label, value] rows; empty values are left out.
function metadataRows(asset) {
  const meta = asset.specific_metadata ?? {};
  const added = captureClock(asset)?.source === "uploaded";
  const timed = asset.type !== "PHOTO";
  const rows = [
    ["taken", added ? "Added" : "Taken", formatCaptureTime(asset)],
    ["camera", "Camera", formatCamera(meta)],
    ["lens", "Lens", (meta.lens_model ?? "").trim()],
    ["exposure", "Exposure", formatExposure(meta)],
    ["place", "Place", hasPlace(meta)
      ? formatCoordinates(meta.gps_latitude, meta.gps_longitude) : ""],
    ["file", "File", asset.original_filename],
    ["size", "Size", formatBytes(asset.file_size)],
    ["dimensions", "Dimensions", formatDimensions(asset.width, asset.height)],
    ["duration", "Duration", timed ? formatDuration(asset.duration) : ""],
    ["type", "Type", formatType(asset)],
    ["processing", "Processing", processingText(asset.processing)],
  ];
  return rows.filter(([, , value]) => value);
}

function processingText(processing) {
  if (!processing || processing.state === "complete") return "";

  const lines = [STATE_WORDS[processing.state] ?? processing.state];
  if (processing.message && processing.state !== "processing") {
    lines.push(processing.message);
  }
  for (const failure of processing.errors ?? []) {
    lines.push(`${failure.task}: ${failure.error}`);
  }
  return lines.join("\n");
}

export function metadataList(asset) {
  return h("dl", { class: "facts", "data-testid": "viewer-metadata" },
    metadataRows(asset).map(([field, label, value]) => h("div", {
      class: `fact fact-${field}`,
      "data-field": field,
    }, h("dt", { text: label }), h("dd", { text: value }))));
}
