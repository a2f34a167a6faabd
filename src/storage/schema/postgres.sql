-- Waymark's tables on PostgreSQL, created on an empty store and by
-- `waymark migrate` (storage/version.rs runs this file; every statement is idempotent).
--
-- events and snapshots: the layout of postgres-es's own migration, with one change: the
-- snapshot table's key is (aggregate_type, aggregate_id), not (…, last_sequence). There
-- is one snapshot row per aggregate, updated on every commit; with last_sequence in the
-- key each update moved the row in the index (issue 6: on PostgreSQL an inclusion proof
-- at 100k events took 183 ms as dead row versions piled up).
CREATE TABLE IF NOT EXISTS events (
  aggregate_type text NOT NULL, aggregate_id text NOT NULL,
  sequence bigint CHECK (sequence >= 0) NOT NULL,
  event_type text NOT NULL, event_version text NOT NULL,
  payload json NOT NULL, metadata json NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id, sequence));
CREATE TABLE IF NOT EXISTS snapshots (
  aggregate_type text NOT NULL, aggregate_id text NOT NULL,
  last_sequence bigint CHECK (last_sequence >= 0) NOT NULL,
  current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
  payload json NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id));
-- Every commit rewrites the snapshot (≈ 13 KB of JSON with the Optimism framework), which
-- PostgreSQL compresses out of line: with its default pglz a rewrite took 155 µs of the
-- server's CPU, with lz4 86 µs (2,000 rewrites of the demo ledger's snapshot in a loop,
-- PostgreSQL 15; issue 17, group commit). Only a tuning: where the server was built
-- without lz4, or is older than 14, the column keeps its default.
DO $$ BEGIN
  EXECUTE 'ALTER TABLE snapshots ALTER COLUMN payload SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN NULL;
END $$;
-- Rule 7 (no replayed signature) without a replay: storage/signatures.rs. The key is
-- one expression (type, ledger id and signature; ids have no space) so that the probe's
-- only index is this one: keyed on the three columns, its leading ones were the primary
-- key's, and on a table without statistics the planner chose the primary key and
-- filtered every row of the ledger by signature (issue 17; tests/plans.rs). `waymark
-- migrate` gives a store whose index has the earlier key this one (schema version 2).
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema()
             AND indexname = 'waymark_events_sig' AND indexdef NOT LIKE '%||%') THEN
    DROP INDEX waymark_events_sig;
  END IF;
END $$;
CREATE INDEX IF NOT EXISTS waymark_events_sig
  ON events ((aggregate_type || ' ' || aggregate_id || ' ' || (payload->>'sig')));

-- The read models (read/): the cqrs-es view, the audit trail, status checkpoints.
CREATE TABLE IF NOT EXISTS waymark_views (
  view_id text PRIMARY KEY NOT NULL, version bigint NOT NULL, payload json NOT NULL);
-- waymark_history.milestones: the ids a row names, `,`-separated with a `,` at both ends:
-- milestone ids as they are, decision and body ids tagged `decision:` and `body:` (SPEC
-- section 13's `history ID`; ids have no `:`, so a tag never reads as a milestone).
CREATE TABLE IF NOT EXISTS waymark_history (
  ledger text NOT NULL, seq bigint NOT NULL, recorded_at text NOT NULL,
  actor text NOT NULL, event_type text NOT NULL, season bigint,
  milestones text NOT NULL, row text NOT NULL, PRIMARY KEY (ledger, seq));
CREATE TABLE IF NOT EXISTS waymark_status_checkpoints (
  ledger text NOT NULL, seq bigint NOT NULL, fold text NOT NULL,
  PRIMARY KEY (ledger, seq));
CREATE INDEX IF NOT EXISTS waymark_history_actor ON waymark_history (ledger, actor, seq);
-- Schema version 3 (issue 17, goal 2): the audit log filtered by type is read newest
-- first along (ledger, event_type, seq), where (ledger, event_type, season) made each
-- page sort or walk every row of the ledger; and each id a row names (its `milestones`
-- column split at `,`) has a row in waymark_history_ids, so a milestone's page walks
-- that milestone's rows only (`LIKE '%,M3,%'` walked the whole ledger backwards until
-- 50 matched: at 1M events, a milestone updated once cost a read of every row).
DROP INDEX IF EXISTS waymark_history_type;
CREATE INDEX IF NOT EXISTS waymark_history_type_seq ON waymark_history (ledger, event_type, seq);
CREATE TABLE IF NOT EXISTS waymark_history_ids (
  ledger text NOT NULL, id text NOT NULL, seq bigint NOT NULL,
  PRIMARY KEY (ledger, id, seq));
-- The ids of a range of seqs (rebuild's count and refill of a page, a replaced row's
-- ids): without it each was a walk of every id of the ledger, and a rebuild at 1M
-- events checked its intact pages at a third of the rate it had at 100k.
CREATE INDEX IF NOT EXISTS waymark_history_ids_seq ON waymark_history_ids (ledger, seq);
-- The ids of the audit rows stored before version 3 (`waymark migrate`; nothing on an
-- empty store). After it, each batch of audit rows fills its own (read/sync.rs).
INSERT INTO waymark_history_ids (ledger, id, seq)
  SELECT h.ledger, t.id, h.seq FROM waymark_history h
    CROSS JOIN LATERAL unnest(string_to_array(h.milestones, ',')) AS t(id)
  WHERE t.id <> ''
  ON CONFLICT (ledger, id, seq) DO NOTHING;
CREATE INDEX IF NOT EXISTS waymark_history_season ON waymark_history (ledger, season, seq);
CREATE INDEX IF NOT EXISTS waymark_history_time ON waymark_history (ledger, recorded_at);

-- Checkpoints cosigned by witnesses (`publish --witness`, storage/witnessed.rs): the note
-- with the log's signature and the cosignatures, and the witness keys (newline-separated
-- verifier strings) they were checked with. The dashboard shows the latest; `serve`'s
-- tlog-tiles `checkpoint` carries its cosignatures.
CREATE TABLE IF NOT EXISTS waymark_witnessed (
  ledger text NOT NULL, tree_size bigint NOT NULL, note text NOT NULL,
  witnesses text NOT NULL, published_at text NOT NULL,
  PRIMARY KEY (ledger, tree_size));

-- The schema's version, one row (storage/version.rs): read at every start-up instead of
-- running this file, which runs only on an empty store and in `waymark migrate`.
CREATE TABLE IF NOT EXISTS waymark_schema (
  id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL);
