//! Row counts of this application's tables, and the rule for "holds user data".

use std::collections::BTreeMap;

use db_conn::DbConnection;

use crate::models::{visit_all, SEEDED_TABLES};
use crate::resource::{ListFilter, Resource, ResourceVisitor};

/// Row count of every table.
pub fn count_all(conn: &mut DbConnection) -> diesel::QueryResult<BTreeMap<&'static str, i64>> {
    struct Counter<'a> {
        conn: &'a mut DbConnection,
        counts: diesel::QueryResult<BTreeMap<&'static str, i64>>,
    }
    impl ResourceVisitor for Counter<'_> {
        fn visit<R: Resource>(&mut self) {
            if let Ok(counts) = &mut self.counts {
                match R::count(self.conn, &ListFilter::default()) {
                    Ok(n) => {
                        counts.insert(R::TABLE, n);
                    }
                    Err(e) => self.counts = Err(e),
                }
            }
        }
    }
    let mut counter = Counter {
        conn,
        counts: Ok(BTreeMap::new()),
    };
    visit_all(&mut counter);
    counter.counts
}

/// Rows beyond what the migrations seed (the rule `/health/data`'s `has_data` uses).
pub fn has_user_data(counts: &BTreeMap<&'static str, i64>) -> bool {
    counts
        .iter()
        .any(|(table, n)| *n > 0 && !SEEDED_TABLES.contains(table))
}
