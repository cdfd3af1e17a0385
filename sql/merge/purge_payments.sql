-- Rows of the records PostgreSQL refused (stg_drop), taken out of staging before the
-- merge, so one bad record is one reject and never half a record: an order ('o') goes
-- with its lines and payments, a payment without order ('p') with its copies, a recipe
-- ('c') with every component of its parent.
DELETE FROM stg_payment WHERE order_id IN (SELECT id
FROM stg_drop WHERE kind = 'o')
OR payment_id IN (SELECT id FROM stg_drop WHERE kind = 'p')
