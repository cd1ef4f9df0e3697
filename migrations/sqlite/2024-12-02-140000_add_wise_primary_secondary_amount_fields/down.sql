-- Reverts Alembic revision ff5423642f10: add_wise_primary_secondary_amount_fields
ALTER TABLE wise_transactions DROP COLUMN secondary_currency;
ALTER TABLE wise_transactions DROP COLUMN secondary_amount;
ALTER TABLE wise_transactions DROP COLUMN primary_currency;
ALTER TABLE wise_transactions DROP COLUMN primary_amount;
