-- Mirror step of a load (mode `mirror`, the default): delete the facts and store-week features
-- absent from the staged batch, so the warehouse holds exactly the latest validated batch.
-- Run by retail_forecasting.warehouse.apply_staged after 03_upsert_from_staging.sql, in the same
-- transaction, and only after it counted these rows and checked them against the load policy
-- (an empty batch, more than `max_delete_share` of a table or every row of a store is refused
-- unless `allow_shrink`). Never run it on its own with empty staging tables: it would empty
-- the warehouse.

DELETE FROM retailds.fact_sales_weekly AS t
WHERE NOT EXISTS (
    SELECT 1 FROM retailds.stg_sales_weekly AS s
    WHERE s.store_id = t.store_id AND s.dept_id = t.dept_id AND s.week_date = t.week_date
);

DELETE FROM retailds.store_features_weekly AS t
WHERE NOT EXISTS (
    SELECT 1 FROM retailds.stg_store_features_weekly AS s
    WHERE s.store_id = t.store_id AND s.week_date = t.week_date
);
