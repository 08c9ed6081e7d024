// Geohash cells as latitude/longitude boxes: the server clusters photos by geohash,
// and a place's photos are the ones inside its cells.
const ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz";

export function geohashBounds(hash) {
  let south = -90, north = 90, west = -180, east = 180;
  let onLongitude = true;
  for (const char of hash) {
    const value = ALPHABET.indexOf(char);
    if (value < 0) throw new Error(`not a geohash: ${hash}`);
    for (let bit = 4; bit >= 0; bit -= 1) {
      const set = (value >> bit) & 1;
      if (onLongitude) {
        const middle = (west + east) / 2;
        if (set) west = middle; else east = middle;
      } else {
        const middle = (south + north) / 2;
        if (set) south = middle; else north = middle;
      }
      onLongitude = !onLongitude;
    }
  }
  return { south, north, west, east };
}

// The smallest box holding every cell.
export function unionBounds(hashes) {
  const boxes = hashes.map(geohashBounds);
  return {
    south: Math.min(...boxes.map((b) => b.south)),
    north: Math.max(...boxes.map((b) => b.north)),
    west: Math.min(...boxes.map((b) => b.west)),
    east: Math.max(...boxes.map((b) => b.east)),
  };
}
