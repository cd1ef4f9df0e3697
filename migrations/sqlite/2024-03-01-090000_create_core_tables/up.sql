-- Alembic revision base: create_core_tables (the initial schema)
CREATE TABLE fund_info (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    fund_code TEXT NOT NULL,
    fund_name TEXT NOT NULL,
    fund_type TEXT,
    currency TEXT NOT NULL DEFAULT 'CNY',
    nav TEXT,
    nav_date DATE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_fund_info_fund_code UNIQUE (fund_code)
);

CREATE TABLE asset_positions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    platform TEXT NOT NULL,
    asset_type TEXT NOT NULL,
    asset_code TEXT NOT NULL,
    asset_name TEXT,
    currency TEXT NOT NULL,
    quantity TEXT NOT NULL,
    avg_cost TEXT,
    current_price TEXT,
    market_value TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE dca_plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    plan_name TEXT NOT NULL,
    platform TEXT NOT NULL,
    asset_code TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    frequency TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE user_operations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    operation_date DATE NOT NULL,
    platform TEXT NOT NULL,
    asset_code TEXT NOT NULL,
    operation_type TEXT NOT NULL,
    quantity TEXT,
    price TEXT,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    fee TEXT,
    notes TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_user_operations_operation_date ON user_operations (operation_date);

CREATE TABLE system_config (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    config_key TEXT NOT NULL,
    config_value TEXT NOT NULL,
    description TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_system_config_config_key UNIQUE (config_key)
);

-- Default settings the application reads at startup.
INSERT INTO system_config (config_key, config_value, description) VALUES
    ('base_currency', 'CNY', 'Base currency that holdings and snapshots are valued in'),
    ('snapshot_timezone', 'Asia/Shanghai', 'Time zone that decides the calendar date of daily snapshots'),
    ('default_dca_fee_rate', '0.0015', 'Fee rate applied to DCA purchases when a plan sets none (0.15%)');
