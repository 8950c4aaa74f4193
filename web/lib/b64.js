// Unpadded base64url (RFC 4648 §5), the API's encoding of every id and
// binary value (docs/api.yaml).

/** Bytes → unpadded base64url text. */
export function encode(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Unpadded base64url text → bytes; throws on anything else. */
export function decode(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new TypeError('not unpadded base64url');
  }
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A fresh random 16-byte id (request ids, idempotency keys). */
export function randomId() {
  return encode(crypto.getRandomValues(new Uint8Array(16)));
}
