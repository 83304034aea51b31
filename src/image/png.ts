const SIGNATURE_BYTES = 8;

/**
 * True when a PNG's chunk list runs past the end of the bytes or stops before IEND. libpng only says
 * "read error" for a cut file, so the structure is checked here to tell truncation from corruption.
 */
export function isTruncatedPng(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = SIGNATURE_BYTES;
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    const next = at + 12 + length; // length, type, data, crc
    if (next > bytes.length) return true;
    if (type === 'IEND') return false;
    at = next;
  }
  return true;
}
