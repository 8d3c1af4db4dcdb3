/**
 * Signed evidence (EVIDENCE_SIGNING_KEY_FILE): each record's hash is signed with an Ed25519 key, and
 * the record names the key (`signedBy`, inside what is hashed). A hash chain alone proves only that
 * records were not changed by someone who left the chain as it was: whoever can write the store can
 * re-seal a whole new chain. A signature can be made only with the private key, which the workers
 * hold and the store does not, and checked with the public key alone, which auditors may hold.
 *
 * Rotation: the key file is read again when it changes, so a new key signs from the next record on;
 * `verify` is given every public key of the period (`--public-key`, repeated).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { closeSync, fchmodSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';

/** What is signed: the record's hash behind a label, so no signature made here means anything elsewhere. */
const SIGNED_PREFIX = 'ccs-evidence-record-v1:';
/** A key file is a PEM of a few hundred bytes: anything larger is not one. */
const MAX_KEY_FILE_BYTES = 16 * 1024;

/** Signs record hashes with one key, named by `keyId`. */
export interface EvidenceSigner {
  /** The key that signs now (it may change when the key file is rotated). */
  keyId(): string;
  /** The signature (base64) of `hash` by the key `keyId()` named just before. */
  sign(hash: string, keyId: string): string;
}

/** The fields a signed record carries: `signedBy` inside the hash, `signature` beside it. */
export interface Signed {
  signedBy?: string;
  signature?: string;
}

/** A key's id: the first 16 hex digits of the SHA-256 of its public key (SPKI DER), the same for the private and public halves. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

function readKeyFile(file: string, what: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new Error(`${what} ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (size > MAX_KEY_FILE_BYTES) throw new Error(`${what} ${file} is ${size} bytes: not a PEM key file (at most ${MAX_KEY_FILE_BYTES})`);
  return readFileSync(file, 'utf8');
}

function ed25519(key: KeyObject, file: string, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(
      `${what} ${file} holds a ${key.asymmetricKeyType ?? 'symmetric'} key; evidence is signed with Ed25519 (make one with ccs-jobs evidence keygen)`,
    );
  return key;
}

/** The private key of a PEM file (PKCS#8, as keygen writes it). The error never quotes the file's text. */
export function loadPrivateKey(file: string, what = 'EVIDENCE_SIGNING_KEY_FILE'): KeyObject {
  const pem = readKeyFile(file, what);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error(`${what} ${file} is no PEM private key (make one with ccs-jobs evidence keygen --out FILE)`);
  }
  return ed25519(key, file, what);
}

/** A public key from a PEM file: a public key, or a private key whose public half is taken. */
export function loadPublicKey(file: string, what = '--public-key'): KeyObject {
  const pem = readKeyFile(file, what);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new Error(`${what} ${file} is no PEM public key (keygen writes it beside the private key, as <file>.pub)`);
  }
  return ed25519(key, file, what);
}

/** The verifying keys by id. */
export function publicKeysById(files: readonly string[]): Map<string, KeyObject> {
  return new Map(files.map((f) => loadPublicKey(f)).map((k) => [keyIdOf(k), k]));
}

/**
 * A signer reading its key from `file`, again whenever the file's size or modification time
 * changes: a rotated key signs from the next record on, without a worker restart. A file that cannot
 * be read after a rotation fails the append (the activity retries) rather than writing unsigned.
 */
export function fileSigner(file: string): EvidenceSigner {
  let loaded: { stamp: string; key: KeyObject; keyId: string } | undefined;
  const current = (): { key: KeyObject; keyId: string } => {
    const { size, mtimeMs, ino } = statSync(file);
    const stamp = `${ino}:${size}:${mtimeMs}`;
    if (loaded?.stamp !== stamp) {
      const key = loadPrivateKey(file);
      loaded = { stamp, key, keyId: keyIdOf(key) };
    }
    return loaded;
  };
  const keys = new Map<string, KeyObject>();
  return {
    keyId: () => {
      const { key, keyId } = current();
      keys.set(keyId, key);
      return keyId;
    },
    sign: (hash, keyId) => {
      const key = keys.get(keyId) ?? current().key;
      return sign(null, Buffer.from(SIGNED_PREFIX + hash, 'utf8'), key).toString('base64');
    },
  };
}

/** A signer over a key held in memory (tests, and the head publisher reusing the worker's key). */
export function keySigner(key: KeyObject): EvidenceSigner {
  const keyId = keyIdOf(key);
  return { keyId: () => keyId, sign: (hash) => sign(null, Buffer.from(SIGNED_PREFIX + hash, 'utf8'), key).toString('base64') };
}

/** Why a record's signature does not hold, or null when it does. */
export function signatureProblem(record: { hash: string } & Signed, keys: ReadonlyMap<string, KeyObject>): string | null {
  if (record.signedBy === undefined || record.signature === undefined)
    return `record is not signed (${record.signedBy === undefined ? 'no signedBy' : 'no signature'})`;
  const key = keys.get(record.signedBy);
  if (!key) return `signed by key ${String(record.signedBy).slice(0, 16)}, which is none of the public keys given`;
  let ok = false;
  try {
    ok = verify(null, Buffer.from(SIGNED_PREFIX + record.hash, 'utf8'), key, Buffer.from(String(record.signature), 'base64'));
  } catch {
    ok = false;
  }
  return ok ? null : `its signature does not verify with key ${record.signedBy}: signed by another key, or the hash was changed`;
}

/**
 * Writes a new Ed25519 key pair: the private key to `file` (0600, refused when the file exists) and
 * the public key to `<file>.pub`. Returns the key id.
 */
export function generateSigningKey(file: string): { keyId: string; publicKeyFile: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyFile = `${file}.pub`;
  const write = (path: string, text: string, mode: number): void => {
    const fd = openSync(path, 'wx', mode);
    try {
      fchmodSync(fd, mode); // whatever the umask
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  };
  write(file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  write(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644);
  return { keyId: keyIdOf(publicKey), publicKeyFile };
}
