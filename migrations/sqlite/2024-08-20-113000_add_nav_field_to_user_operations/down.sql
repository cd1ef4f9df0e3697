-- Reverts Alembic revision 843fdae84b37: add_nav_field_to_user_operations
ALTER TABLE user_operations DROP COLUMN nav;
