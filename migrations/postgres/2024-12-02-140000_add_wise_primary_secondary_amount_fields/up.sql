-- Alembic revision ff5423642f10: add_wise_primary_secondary_amount_fields
-- The two legs of a Wise conversion: primary (source) and secondary (target) amount.
ALTER TABLE wise_transactions ADD COLUMN primary_amount NUMERIC(38,18);
ALTER TABLE wise_transactions ADD COLUMN primary_currency TEXT;
ALTER TABLE wise_transactions ADD COLUMN secondary_amount NUMERIC(38,18);
ALTER TABLE wise_transactions ADD COLUMN secondary_currency TEXT;
