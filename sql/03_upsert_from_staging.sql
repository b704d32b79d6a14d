-- Post-load upsert: insert or update the staged batch into the warehouse tables; nothing is
-- deleted here. Run inside ONE transaction together with the staging COPY by
-- retail_forecasting.warehouse.apply_staged, so a failure anywhere leaves the previous warehouse
-- contents intact. Idempotent: loading the same batch twice gives the same rows. A "mirror" load
-- then runs 04_delete_absent_from_staging.sql (after its deletions were counted and allowed);
-- an "incremental" load stops here. Dimension rows are upserted and never deleted: a store or
-- department stays a member of its dimension. apply_staged empties the staging tables after.

INSERT INTO retailds.dim_store (store_id, store_type, store_size)
SELECT store_id, store_type, store_size FROM retailds.stg_store
ON CONFLICT (store_id) DO UPDATE
SET store_type = EXCLUDED.store_type, store_size = EXCLUDED.store_size;

INSERT INTO retailds.dim_dept (dept_id)
SELECT DISTINCT dept_id FROM retailds.stg_sales_weekly
ON CONFLICT (dept_id) DO NOTHING;

INSERT INTO retailds.store_features_weekly (
    store_id, week_date, temperature, fuel_price, markdown1, markdown2, markdown3, markdown4,
    markdown5, cpi, unemployment, is_holiday
)
SELECT
    store_id, week_date, temperature, fuel_price, markdown1, markdown2, markdown3, markdown4,
    markdown5, cpi, unemployment, is_holiday
FROM retailds.stg_store_features_weekly
ON CONFLICT (store_id, week_date) DO UPDATE
SET temperature = EXCLUDED.temperature, fuel_price = EXCLUDED.fuel_price,
    markdown1 = EXCLUDED.markdown1, markdown2 = EXCLUDED.markdown2,
    markdown3 = EXCLUDED.markdown3, markdown4 = EXCLUDED.markdown4,
    markdown5 = EXCLUDED.markdown5, cpi = EXCLUDED.cpi,
    unemployment = EXCLUDED.unemployment, is_holiday = EXCLUDED.is_holiday;

INSERT INTO retailds.fact_sales_weekly (store_id, dept_id, week_date, weekly_sales, is_holiday)
SELECT store_id, dept_id, week_date, weekly_sales, is_holiday FROM retailds.stg_sales_weekly
ON CONFLICT (store_id, dept_id, week_date) DO UPDATE
SET weekly_sales = EXCLUDED.weekly_sales, is_holiday = EXCLUDED.is_holiday;
