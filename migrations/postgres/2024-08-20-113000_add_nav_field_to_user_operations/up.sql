-- Alembic revision 843fdae84b37: add_nav_field_to_user_operations
-- Net asset value per unit at which a fund operation was executed.
ALTER TABLE user_operations ADD COLUMN nav NUMERIC(38,18);
