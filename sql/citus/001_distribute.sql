-- citus/001_distribute: the Citus layout (issue 15). `flowetl init` applies the files
-- of sql/citus/ after the common migrations, only on a Citus coordinator (see
-- load/migrate.h for how the layout is chosen); each runs once, in one transaction,
-- recorded in etl.schema_migration like the others. It also converts a warehouse
-- that was single-node until now: create_distributed_table moves the rows.
--
-- The multi-tenant model: source_key is every per-source table's distribution column
-- and all of them are co-located, so one source's rows of every table sit in one
-- shard group on one node, and each statement of a load (filtered by source_key)
-- runs on that node alone: the stream's merges, its cursor and its rejects commit
-- there in one local transaction.
--   reference tables (a copy on every node): dw.dim_source, dw.dim_date
--   distributed by source_key, co-located:   dw.dim_store, dw.dim_customer,
--       dw.dim_category, dw.dim_product, dw.bridge_product_component, dw.fact_order,
--       dw.fact_order_line, dw.fact_payment, dw.fact_inventory_snapshot,
--       etl.sync_state, etl.reject
--   local to the coordinator: etl.run, etl.run_stream, etl.reconcile,
--       etl.schema_migration (bookkeeping written once per run or stream)
-- Keys: Citus wants the distribution column in every primary key and unique
-- constraint and in every foreign key between distributed tables, so primary keys
-- become (source_key, <thing>_key) and foreign keys (source_key, <thing>_key);
-- each source has its own unknown members (key 0, etl.ensure_unknown_members).
-- Surrogate keys stay bigint identities, unique across the cluster (Citus gives
-- each node its own range). The local bookkeeping keeps no foreign key to
-- dw.dim_source: Citus accepts one only when the coordinator is in its metadata,
-- and flowetl does not require that.

-- Citus makes the keys below over one connection per node, which it can only do
-- when nothing in the transaction ran over several.
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';

-- Every foreign key of dw and etl goes, to be made again below with source_key.
DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
              WHERE contype = 'f' AND connamespace IN ('dw'::regnamespace, 'etl'::regnamespace)
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
    END LOOP;
END
$$;

ALTER TABLE dw.dim_store DROP CONSTRAINT dim_store_pkey, ADD PRIMARY KEY (source_key, store_key);
ALTER TABLE dw.dim_customer DROP CONSTRAINT dim_customer_pkey,
    ADD PRIMARY KEY (source_key, customer_key);
ALTER TABLE dw.dim_category DROP CONSTRAINT dim_category_pkey,
    ADD PRIMARY KEY (source_key, category_key);
ALTER TABLE dw.dim_product DROP CONSTRAINT dim_product_pkey,
    ADD PRIMARY KEY (source_key, product_key);
ALTER TABLE dw.fact_order DROP CONSTRAINT fact_order_pkey, ADD PRIMARY KEY (source_key, order_key);
ALTER TABLE dw.fact_order_line DROP CONSTRAINT fact_order_line_pkey,
    ADD PRIMARY KEY (source_key, order_line_key);
ALTER TABLE dw.fact_payment DROP CONSTRAINT fact_payment_pkey,
    ADD PRIMARY KEY (source_key, payment_key);
ALTER TABLE dw.fact_inventory_snapshot DROP CONSTRAINT fact_inventory_snapshot_pkey,
    ADD PRIMARY KEY (source_key, inventory_snapshot_key);
ALTER TABLE etl.reject DROP CONSTRAINT reject_pkey, ADD PRIMARY KEY (source_key, reject_id);

SELECT create_reference_table('dw.dim_source');
SELECT create_reference_table('dw.dim_date');
SELECT create_distributed_table('dw.dim_store', 'source_key');
SELECT create_distributed_table(t, 'source_key', colocate_with => 'dw.dim_store')
FROM unnest(ARRAY['dw.dim_customer', 'dw.dim_category', 'dw.dim_product',
                  'dw.bridge_product_component', 'dw.fact_order', 'dw.fact_order_line',
                  'dw.fact_payment', 'dw.fact_inventory_snapshot', 'etl.sync_state',
                  'etl.reject']) AS t;
-- The rows now live in the shards; their old copies in the coordinator's local
-- tables would only take space.
SELECT truncate_local_data_after_distributing_table(t)
FROM unnest(ARRAY['dw.dim_source', 'dw.dim_date', 'dw.dim_store', 'dw.dim_customer',
                  'dw.dim_category', 'dw.dim_product', 'dw.bridge_product_component',
                  'dw.fact_order', 'dw.fact_order_line', 'dw.fact_payment',
                  'dw.fact_inventory_snapshot', 'etl.sync_state', 'etl.reject']) AS t;

-- The unknown members of every source registered so far (before the keys that
-- need them). A loop, so each call runs on the coordinator: in a SELECT over the
-- reference table Citus would push the call to a worker, where it cannot write to
-- distributed tables (when the coordinator is not in the metadata).
DO $$
DECLARE
    source smallint;
BEGIN
    FOR source IN SELECT source_key FROM dw.dim_source LOOP
        PERFORM etl.ensure_unknown_members(source);
    END LOOP;
END
$$;

-- One key a statement: Citus takes no other subcommand with ADD CONSTRAINT.
ALTER TABLE dw.dim_store ADD FOREIGN KEY (source_key) REFERENCES dw.dim_source;
ALTER TABLE dw.dim_customer ADD FOREIGN KEY (source_key) REFERENCES dw.dim_source;
ALTER TABLE dw.dim_category ADD FOREIGN KEY (source_key) REFERENCES dw.dim_source;
ALTER TABLE dw.dim_category ADD FOREIGN KEY (source_key, parent_category_key) REFERENCES dw.dim_category (source_key, category_key);
ALTER TABLE dw.dim_product ADD FOREIGN KEY (source_key) REFERENCES dw.dim_source;
ALTER TABLE dw.dim_product ADD FOREIGN KEY (source_key, category_key) REFERENCES dw.dim_category (source_key, category_key);
ALTER TABLE dw.bridge_product_component ADD FOREIGN KEY (source_key) REFERENCES dw.dim_source;
ALTER TABLE dw.bridge_product_component ADD FOREIGN KEY (source_key, parent_product_key) REFERENCES dw.dim_product (source_key, product_key);
ALTER TABLE dw.bridge_product_component ADD FOREIGN KEY (source_key, component_product_key) REFERENCES dw.dim_product (source_key, product_key);
ALTER TABLE dw.fact_order ADD FOREIGN KEY (source_key) REFERENCES dw.dim_source;
ALTER TABLE dw.fact_order ADD FOREIGN KEY (source_key, store_key) REFERENCES dw.dim_store (source_key, store_key);
ALTER TABLE dw.fact_order ADD FOREIGN KEY (source_key, customer_key) REFERENCES dw.dim_customer (source_key, customer_key);
ALTER TABLE dw.fact_order ADD FOREIGN KEY (order_date_key) REFERENCES dw.dim_date;
ALTER TABLE dw.fact_order_line ADD FOREIGN KEY (source_key) REFERENCES dw.dim_source;
ALTER TABLE dw.fact_order_line ADD FOREIGN KEY (source_key, order_key) REFERENCES dw.fact_order (source_key, order_key);
ALTER TABLE dw.fact_order_line ADD FOREIGN KEY (source_key, product_key) REFERENCES dw.dim_product (source_key, product_key);
ALTER TABLE dw.fact_order_line ADD FOREIGN KEY (source_key, bundle_product_key) REFERENCES dw.dim_product (source_key, product_key);
ALTER TABLE dw.fact_order_line ADD FOREIGN KEY (source_key, store_key) REFERENCES dw.dim_store (source_key, store_key);
ALTER TABLE dw.fact_order_line ADD FOREIGN KEY (source_key, customer_key) REFERENCES dw.dim_customer (source_key, customer_key);
ALTER TABLE dw.fact_order_line ADD FOREIGN KEY (order_date_key) REFERENCES dw.dim_date;
ALTER TABLE dw.fact_payment ADD FOREIGN KEY (source_key) REFERENCES dw.dim_source;
ALTER TABLE dw.fact_payment ADD FOREIGN KEY (source_key, order_key) REFERENCES dw.fact_order (source_key, order_key);
ALTER TABLE dw.fact_payment ADD FOREIGN KEY (source_key, store_key) REFERENCES dw.dim_store (source_key, store_key);
ALTER TABLE dw.fact_payment ADD FOREIGN KEY (source_key, customer_key) REFERENCES dw.dim_customer (source_key, customer_key);
ALTER TABLE dw.fact_payment ADD FOREIGN KEY (payment_date_key) REFERENCES dw.dim_date;
ALTER TABLE dw.fact_inventory_snapshot ADD FOREIGN KEY (source_key) REFERENCES dw.dim_source;
ALTER TABLE dw.fact_inventory_snapshot ADD FOREIGN KEY (source_key, product_key) REFERENCES dw.dim_product (source_key, product_key);
ALTER TABLE dw.fact_inventory_snapshot ADD FOREIGN KEY (source_key, store_key) REFERENCES dw.dim_store (source_key, store_key);
ALTER TABLE dw.fact_inventory_snapshot ADD FOREIGN KEY (snapshot_date_key) REFERENCES dw.dim_date;
ALTER TABLE etl.sync_state ADD FOREIGN KEY (source_key) REFERENCES dw.dim_source;
ALTER TABLE etl.reject ADD FOREIGN KEY (source_key) REFERENCES dw.dim_source;
ALTER TABLE etl.run_stream ADD FOREIGN KEY (run_id) REFERENCES etl.run;
ALTER TABLE etl.reconcile ADD FOREIGN KEY (run_id) REFERENCES etl.run;

COMMENT ON TABLE etl.reject IS 'One record that could not be mapped; the run went on without it. Citus layout: distributed by source_key.';
