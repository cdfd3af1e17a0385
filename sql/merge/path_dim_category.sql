-- Paths from the roots down; recomputed for the whole source (categories are few) so
-- renaming a parent reaches every descendant. Categories in a parent cycle are never
-- reached and keep their last path.
WITH RECURSIVE tree (category_key, path, depth) AS (
SELECT c.category_key, coalesce(c.name, c.category_id), 1 FROM dw.dim_category c
 WHERE c.source_key = $1 AND c.parent_category_key = 0 AND c.category_key <> 0
UNION ALL
SELECT c.category_key, tree.path || ' / ' || coalesce(c.name, c.category_id),
 tree.depth + 1 FROM dw.dim_category c
 JOIN tree ON c.parent_category_key = tree.category_key
 WHERE c.source_key = $1 AND tree.depth < 100 AND c.category_key <> 0)
UPDATE dw.dim_category c SET path = tree.path, loaded_at = now(), run_id = $2 FROM tree
WHERE c.source_key = $1 AND c.category_key = tree.category_key
AND c.path IS DISTINCT FROM tree.path
