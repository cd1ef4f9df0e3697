//! Valid inputs for every table, built from each resource's field list, so a table added to
//! the models is covered without editing the tests.

use std::collections::HashMap;

use pf_data::models::visit_all;
use pf_data::resource::{FieldKind, FieldSpec, Resource, ResourceVisitor};
use serde_json::{json, Map, Value};

pub const DECIMALS: [&str; 3] = [
    "0.1",
    "0.000000000000000001",
    "123456789012345678.123456789012",
];

pub struct Table {
    pub name: &'static str,
    pub fields: Vec<FieldSpec>,
}

/// Every table, parents before children.
pub fn tables() -> Vec<Table> {
    struct Collect(Vec<Table>);
    impl ResourceVisitor for Collect {
        fn visit<R: Resource>(&mut self) {
            self.0.push(Table {
                name: R::TABLE,
                fields: R::fields(),
            });
        }
    }
    let mut c = Collect(Vec::new());
    visit_all(&mut c);
    c.0
}

/// Foreign-key columns and the table they point to.
pub fn parent_of(field: &str) -> Option<&'static str> {
    match field {
        "fund_id" => Some("fund_info"),
        "ibkr_account_id" => Some("ibkr_accounts"),
        "dca_plan_id" => Some("dca_plans"),
        _ => None,
    }
}

/// A valid row for `table`. `variant` changes every value so a replace is visible;
/// `ids` holds the ids of parent rows already created.
pub fn input(table: &Table, variant: usize, ids: &HashMap<&'static str, i64>) -> Value {
    let mut row = Map::new();
    for f in &table.fields {
        let value = if let Some(parent) = parent_of(f.name) {
            json!(ids[parent])
        } else if variant == 1 && f.nullable {
            Value::Null
        } else {
            value_for(table.name, f, variant)
        };
        row.insert(f.name.to_owned(), value);
    }
    Value::Object(row)
}

fn value_for(table: &str, f: &FieldSpec, variant: usize) -> Value {
    let name = f.name;
    match (table, name) {
        (_, n) if n == "currency" || n.ends_with("_currency") => json!(["USD", "CNY"][variant % 2]),
        ("dca_plans", "frequency") => json!(["monthly", "weekly"][variant % 2]),
        ("dca_plans", "status") => json!(["active", "paused"][variant % 2]),
        ("dca_plans", "exclude_dates") => json!("[\"2025-02-01\",\"2025-03-01\"]"),
        ("dca_plans", "fee_rate") => json!(["0.0015", "0.001"][variant % 2]),
        ("user_operations", "operation_type") => json!(["buy", "sell"][variant % 2]),
        _ => match f.kind {
            FieldKind::Text => json!(format!("{name} v{variant} — ünïcødé 中文 \"quoted\"")),
            FieldKind::Decimal => json!(DECIMALS[variant % DECIMALS.len()]),
            FieldKind::Integer => json!(7 + variant as i64),
            FieldKind::Bool => json!(variant.is_multiple_of(2)),
            FieldKind::Date => json!(format!("2025-01-{:02}", 10 + variant)),
            FieldKind::DateTime => json!(format!("2025-01-{:02}T16:30:05.123456", 10 + variant)),
        },
    }
}
