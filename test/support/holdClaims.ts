import type pg from 'pg';

export interface ClaimHold {
  /** Resolves once a claim waits in the hold; returns its backend's pid. */
  blocked(): Promise<number>;
  /** Lets the held claims go on and removes the hold. */
  release(): Promise<void>;
}

/**
 * Holds every claim of `admin`'s database after it has locked its runs and before it reads their
 * steps and waits: a BEFORE UPDATE trigger on the claim's `owner_id` write waits for an advisory
 * lock that `admin` holds until `release`. What happens meanwhile (a wait settled, the connection
 * lost) lands between the claim's locks and its reads.
 */
export async function holdClaimsAfterTheirLocks(admin: pg.Client): Promise<ClaimHold> {
  await admin.query(`CREATE FUNCTION public.hold_claim() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.owner_id IS NULL AND NEW.owner_id IS NOT NULL THEN
        PERFORM pg_advisory_lock(4242);
        PERFORM pg_advisory_unlock(4242);
      END IF;
      RETURN NEW;
    END $$`);
  await admin.query(
    'CREATE TRIGGER hold_claim BEFORE UPDATE ON braid.runs FOR EACH ROW EXECUTE FUNCTION public.hold_claim()',
  );
  await admin.query('SELECT pg_advisory_lock(4242)');
  return {
    async blocked() {
      for (let i = 0; i < 1500; i++) {
        const { rows } = await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'`,
        );
        if (rows[0]) return rows[0].pid;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('no claim reached the hold within 15 s');
    },
    async release() {
      await admin.query('SELECT pg_advisory_unlock(4242)');
      await admin.query('DROP TRIGGER hold_claim ON braid.runs');
      await admin.query('DROP FUNCTION public.hold_claim()');
    },
  };
}
