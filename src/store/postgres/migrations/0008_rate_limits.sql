-- Braid schema for PostgreSQL, version 8: rate limits. See the SQLite migration of the same number
-- for what each column means.

-- One row per (limit, key): the GCRA theoretical arrival time (epoch ms). takeRateLimit updates it
-- with one INSERT ... ON CONFLICT DO UPDATE, whose row lock makes concurrent workers take turns:
-- that is what keeps the limit exact across processes.
CREATE TABLE braid.rate_limits (
  name text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  tat double precision NOT NULL,
  interval_ms double precision NOT NULL,
  PRIMARY KEY (name, key)
);

-- Limits changed at run time; they override the definition's limit and period until reset.
CREATE TABLE braid.rate_limit_settings (
  name text COLLATE "C" PRIMARY KEY,
  rate_limit integer NOT NULL,
  period_ms double precision NOT NULL,
  updated_at bigint NOT NULL
);
