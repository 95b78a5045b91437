-- Ingest runs
SELECT run_id, started_at, files, records, added, updated, unchanged, rejected
FROM ingest_runs
ORDER BY run_id
