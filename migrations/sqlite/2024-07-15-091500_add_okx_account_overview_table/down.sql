-- Reverts Alembic revision 033880ebf93b: add_okx_account_overview_table
DROP TABLE okx_account_overview;
