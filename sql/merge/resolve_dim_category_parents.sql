-- Points every category of the source at its parent by id.
UPDATE dw.dim_category c SET parent_category_key = x.parent_key, loaded_at = now(),
run_id = $2 FROM (SELECT c2.category_key, coalesce(p.category_key, 0) AS parent_key
 FROM dw.dim_category c2 LEFT JOIN dw.dim_category p
  ON p.source_key = $1 AND p.category_id = c2.parent_category_id
 WHERE c2.source_key = $1) x
WHERE c.source_key = $1 AND c.category_key = x.category_key AND c.parent_category_key <> x.parent_key
