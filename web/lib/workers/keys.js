// The key worker: the kluis-crypto crate as WebAssembly, off the main
// thread. Argon2id (64 MiB, three passes: a few hundred milliseconds) runs
// here so the page stays responsive, and the secrets stay here: the
// password keys and content keys live in WebAssembly memory and leave only
// as what the page must send or hand to WebCrypto (the auth key, a file
// key's raw bytes, a wrapped key).
import init, {
  derivePasswordKeys, ContentKey, generateSalt, newFileId, chunkAad, ciphertextLength,
  chunkSize, sealedChunkSize, headerLength, plaintextLength, generatePassword, normalizePassword,
  defaultKdf,
} from '../../pkg/kluis_crypto_wasm.js';
import { serve } from '../rpc.js';
import { encode, decode } from '../b64.js';

const ready = init();

/** Per transfer: its password keys, content key and the password to reuse. */
const transfers = new Map();

function held(transfer) {
  const entry = transfers.get(transfer);
  if (!entry) throw Object.assign(new Error('no keys for this transfer'), { code: 'no_keys' });
  return entry;
}

function forget(transfer) {
  const entry = transfers.get(transfer);
  entry?.keys?.free();
  entry?.content?.free();
  transfers.delete(transfer);
}

serve({
  /** The format's sizes (docs/format.md, "File object"), from the crate. */
  async layout() {
    await ready;
    return { chunk: chunkSize(), sealedChunk: sealedChunkSize(), header: headerLength() };
  },

  /** The plaintext sizes of file objects of the given sizes (null for an impossible size). */
  async plaintextLengths({ sizes }) {
    await ready;
    return sizes.map((n) => {
      try {
        return plaintextLength(n);
      } catch {
        return null;
      }
    });
  },

  /** Argon2id + HKDF for `transfer`: the auth key to present. */
  async derive({ password, salt, kdf, transfer }) {
    await ready;
    const keys = derivePasswordKeys(password, decode(salt), kdf.m_kib, kdf.t, kdf.p, transfer);
    forget(transfer);
    transfers.set(transfer, { keys, password });
    return { authKey: encode(keys.authKey()) };
  },

  /** Unwraps the content key (`wrong_password` if it does not) and opens the manifest. */
  async unlock({ transfer, wrappedKey, manifest }) {
    const entry = held(transfer);
    const old = entry.content;
    entry.content = undefined;
    old?.free();
    entry.content = entry.keys.unwrap(decode(wrappedKey));
    return { manifest: JSON.parse(entry.content.openManifest(decode(manifest), transfer)) };
  },

  /**
   * What the chunk workers need to open one file object, from its header
   * (checked here by the crate: magic, version, kind, length).
   */
  async openFile({ transfer, file, header }) {
    const { content } = held(transfer);
    content.opener(transfer, file, header).free();
    return {
      raw: content.fileKey(transfer, file),
      prefix: header.slice(7, 14),
      aad: chunkAad(header, transfer, file),
    };
  },

  /**
   * A new transfer of ours: a fresh content key, kept here. The send wizard
   * gives no password yet: files are sealed under the content key alone, and
   * the password only wraps it when the transfer is sealed. Asked again for
   * the same transfer (a retry), the transfer keeps its content key: what
   * was uploaded under it stays valid.
   */
  async newTransfer({ transfer, password }) {
    await ready;
    if (!transfers.has(transfer)) transfers.set(transfer, { content: ContentKey.generate(), password });
    return {};
  },

  /** A new generated password (the crate's: seven groups of three). */
  async generatePassword() {
    await ready;
    return { password: generatePassword() };
  },

  /**
   * What the own-password rule judges: the length, in characters, of the
   * form that enters Argon2id (the format's normalization).
   */
  async measurePassword({ password }) {
    await ready;
    const normalized = normalizePassword(password);
    return { length: [...normalized].length };
  },

  /** The format's default Argon2id parameters, as the API writes them. */
  async defaultKdf() {
    await ready;
    const [m_kib, t, p] = defaultKdf();
    return { m_kib, t, p };
  },

  /**
   * The password of an unlocked transfer, reused for its reply. Asked
   * again for the same reply (a retry), the reply keeps its content key:
   * what was uploaded under it stays valid.
   */
  async reusePassword({ from, transfer }) {
    await ready;
    const { password } = held(from);
    if (!transfers.has(transfer)) transfers.set(transfer, { content: ContentKey.generate(), password });
    return {};
  },

  /** A new file of our transfer: its id, header and what the chunk workers need. */
  async sealFile({ transfer, size }) {
    const { content } = held(transfer);
    const file = newFileId();
    const sealer = content.sealer(transfer, file);
    const header = sealer.header();
    const prefix = sealer.noncePrefix();
    sealer.free();
    return {
      file,
      header,
      prefix,
      raw: content.fileKey(transfer, file),
      aad: chunkAad(header, transfer, file),
      objectBytes: ciphertextLength(size),
    };
  },

  /**
   * Seals the manifest and wraps the content key under the password (the
   * one given here, else the one the transfer was made with) with a fresh
   * salt at `kdf`: the `PUT …/key` body.
   */
  async seal({ transfer, manifest, kdf, password }) {
    const entry = held(transfer);
    const secret = password ?? entry.password;
    if (!secret) throw Object.assign(new Error('no password for this transfer'), { code: 'no_password' });
    const salt = generateSalt();
    const keys = derivePasswordKeys(secret, salt, kdf.m_kib, kdf.t, kdf.p, transfer);
    try {
      return {
        wrapped_key: encode(keys.wrap(entry.content)),
        salt: encode(salt),
        kdf,
        auth_hash: encode(keys.authHash()),
        manifest: encode(entry.content.sealManifest(JSON.stringify(manifest), transfer)),
      };
    } finally {
      keys.free();
    }
  },

  async forget({ transfer }) {
    forget(transfer);
    return {};
  },
});
