import { hash, randomFillSync } from 'node:crypto';

// Crockford base32: ids sort by creation time as plain strings (ULID layout), generated in-process
// so no database round trip is needed to name a run.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastMs = 0;
let lastTime = '';
const lastRandom = new Uint8Array(10);
/**
 * Random bytes drawn 2,560 at a time: one `randomBytes(10)` per new millisecond cost ~1.5 µs a call
 * (W1 starts a run every 30-50 µs, so most ids land in a new millisecond on a busy process).
 */
const pool = new Uint8Array(2560);
let poolAt = pool.length;

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function encodeBytes(bytes: Uint8Array, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/**
 * A new run id: 26 characters, time-ordered, monotonic within a millisecond. On the system clock
 * even under a virtual one: ids must stay unique and increasing across every executor of the
 * process, whatever clock each runs on (a run's times are in its record, not read from its id).
 */
export function newRunId(now = Date.now()): string {
  if (now <= lastMs) {
    // Same millisecond: increment the random part so ids stay strictly increasing.
    for (let i = lastRandom.length - 1; i >= 0; i--) {
      lastRandom[i] = ((lastRandom[i] ?? 0) + 1) & 0xff;
      if (lastRandom[i] !== 0) break;
    }
    return lastTime + encodeBytes(lastRandom, 16);
  }
  lastMs = now;
  lastTime = encodeTime(now);
  if (poolAt + lastRandom.length > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  lastRandom.set(pool.subarray(poolAt, poolAt + lastRandom.length));
  poolAt += lastRandom.length;
  lastRandom[0] = (lastRandom[0] ?? 0) & 0x7f; // headroom for increments
  return lastTime + encodeBytes(lastRandom, 16);
}

export function hashText(text: string): string {
  // crypto.hash is the one-shot form: no Hash object per call (a spawn key is hashed per child).
  return hash('sha256', text, 'base64url').slice(0, 22);
}
