"""The warehouse and the records it is derived from.

- `warehouse`: DuckDB files, generations swapped in atomically, migrations (`migrations/`),
  reference tables;
- `ledger`: the submission state machine (pure: decisions, and notes as codes), over
  `tables` (its in-memory tables and pending changes), in the vocabulary of `records`;
- `mirror`: the ledger's DuckDB side (load its tables, answer its lookups, flush its changes);
- `pole_rows`: a workbook's content and issues as warehouse rows;
- `journal`: the archive and its append-only journal, the source of truth the warehouse
  derives from; `durable`: fsync a file and its folder;
- `configs`: the configurations (référentiel, registry, campaigns) decisions were taken under;
- `snapshot`: the analysts' read-only copy and its Parquet files; `status`: a period's
  completeness, read from the snapshot;
- `lock`: the OS-level lock, one writer at a time.

Nothing is re-exported here: importing `ptce_pipeline.store` must not load DuckDB or pandas.
"""
