-- 001_schema: the star schema (dw) and flowetl's bookkeeping (etl).
--
-- Applied by `flowetl init` (load/migrate.c) in one transaction. The contract is
-- /work/shared/design/warehouse.md: names, grains and meanings must not change;
-- later migrations (002_..., 003_...) may add columns, indexes, tables and views.
--
-- Conventions used throughout:
--   * surrogate keys are bigint identities named <thing>_key (dim_source: smallint);
--   * natural keys are (source_key, <source's own id as text>), unique;
--   * key 0 in every dimension is the "unknown / not provided" member (source_key 0,
--     id ''), so facts never hold a NULL foreign key;
--   * money and quantities numeric(20,4); currencies char(3) ISO 4217 upper case;
--   * times timestamptz; *_date_key int YYYYMMDD in the source's business time zone;
--   * loaded_at / run_id = when and by which etl.run the row last changed
--     (run_id 0: written by `flowetl init`);
--   * rows that disappear at the source get is_deleted = true, never DELETE.
--
-- Citus: dimensions are meant to become reference tables and facts to be
-- distributed on source_key (every fact's natural key starts with source_key).
-- Distributed tables then need source_key in their primary keys and in the
-- fact-to-fact foreign keys (fact_order_line/fact_payment -> fact_order); a later
-- migration makes those composite when Citus is adopted.

CREATE SCHEMA IF NOT EXISTS dw;
CREATE SCHEMA IF NOT EXISTS etl;
COMMENT ON SCHEMA dw IS 'The unified star schema and its BI views (analysts read this schema only).';
COMMENT ON SCHEMA etl IS 'flowetl bookkeeping: cursors, runs, rejects, migrations.';

-- load/migrate.c creates this table before applying any file; repeated here so the
-- file also works when applied by hand with psql.
CREATE TABLE IF NOT EXISTS etl.schema_migration (
    name text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now(),
    checksum text NOT NULL
);
COMMENT ON TABLE etl.schema_migration IS 'One row per applied migration file of sql/ (flowetl init applies the missing ones in name order).';
COMMENT ON COLUMN etl.schema_migration.name IS 'File name, e.g. 001_schema.sql.';
COMMENT ON COLUMN etl.schema_migration.applied_at IS 'When the file was applied.';
COMMENT ON COLUMN etl.schema_migration.checksum IS 'md5 of the file text as applied; a different text under the same name is refused.';

---------------------------------------------------------------------------------
-- Dimensions
---------------------------------------------------------------------------------

CREATE TABLE dw.dim_source (
    source_key smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    system text NOT NULL,
    account text NOT NULL,
    name text NOT NULL,
    timezone text NOT NULL DEFAULT 'UTC',
    loaded_at timestamptz NOT NULL DEFAULT now(),
    run_id bigint NOT NULL DEFAULT 0,
    CONSTRAINT dim_source_nk UNIQUE (system, account)
);
COMMENT ON TABLE dw.dim_source IS 'One configured source account. Grain: (system, account). Key 0 = unknown.';
COMMENT ON COLUMN dw.dim_source.source_key IS 'Surrogate key; part of every other table''s natural key.';
COMMENT ON COLUMN dw.dim_source.system IS 'Source system: posiflora, goflow, flowwow, flowretail.';
COMMENT ON COLUMN dw.dim_source.account IS 'Account within the system: subdomain, tenant or host.';
COMMENT ON COLUMN dw.dim_source.name IS 'NAME of the [source.NAME] section of the flowetl config.';
COMMENT ON COLUMN dw.dim_source.timezone IS 'Business time zone (IANA name) in which this source''s *_date_key values are taken.';
COMMENT ON COLUMN dw.dim_source.loaded_at IS 'When the row last changed.';
COMMENT ON COLUMN dw.dim_source.run_id IS 'etl.run that last changed the row (0: not written by a run).';

CREATE TABLE dw.dim_date (
    date_key integer PRIMARY KEY,
    date date UNIQUE,
    year smallint,
    quarter smallint,
    month smallint,
    month_name text,
    day smallint,
    day_name text,
    iso_year smallint,
    iso_week smallint,
    iso_dow smallint,
    is_weekend boolean,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    run_id bigint NOT NULL DEFAULT 0,
    CONSTRAINT dim_date_known CHECK (date_key = 0 OR date IS NOT NULL)
);
COMMENT ON TABLE dw.dim_date IS 'One calendar day. Pre-filled 2000-01-01..2040-12-31; loads add any other date a fact uses. Key 0 = unknown date.';
COMMENT ON COLUMN dw.dim_date.date_key IS 'YYYYMMDD as an integer (dw.date_key(date)); 0 = unknown.';
COMMENT ON COLUMN dw.dim_date.date IS 'The calendar day (NULL only for key 0).';
COMMENT ON COLUMN dw.dim_date.year IS 'Calendar year.';
COMMENT ON COLUMN dw.dim_date.quarter IS 'Calendar quarter, 1-4.';
COMMENT ON COLUMN dw.dim_date.month IS 'Month, 1-12.';
COMMENT ON COLUMN dw.dim_date.month_name IS 'English month name, e.g. January.';
COMMENT ON COLUMN dw.dim_date.day IS 'Day of month, 1-31.';
COMMENT ON COLUMN dw.dim_date.day_name IS 'English weekday name, e.g. Monday.';
COMMENT ON COLUMN dw.dim_date.iso_year IS 'ISO 8601 week-numbering year.';
COMMENT ON COLUMN dw.dim_date.iso_week IS 'ISO 8601 week number, 1-53.';
COMMENT ON COLUMN dw.dim_date.iso_dow IS 'ISO day of week: 1 = Monday .. 7 = Sunday.';
COMMENT ON COLUMN dw.dim_date.is_weekend IS 'Saturday or Sunday.';
COMMENT ON COLUMN dw.dim_date.loaded_at IS 'When the row was written.';
COMMENT ON COLUMN dw.dim_date.run_id IS 'etl.run that added the day (0: pre-filled by flowetl init).';

CREATE TABLE dw.dim_store (
    store_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    kind text NOT NULL,
    store_id text NOT NULL,
    name text,
    address text,
    currency char(3),
    timezone text,
    status text,
    is_deleted boolean NOT NULL DEFAULT false,
    is_inferred boolean NOT NULL DEFAULT false,
    origin_stream text,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    run_id bigint NOT NULL DEFAULT 0,
    CONSTRAINT dim_store_nk UNIQUE (source_key, kind, store_id),
    CONSTRAINT dim_store_kind CHECK (kind IN ('store', 'shop', 'channel', 'warehouse') OR store_key = 0)
);
COMMENT ON TABLE dw.dim_store IS 'One selling or stocking location. Grain: (source_key, kind, store_id). Key 0 = unknown.';
COMMENT ON COLUMN dw.dim_store.store_key IS 'Surrogate key.';
COMMENT ON COLUMN dw.dim_store.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN dw.dim_store.kind IS 'store (Posiflora), shop (Flowwow), channel (Goflow store), warehouse (Goflow).';
COMMENT ON COLUMN dw.dim_store.store_id IS 'The source''s own id of the location, as text.';
COMMENT ON COLUMN dw.dim_store.name IS 'Display name.';
COMMENT ON COLUMN dw.dim_store.address IS 'Address as the source gives it.';
COMMENT ON COLUMN dw.dim_store.currency IS 'ISO 4217 currency of the location, when known.';
COMMENT ON COLUMN dw.dim_store.timezone IS 'Time zone of the location, when the source gives one.';
COMMENT ON COLUMN dw.dim_store.status IS 'Source''s own status value (e.g. active, disabled).';
COMMENT ON COLUMN dw.dim_store.is_deleted IS 'No longer returned by the source (or deleted there).';
COMMENT ON COLUMN dw.dim_store.is_inferred IS 'Created from a fact that named it before the dimension was read: only the natural key is known.';
COMMENT ON COLUMN dw.dim_store.origin_stream IS 'Stream that owns the row: the last to insert or change it, or to return it in a full read. A finished full read of that stream marks the rows it no longer returns as deleted.';
COMMENT ON COLUMN dw.dim_store.loaded_at IS 'When the row last changed.';
COMMENT ON COLUMN dw.dim_store.run_id IS 'etl.run that last changed the row.';

CREATE TABLE dw.dim_customer (
    customer_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    customer_id text NOT NULL,
    name text,
    phone text,
    email text,
    status text,
    loyalty_points numeric(20,4),
    created_at timestamptz,
    updated_at timestamptz,
    is_deleted boolean NOT NULL DEFAULT false,
    is_inferred boolean NOT NULL DEFAULT false,
    origin_stream text,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    run_id bigint NOT NULL DEFAULT 0,
    CONSTRAINT dim_customer_nk UNIQUE (source_key, customer_id)
);
COMMENT ON TABLE dw.dim_customer IS 'One customer. Grain: (source_key, customer_id). Key 0 = unknown / not provided.';
COMMENT ON COLUMN dw.dim_customer.customer_key IS 'Surrogate key.';
COMMENT ON COLUMN dw.dim_customer.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN dw.dim_customer.customer_id IS 'The source''s customer id, or a stable derived id (e.g. phone:+79261234567) for buyers the source gives no id.';
COMMENT ON COLUMN dw.dim_customer.name IS 'Full name.';
COMMENT ON COLUMN dw.dim_customer.phone IS 'Phone number as the source gives it.';
COMMENT ON COLUMN dw.dim_customer.email IS 'E-mail address.';
COMMENT ON COLUMN dw.dim_customer.status IS 'Source''s own status value.';
COMMENT ON COLUMN dw.dim_customer.loyalty_points IS 'Loyalty / bonus balance.';
COMMENT ON COLUMN dw.dim_customer.created_at IS 'Created at the source.';
COMMENT ON COLUMN dw.dim_customer.updated_at IS 'Last changed at the source.';
COMMENT ON COLUMN dw.dim_customer.is_deleted IS 'No longer returned by the source (or deleted there).';
COMMENT ON COLUMN dw.dim_customer.is_inferred IS 'Created from an order that named it before the customer was read: only the natural key is known.';
COMMENT ON COLUMN dw.dim_customer.origin_stream IS 'Stream that owns the row: the last to insert or change it, or to return it in a full read. A finished full read of that stream marks the rows it no longer returns as deleted.';
COMMENT ON COLUMN dw.dim_customer.loaded_at IS 'When the row last changed.';
COMMENT ON COLUMN dw.dim_customer.run_id IS 'etl.run that last changed the row.';

CREATE TABLE dw.dim_category (
    category_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    category_id text NOT NULL,
    name text,
    parent_category_id text,
    parent_category_key bigint NOT NULL DEFAULT 0 REFERENCES dw.dim_category,
    path text,
    is_deleted boolean NOT NULL DEFAULT false,
    is_inferred boolean NOT NULL DEFAULT false,
    origin_stream text,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    run_id bigint NOT NULL DEFAULT 0,
    CONSTRAINT dim_category_nk UNIQUE (source_key, category_id)
);
CREATE INDEX dim_category_parent ON dw.dim_category (parent_category_key);
COMMENT ON TABLE dw.dim_category IS 'One product category (a tree per source). Grain: (source_key, category_id). Key 0 = unknown / none.';
COMMENT ON COLUMN dw.dim_category.category_key IS 'Surrogate key.';
COMMENT ON COLUMN dw.dim_category.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN dw.dim_category.category_id IS 'The source''s category id, as text.';
COMMENT ON COLUMN dw.dim_category.name IS 'Category name.';
COMMENT ON COLUMN dw.dim_category.parent_category_id IS 'The source''s id of the parent category; NULL for a root.';
COMMENT ON COLUMN dw.dim_category.parent_category_key IS 'Parent category; 0 for a root.';
COMMENT ON COLUMN dw.dim_category.path IS 'Names from the root down to this category, joined with '' / '' (an unnamed inferred ancestor shows its id).';
COMMENT ON COLUMN dw.dim_category.is_deleted IS 'No longer returned by the source (or deleted there).';
COMMENT ON COLUMN dw.dim_category.is_inferred IS 'Created because a product or child category named it before it was read: only the natural key is known.';
COMMENT ON COLUMN dw.dim_category.origin_stream IS 'Stream that owns the row: the last to insert or change it, or to return it in a full read. A finished full read of that stream marks the rows it no longer returns as deleted.';
COMMENT ON COLUMN dw.dim_category.loaded_at IS 'When the row last changed.';
COMMENT ON COLUMN dw.dim_category.run_id IS 'etl.run that last changed the row.';

CREATE TABLE dw.dim_product (
    product_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    product_id text NOT NULL,
    sku text,
    name text,
    product_type text,
    category_key bigint NOT NULL DEFAULT 0 REFERENCES dw.dim_category,
    brand text,
    list_price numeric(20,4),
    currency char(3),
    is_active boolean,
    is_deleted boolean NOT NULL DEFAULT false,
    is_inferred boolean NOT NULL DEFAULT false,
    origin_stream text,
    created_at timestamptz,
    updated_at timestamptz,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    run_id bigint NOT NULL DEFAULT 0,
    CONSTRAINT dim_product_nk UNIQUE (source_key, product_id),
    CONSTRAINT dim_product_type CHECK (product_type IN ('standard', 'kit', 'group', 'bundle', 'addon', 'service', 'bouquet'))
);
CREATE INDEX dim_product_category ON dw.dim_product (category_key);
COMMENT ON TABLE dw.dim_product IS 'One sellable or stockable item (Posiflora inventory items and bouquets, Goflow products, ...). Grain: (source_key, product_id). Key 0 = unknown.';
COMMENT ON COLUMN dw.dim_product.product_key IS 'Surrogate key.';
COMMENT ON COLUMN dw.dim_product.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN dw.dim_product.product_id IS 'The source''s product id, as text.';
COMMENT ON COLUMN dw.dim_product.sku IS 'Stock keeping unit / article code.';
COMMENT ON COLUMN dw.dim_product.name IS 'Product name.';
COMMENT ON COLUMN dw.dim_product.product_type IS 'standard, kit, group, bundle, addon, service or bouquet (NULL for an inferred member).';
COMMENT ON COLUMN dw.dim_product.category_key IS 'Category (dw.dim_category); 0 = none.';
COMMENT ON COLUMN dw.dim_product.brand IS 'Brand or manufacturer.';
COMMENT ON COLUMN dw.dim_product.list_price IS 'Current list price per unit.';
COMMENT ON COLUMN dw.dim_product.currency IS 'ISO 4217 currency of list_price.';
COMMENT ON COLUMN dw.dim_product.is_active IS 'Active / on sale at the source (NULL: unknown).';
COMMENT ON COLUMN dw.dim_product.is_deleted IS 'No longer returned by the source (or deleted there).';
COMMENT ON COLUMN dw.dim_product.is_inferred IS 'Created from a fact or recipe that named it before the product was read: only the natural key is known.';
COMMENT ON COLUMN dw.dim_product.origin_stream IS 'Stream that owns the row: the last to insert or change it, or to return it in a full read. A finished full read of that stream marks the rows it no longer returns as deleted.';
COMMENT ON COLUMN dw.dim_product.created_at IS 'Created at the source.';
COMMENT ON COLUMN dw.dim_product.updated_at IS 'Last changed at the source.';
COMMENT ON COLUMN dw.dim_product.loaded_at IS 'When the row last changed.';
COMMENT ON COLUMN dw.dim_product.run_id IS 'etl.run that last changed the row.';

CREATE TABLE dw.bridge_product_component (
    parent_product_key bigint NOT NULL REFERENCES dw.dim_product,
    component_product_key bigint NOT NULL REFERENCES dw.dim_product,
    slot text NOT NULL DEFAULT '',
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    quantity numeric(20,4),
    special_price numeric(20,4),
    is_deleted boolean NOT NULL DEFAULT false,
    origin_stream text,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    run_id bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (parent_product_key, component_product_key, slot)
);
CREATE INDEX bridge_product_component_component ON dw.bridge_product_component (component_product_key);
COMMENT ON TABLE dw.bridge_product_component IS 'One component of a kit, group, package or bouquet recipe. Grain: (parent_product_key, component_product_key, slot).';
COMMENT ON COLUMN dw.bridge_product_component.parent_product_key IS 'The kit, group, package or bouquet (dw.dim_product).';
COMMENT ON COLUMN dw.bridge_product_component.component_product_key IS 'The component product (dw.dim_product).';
COMMENT ON COLUMN dw.bridge_product_component.slot IS 'Slot name (Flow Retail packages); '''' when the source has no slots.';
COMMENT ON COLUMN dw.bridge_product_component.source_key IS 'Source (dw.dim_source) of both products.';
COMMENT ON COLUMN dw.bridge_product_component.quantity IS 'Units of the component in one parent.';
COMMENT ON COLUMN dw.bridge_product_component.special_price IS 'Price of the component inside the parent, when the source sets one.';
COMMENT ON COLUMN dw.bridge_product_component.is_deleted IS 'No longer part of the parent''s recipe.';
COMMENT ON COLUMN dw.bridge_product_component.origin_stream IS 'Stream that owns the row: the last to insert or change it, or to return it in a full read. A finished full read of that stream marks the rows it no longer returns as deleted.';
COMMENT ON COLUMN dw.bridge_product_component.loaded_at IS 'When the row last changed.';
COMMENT ON COLUMN dw.bridge_product_component.run_id IS 'etl.run that last changed the row.';

---------------------------------------------------------------------------------
-- Facts
---------------------------------------------------------------------------------

CREATE TABLE dw.fact_order (
    order_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    order_id text NOT NULL,
    order_number text,
    store_key bigint NOT NULL DEFAULT 0 REFERENCES dw.dim_store,
    customer_key bigint NOT NULL DEFAULT 0 REFERENCES dw.dim_customer,
    order_date_key integer NOT NULL DEFAULT 0 REFERENCES dw.dim_date,
    ordered_at timestamptz,
    status text,
    status_group text,
    currency char(3),
    subtotal numeric(20,4),
    discount_total numeric(20,4),
    tax_total numeric(20,4),
    shipping_total numeric(20,4),
    total numeric(20,4),
    paid_total numeric(20,4),
    line_count integer,
    source_updated_at timestamptz,
    is_deleted boolean NOT NULL DEFAULT false,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    run_id bigint NOT NULL DEFAULT 0,
    CONSTRAINT fact_order_nk UNIQUE (source_key, order_id),
    CONSTRAINT fact_order_status_group CHECK (status_group IN ('open', 'completed', 'canceled', 'returned'))
);
CREATE INDEX fact_order_date ON dw.fact_order (order_date_key);
CREATE INDEX fact_order_customer ON dw.fact_order (customer_key);
CREATE INDEX fact_order_store ON dw.fact_order (store_key);
COMMENT ON TABLE dw.fact_order IS 'One order. Grain: (source_key, order_id). Row order_key 0 (source_key 0) is the unknown order that lines and payments point to while their order is not loaded: filter source_key <> 0 (or order_key <> 0) when counting.';
COMMENT ON COLUMN dw.fact_order.order_key IS 'Surrogate key.';
COMMENT ON COLUMN dw.fact_order.source_key IS 'Source (dw.dim_source); distribution column under Citus.';
COMMENT ON COLUMN dw.fact_order.order_id IS 'The source''s order id, as text.';
COMMENT ON COLUMN dw.fact_order.order_number IS 'Human-facing order number, when different from the id.';
COMMENT ON COLUMN dw.fact_order.store_key IS 'Store, shop or channel of the order (dw.dim_store); 0 = unknown.';
COMMENT ON COLUMN dw.fact_order.customer_key IS 'Customer (dw.dim_customer); 0 = none / unknown.';
COMMENT ON COLUMN dw.fact_order.order_date_key IS 'Business date of the order (the source''s own order date, else ordered_at in dim_source.timezone); 0 = unknown.';
COMMENT ON COLUMN dw.fact_order.ordered_at IS 'When the order was placed.';
COMMENT ON COLUMN dw.fact_order.status IS 'The source''s own status value.';
COMMENT ON COLUMN dw.fact_order.status_group IS 'open (not yet fulfilled or paid), completed (done, shipped, delivered), canceled (canceled or not accepted), returned (returned or refunded).';
COMMENT ON COLUMN dw.fact_order.currency IS 'ISO 4217 currency of the amounts.';
COMMENT ON COLUMN dw.fact_order.subtotal IS 'Amount before order-level discounts and shipping.';
COMMENT ON COLUMN dw.fact_order.discount_total IS 'Order-level discounts, a non-negative amount.';
COMMENT ON COLUMN dw.fact_order.tax_total IS 'Taxes as the source reports them.';
COMMENT ON COLUMN dw.fact_order.shipping_total IS 'Shipping / delivery charged.';
COMMENT ON COLUMN dw.fact_order.total IS 'What the customer is charged: after discounts, including tax and shipping as the source reports them.';
COMMENT ON COLUMN dw.fact_order.paid_total IS 'Amount paid so far, as the source reports it.';
COMMENT ON COLUMN dw.fact_order.line_count IS 'Number of lines as the source reports it.';
COMMENT ON COLUMN dw.fact_order.source_updated_at IS 'Last change at the source (the incremental cursor of most sources).';
COMMENT ON COLUMN dw.fact_order.is_deleted IS 'Deleted at the source (e.g. a Goflow order that was split); its lines and payments are marked too.';
COMMENT ON COLUMN dw.fact_order.loaded_at IS 'When the row last changed.';
COMMENT ON COLUMN dw.fact_order.run_id IS 'etl.run that last changed the row.';

CREATE TABLE dw.fact_order_line (
    order_line_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    order_id text NOT NULL,
    line_id text NOT NULL,
    order_key bigint NOT NULL DEFAULT 0 REFERENCES dw.fact_order,
    product_key bigint NOT NULL DEFAULT 0 REFERENCES dw.dim_product,
    bundle_product_key bigint NOT NULL DEFAULT 0 REFERENCES dw.dim_product,
    store_key bigint NOT NULL DEFAULT 0 REFERENCES dw.dim_store,
    customer_key bigint NOT NULL DEFAULT 0 REFERENCES dw.dim_customer,
    order_date_key integer NOT NULL DEFAULT 0 REFERENCES dw.dim_date,
    quantity numeric(20,4),
    unit_price numeric(20,4),
    discount numeric(20,4),
    tax numeric(20,4),
    line_total numeric(20,4),
    cost numeric(20,4),
    currency char(3),
    is_deleted boolean NOT NULL DEFAULT false,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    run_id bigint NOT NULL DEFAULT 0,
    CONSTRAINT fact_order_line_nk UNIQUE (source_key, order_id, line_id)
);
CREATE INDEX fact_order_line_order ON dw.fact_order_line (order_key);
CREATE INDEX fact_order_line_date ON dw.fact_order_line (order_date_key);
CREATE INDEX fact_order_line_product ON dw.fact_order_line (product_key);
COMMENT ON TABLE dw.fact_order_line IS 'One line of one order. Grain: (source_key, order_id, line_id).';
COMMENT ON COLUMN dw.fact_order_line.order_line_key IS 'Surrogate key.';
COMMENT ON COLUMN dw.fact_order_line.source_key IS 'Source (dw.dim_source); distribution column under Citus.';
COMMENT ON COLUMN dw.fact_order_line.order_id IS 'The source''s order id (natural key with line_id).';
COMMENT ON COLUMN dw.fact_order_line.line_id IS 'The source''s line id within the order.';
COMMENT ON COLUMN dw.fact_order_line.order_key IS 'The order (dw.fact_order); 0 while the order itself is not loaded.';
COMMENT ON COLUMN dw.fact_order_line.product_key IS 'Product sold (dw.dim_product); 0 = unknown.';
COMMENT ON COLUMN dw.fact_order_line.bundle_product_key IS 'The bouquet or bundle this line is a component of (dw.dim_product); 0 when none.';
COMMENT ON COLUMN dw.fact_order_line.store_key IS 'Store of the order (copied from fact_order).';
COMMENT ON COLUMN dw.fact_order_line.customer_key IS 'Customer of the order (copied from fact_order).';
COMMENT ON COLUMN dw.fact_order_line.order_date_key IS 'Business date of the order (copied from fact_order).';
COMMENT ON COLUMN dw.fact_order_line.quantity IS 'Units sold.';
COMMENT ON COLUMN dw.fact_order_line.unit_price IS 'Price per unit before discount.';
COMMENT ON COLUMN dw.fact_order_line.discount IS 'Discount on the line, a non-negative amount.';
COMMENT ON COLUMN dw.fact_order_line.tax IS 'Tax on the line.';
COMMENT ON COLUMN dw.fact_order_line.line_total IS 'Amount charged for the line after its discounts; per order the lines add up to the merchandise amount the source reports.';
COMMENT ON COLUMN dw.fact_order_line.cost IS 'Cost of goods for the line, when the source gives it.';
COMMENT ON COLUMN dw.fact_order_line.currency IS 'ISO 4217 currency (the order''s when the line has none).';
COMMENT ON COLUMN dw.fact_order_line.is_deleted IS 'No longer part of the order (or the order was deleted).';
COMMENT ON COLUMN dw.fact_order_line.loaded_at IS 'When the row last changed.';
COMMENT ON COLUMN dw.fact_order_line.run_id IS 'etl.run that last changed the row.';

CREATE TABLE dw.fact_payment (
    payment_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    payment_id text NOT NULL,
    order_id text,
    order_key bigint NOT NULL DEFAULT 0 REFERENCES dw.fact_order,
    store_key bigint NOT NULL DEFAULT 0 REFERENCES dw.dim_store,
    customer_key bigint NOT NULL DEFAULT 0 REFERENCES dw.dim_customer,
    payment_date_key integer NOT NULL DEFAULT 0 REFERENCES dw.dim_date,
    paid_at timestamptz,
    payment_type text,
    method text,
    amount numeric(20,4),
    bonus_amount numeric(20,4),
    currency char(3),
    is_deleted boolean NOT NULL DEFAULT false,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    run_id bigint NOT NULL DEFAULT 0,
    CONSTRAINT fact_payment_nk UNIQUE (source_key, payment_id),
    CONSTRAINT fact_payment_type CHECK (payment_type IN ('payment', 'refund', 'change'))
);
CREATE INDEX fact_payment_order_id ON dw.fact_payment (source_key, order_id);
CREATE INDEX fact_payment_order ON dw.fact_payment (order_key);
CREATE INDEX fact_payment_date ON dw.fact_payment (payment_date_key);
COMMENT ON TABLE dw.fact_payment IS 'One payment event (payment, refund, change). Grain: (source_key, payment_id). sum(amount) is net cash.';
COMMENT ON COLUMN dw.fact_payment.payment_key IS 'Surrogate key.';
COMMENT ON COLUMN dw.fact_payment.source_key IS 'Source (dw.dim_source); distribution column under Citus.';
COMMENT ON COLUMN dw.fact_payment.payment_id IS 'The source''s payment id, as text.';
COMMENT ON COLUMN dw.fact_payment.order_id IS 'The source''s id of the order paid, when there is one.';
COMMENT ON COLUMN dw.fact_payment.order_key IS 'The order (dw.fact_order); 0 when none or not loaded yet.';
COMMENT ON COLUMN dw.fact_payment.store_key IS 'Store of the order (copied from fact_order); 0 = unknown.';
COMMENT ON COLUMN dw.fact_payment.customer_key IS 'Customer of the order (copied from fact_order); 0 = unknown.';
COMMENT ON COLUMN dw.fact_payment.payment_date_key IS 'Business date of the payment (the source''s own date, else paid_at in dim_source.timezone); 0 = unknown.';
COMMENT ON COLUMN dw.fact_payment.paid_at IS 'When the payment happened.';
COMMENT ON COLUMN dw.fact_payment.payment_type IS 'payment (money received), refund or change (money given back).';
COMMENT ON COLUMN dw.fact_payment.method IS 'Payment method as the source names it (cash, card, ...).';
COMMENT ON COLUMN dw.fact_payment.amount IS 'Signed amount: received positive, refunds and change negative.';
COMMENT ON COLUMN dw.fact_payment.bonus_amount IS 'Part paid with loyalty bonus points.';
COMMENT ON COLUMN dw.fact_payment.currency IS 'ISO 4217 currency (the order''s when the payment has none).';
COMMENT ON COLUMN dw.fact_payment.is_deleted IS 'No longer part of the order at the source (or the order was deleted).';
COMMENT ON COLUMN dw.fact_payment.loaded_at IS 'When the row last changed.';
COMMENT ON COLUMN dw.fact_payment.run_id IS 'etl.run that last changed the row.';

CREATE TABLE dw.fact_inventory_snapshot (
    inventory_snapshot_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    snapshot_date_key integer NOT NULL REFERENCES dw.dim_date,
    product_key bigint NOT NULL REFERENCES dw.dim_product,
    store_key bigint NOT NULL REFERENCES dw.dim_store,
    on_hand numeric(20,4),
    available numeric(20,4),
    reserved numeric(20,4),
    on_order numeric(20,4),
    unit_cost numeric(20,4),
    unit_price numeric(20,4),
    inventory_value numeric(20,4),
    captured_at timestamptz,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    run_id bigint NOT NULL DEFAULT 0,
    -- Same columns as the contract's grain, ordered so it also serves "latest per
    -- product and location" (dw.v_inventory_latest).
    CONSTRAINT fact_inventory_snapshot_nk UNIQUE (source_key, product_key, store_key, snapshot_date_key)
);
CREATE INDEX fact_inventory_snapshot_date ON dw.fact_inventory_snapshot (snapshot_date_key);
COMMENT ON TABLE dw.fact_inventory_snapshot IS 'Stock of one product at one location on one day. Grain: (source_key, snapshot_date_key, product_key, store_key); re-reading the same day replaces the row.';
COMMENT ON COLUMN dw.fact_inventory_snapshot.inventory_snapshot_key IS 'Surrogate key.';
COMMENT ON COLUMN dw.fact_inventory_snapshot.source_key IS 'Source (dw.dim_source); distribution column under Citus.';
COMMENT ON COLUMN dw.fact_inventory_snapshot.snapshot_date_key IS 'Day of the snapshot (dw.dim_date).';
COMMENT ON COLUMN dw.fact_inventory_snapshot.product_key IS 'Product (dw.dim_product).';
COMMENT ON COLUMN dw.fact_inventory_snapshot.store_key IS 'Store or warehouse (dw.dim_store); 0 = unknown.';
COMMENT ON COLUMN dw.fact_inventory_snapshot.on_hand IS 'Units physically in stock.';
COMMENT ON COLUMN dw.fact_inventory_snapshot.available IS 'Units available to sell.';
COMMENT ON COLUMN dw.fact_inventory_snapshot.reserved IS 'Units reserved for open orders.';
COMMENT ON COLUMN dw.fact_inventory_snapshot.on_order IS 'Units on purchase orders, not yet received.';
COMMENT ON COLUMN dw.fact_inventory_snapshot.unit_cost IS 'Cost per unit (average cost where the source reports one).';
COMMENT ON COLUMN dw.fact_inventory_snapshot.unit_price IS 'Selling price per unit at this location.';
COMMENT ON COLUMN dw.fact_inventory_snapshot.inventory_value IS 'Value of the stock as the source reports it.';
COMMENT ON COLUMN dw.fact_inventory_snapshot.captured_at IS 'When this state of stock was read (a re-read with equal figures keeps the earlier time).';
COMMENT ON COLUMN dw.fact_inventory_snapshot.loaded_at IS 'When the row last changed.';
COMMENT ON COLUMN dw.fact_inventory_snapshot.run_id IS 'etl.run that last changed the row.';

---------------------------------------------------------------------------------
-- Bookkeeping
---------------------------------------------------------------------------------

CREATE TABLE etl.run (
    run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status text NOT NULL DEFAULT 'running',
    version text,
    command_line text,
    host text,
    CONSTRAINT run_status CHECK (status IN ('running', 'succeeded', 'partial', 'failed'))
);
COMMENT ON TABLE etl.run IS 'One flowetl run (one process invocation of `flowetl run`).';
COMMENT ON COLUMN etl.run.run_id IS 'Run id; stamped into run_id of every row the run writes.';
COMMENT ON COLUMN etl.run.started_at IS 'When the run started.';
COMMENT ON COLUMN etl.run.finished_at IS 'When the run ended (NULL while running or after a crash).';
COMMENT ON COLUMN etl.run.status IS 'running, succeeded (every stream), partial (some streams failed), failed (none succeeded).';
COMMENT ON COLUMN etl.run.version IS 'flowetl version.';
COMMENT ON COLUMN etl.run.command_line IS 'Command line, without secrets.';
COMMENT ON COLUMN etl.run.host IS 'Host name of the machine that ran it.';

CREATE TABLE etl.run_stream (
    run_stream_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id bigint NOT NULL REFERENCES etl.run,
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    stream text NOT NULL,
    status text NOT NULL DEFAULT 'running',
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    pages bigint NOT NULL DEFAULT 0,
    records bigint NOT NULL DEFAULT 0,
    inserted bigint NOT NULL DEFAULT 0,
    updated bigint NOT NULL DEFAULT 0,
    unchanged bigint NOT NULL DEFAULT 0,
    deleted bigint NOT NULL DEFAULT 0,
    rejects bigint NOT NULL DEFAULT 0,
    requests bigint NOT NULL DEFAULT 0,
    retries bigint NOT NULL DEFAULT 0,
    http_429 bigint NOT NULL DEFAULT 0,
    bytes bigint NOT NULL DEFAULT 0,
    seconds numeric(12,3),
    error text,
    CONSTRAINT run_stream_status CHECK (status IN ('running', 'succeeded', 'failed'))
);
CREATE INDEX run_stream_run ON etl.run_stream (run_id);
CREATE INDEX run_stream_source_stream ON etl.run_stream (source_key, stream, started_at);
COMMENT ON TABLE etl.run_stream IS 'One stream of one run: what it read and wrote.';
COMMENT ON COLUMN etl.run_stream.run_stream_id IS 'Surrogate key.';
COMMENT ON COLUMN etl.run_stream.run_id IS 'The run (etl.run).';
COMMENT ON COLUMN etl.run_stream.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN etl.run_stream.stream IS 'Stream name, e.g. orders.';
COMMENT ON COLUMN etl.run_stream.status IS 'running, succeeded or failed.';
COMMENT ON COLUMN etl.run_stream.started_at IS 'When the stream started.';
COMMENT ON COLUMN etl.run_stream.finished_at IS 'When the stream ended.';
COMMENT ON COLUMN etl.run_stream.pages IS 'Response pages read.';
COMMENT ON COLUMN etl.run_stream.records IS 'Records parsed from responses.';
COMMENT ON COLUMN etl.run_stream.inserted IS 'Warehouse rows inserted by the merges.';
COMMENT ON COLUMN etl.run_stream.updated IS 'Warehouse rows changed by the merges.';
COMMENT ON COLUMN etl.run_stream.unchanged IS 'Rows read whose warehouse row was already equal.';
COMMENT ON COLUMN etl.run_stream.deleted IS 'Rows marked is_deleted (full reads, complete orders).';
COMMENT ON COLUMN etl.run_stream.rejects IS 'Records written to etl.reject.';
COMMENT ON COLUMN etl.run_stream.requests IS 'HTTP requests sent, retries included.';
COMMENT ON COLUMN etl.run_stream.retries IS 'HTTP requests retried.';
COMMENT ON COLUMN etl.run_stream.http_429 IS 'HTTP 429 (rate limited) responses.';
COMMENT ON COLUMN etl.run_stream.bytes IS 'Response body bytes received.';
COMMENT ON COLUMN etl.run_stream.seconds IS 'Wall-clock seconds the stream took.';
COMMENT ON COLUMN etl.run_stream.error IS 'One-line reason when the stream failed.';

CREATE TABLE etl.sync_state (
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    stream text NOT NULL,
    cursor jsonb,
    updated_at timestamptz NOT NULL DEFAULT now(),
    run_id bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (source_key, stream)
);
COMMENT ON TABLE etl.sync_state IS 'Resume point of each stream; written in the same transaction as the data it covers.';
COMMENT ON COLUMN etl.sync_state.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN etl.sync_state.stream IS 'Stream name, e.g. orders.';
COMMENT ON COLUMN etl.sync_state.cursor IS 'The stream''s cursor (shape owned by the source module), e.g. {"updated_from": "2026-01-01T00:00:00Z"}.';
COMMENT ON COLUMN etl.sync_state.updated_at IS 'When the cursor was last advanced.';
COMMENT ON COLUMN etl.sync_state.run_id IS 'etl.run that last advanced it.';

CREATE TABLE etl.reject (
    reject_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id bigint NOT NULL,
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    stream text NOT NULL,
    record_id text,
    reason text NOT NULL,
    raw text,
    raw_length integer,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reject_run ON etl.reject (run_id);
COMMENT ON TABLE etl.reject IS 'One record that could not be mapped; the run went on without it.';
COMMENT ON COLUMN etl.reject.reject_id IS 'Surrogate key.';
COMMENT ON COLUMN etl.reject.run_id IS 'The run (etl.run) that read the record.';
COMMENT ON COLUMN etl.reject.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN etl.reject.stream IS 'Stream name.';
COMMENT ON COLUMN etl.reject.record_id IS 'The record''s id at the source, when it could be read.';
COMMENT ON COLUMN etl.reject.reason IS 'Why it was rejected.';
COMMENT ON COLUMN etl.reject.raw IS 'The record as received, cut to 8 KiB; bytes that were not valid UTF-8 are shown as \xNN.';
COMMENT ON COLUMN etl.reject.raw_length IS 'Length in bytes of the record as received (before cutting).';
COMMENT ON COLUMN etl.reject.created_at IS 'When the reject was written.';

---------------------------------------------------------------------------------
-- Helpers used by the loader's merges
---------------------------------------------------------------------------------

CREATE FUNCTION dw.date_key(d date) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (extract(year FROM d) * 10000 + extract(month FROM d) * 100 + extract(day FROM d))::integer $$;
COMMENT ON FUNCTION dw.date_key(date) IS 'The dw.dim_date key of a date: YYYYMMDD as an integer (NULL for NULL).';

CREATE FUNCTION etl.ensure_dim_date(days date[], run bigint DEFAULT 0) RETURNS integer
LANGUAGE sql
AS $$
    WITH added AS (
        INSERT INTO dw.dim_date (date_key, date, year, quarter, month, month_name, day, day_name,
                                 iso_year, iso_week, iso_dow, is_weekend, run_id)
        SELECT dw.date_key(x.d), x.d, extract(year FROM x.d), extract(quarter FROM x.d),
               extract(month FROM x.d), to_char(x.d, 'FMMonth'), extract(day FROM x.d),
               to_char(x.d, 'FMDay'), extract(isoyear FROM x.d), extract(week FROM x.d),
               extract(isodow FROM x.d), extract(isodow FROM x.d) IN (6, 7), run
        FROM (SELECT DISTINCT u.d FROM unnest(days) AS u(d) WHERE u.d IS NOT NULL) AS x
        WHERE NOT EXISTS (SELECT 1 FROM dw.dim_date t WHERE t.date_key = dw.date_key(x.d))
        -- Ascending, so concurrent loads that add the same days wait for each other
        -- instead of deadlocking.
        ORDER BY x.d
        ON CONFLICT DO NOTHING
        RETURNING 1)
    SELECT count(*)::integer FROM added
$$;
COMMENT ON FUNCTION etl.ensure_dim_date(date[], bigint) IS 'Adds the missing dw.dim_date rows for the given days; returns how many were added.';

---------------------------------------------------------------------------------
-- Unknown members (key 0) and the calendar
---------------------------------------------------------------------------------

INSERT INTO dw.dim_source (source_key, system, account, name, timezone)
OVERRIDING SYSTEM VALUE VALUES (0, 'unknown', '', 'unknown', 'UTC');
INSERT INTO dw.dim_date (date_key, month_name, day_name) VALUES (0, 'unknown', 'unknown');
INSERT INTO dw.dim_store (store_key, source_key, kind, store_id, name)
OVERRIDING SYSTEM VALUE VALUES (0, 0, '', '', 'unknown');
INSERT INTO dw.dim_customer (customer_key, source_key, customer_id, name)
OVERRIDING SYSTEM VALUE VALUES (0, 0, '', 'unknown');
INSERT INTO dw.dim_category (category_key, source_key, category_id, name, parent_category_key, path)
OVERRIDING SYSTEM VALUE VALUES (0, 0, '', 'unknown', 0, 'unknown');
INSERT INTO dw.dim_product (product_key, source_key, product_id, name, category_key)
OVERRIDING SYSTEM VALUE VALUES (0, 0, '', 'unknown', 0);
INSERT INTO dw.fact_order (order_key, source_key, order_id, order_number)
OVERRIDING SYSTEM VALUE VALUES (0, 0, '', 'unknown');

SELECT etl.ensure_dim_date(ARRAY(SELECT generate_series(date '2000-01-01', date '2040-12-31',
                                                        interval '1 day')::date));
