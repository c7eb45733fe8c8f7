import { hash, randomFillSync } from 'node:crypto';

// Crockford base32: ids sort by creation time as plain strings (ULID layout), generated in-process
// so no database round trip is needed to name a run.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastMs = 0;
const lastRandom = new Uint8Array(10);
/**
 * The character codes of the last id: 10 for its time, then 16 for its random part. An id is made
 * from them in one String.fromCharCode, so it is one flat string: built with `+=` a character at a
 * time, each id was a chain of five ConsStrings over a flat one (past 12 characters V8 concatenates
 * by reference), every link of which a 5k fan-out kept alive per child until its run ended.
 */
const idCodes: number[] = new Array<number>(26).fill(48);
const ALPHABET_CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));
/**
 * Random bytes drawn 2,560 at a time: one `randomBytes(10)` per new millisecond cost ~1.5 µs a call
 * (W1 starts a run every 30-50 µs, so most ids land in a new millisecond on a busy process).
 */
const pool = new Uint8Array(2560);
let poolAt = pool.length;

function encodeTime(ms: number): void {
  for (let i = 9; i >= 0; i--) {
    idCodes[i] = ALPHABET_CODES[ms % 32] as number;
    ms = Math.floor(ms / 32);
  }
}

/** The 80 random bits as 16 base32 characters, after the time's 10. */
function encodeRandom(): void {
  let bits = 0;
  let value = 0;
  let at = 10;
  for (let i = 0; i < lastRandom.length; i++) {
    value = ((value << 8) | (lastRandom[i] as number)) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      idCodes[at++] = ALPHABET_CODES[(value >>> (bits - 5)) & 31] as number;
      bits -= 5;
    }
  }
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
  } else {
    lastMs = now;
    encodeTime(now);
    if (poolAt + lastRandom.length > pool.length) {
      randomFillSync(pool);
      poolAt = 0;
    }
    lastRandom.set(pool.subarray(poolAt, poolAt + lastRandom.length));
    poolAt += lastRandom.length;
    lastRandom[0] = (lastRandom[0] ?? 0) & 0x7f; // headroom for increments
  }
  encodeRandom();
  return String.fromCharCode.apply(null, idCodes);
}

export function hashText(text: string): string {
  // crypto.hash is the one-shot form: no Hash object per call (a spawn key is hashed per child).
  return hash('sha256', text, 'base64url').slice(0, 22);
}
