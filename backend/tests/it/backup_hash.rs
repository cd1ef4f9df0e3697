//! The fast content hash (lines the database writes itself, `data_safety::hash_sql`) equals
//! the canonical hash read through the models, table by table, on both backends, on awkward
//! data: NULLs, long and negative decimals, unicode, quotes, backslashes and control
//! characters, timestamps with and without fractions; on SQLite also decimals and timestamps
//! stored in other spellings. The export lines the database writes read back as the model's
//! rows. And it still sees a changed value and a lost row; what only the model can read
//! (PostgreSQL BC dates, infinity) falls back to it.

use db_conn::DbConnection;
use diesel::connection::SimpleConnection;
use pf_data::models::visit_all;
use pf_data::resource::{Resource, ResourceVisitor};

use crate::backup_util::fill;
use crate::support::TestDb;

/// Every table's (fast, model) digests.
fn both(conn: &mut DbConnection) -> Vec<(&'static str, String, String)> {
    struct Compare<'a> {
        conn: &'a mut DbConnection,
        out: Vec<(&'static str, String, String)>,
    }
    impl ResourceVisitor for Compare<'_> {
        fn visit<R: Resource>(&mut self) {
            let fast = data_safety::hash_sql::digest::<R>(self.conn)
                .unwrap_or_else(|| panic!("{}: the fast hash could not read it", R::TABLE));
            let model = data_safety::hash::digest_of::<R>(self.conn).unwrap();
            assert_eq!(fast.rows, model.rows, "{}", R::TABLE);
            assert_eq!(
                exported::<R>(self.conn),
                serialized::<R>(self.conn),
                "{}: the export lines the database writes are the model's rows",
                R::TABLE
            );
            self.out
                .push((R::TABLE, fast.sha256.unwrap(), model.sha256.unwrap()));
        }
    }
    let mut compare = Compare {
        conn,
        out: Vec::new(),
    };
    visit_all(&mut compare);
    compare.out
}

/// The rows of `R` as the export lines the database writes, read back by serde.
fn exported<R: Resource>(conn: &mut DbConnection) -> Vec<String> {
    let mut rows = Vec::new();
    let read = data_safety::hash_sql::for_each_row::<R, ()>(conn, true, |_, export| {
        let row: R = serde_json::from_str(export.unwrap()).unwrap();
        rows.push(serde_json::to_string(&row).unwrap());
        Ok(())
    });
    assert!(
        read.is_ok(),
        "{}: the export lines could not be read",
        R::TABLE
    );
    rows
}

/// The rows of `R` read through the model, as serde writes them.
fn serialized<R: Resource>(conn: &mut DbConnection) -> Vec<String> {
    let mut rows = Vec::new();
    data_safety::hash::for_each_page::<R, diesel::result::Error>(conn, |page| {
        rows.extend(page.iter().map(|r| serde_json::to_string(r).unwrap()));
        Ok(())
    })
    .unwrap();
    rows
}

fn awkward(conn: &mut DbConnection, sqlite: bool) {
    conn.batch_execute(
        "INSERT INTO fund_info (fund_code, fund_name, fund_type, currency, nav, nav_date) VALUES \
         ('AWK1', 'tab\there, newline\nthere, quote \" backslash \\ bell \u{7} unit \u{1f} del \u{7f} ünï 中文 😀', NULL, 'USD', -98765432109876543210.000000000000000001, '2024-02-29'), \
         ('AWK2', '', 'x', 'EUR', 0, NULL), \
         ('AWK3', '/slash/ and \u{2028}', NULL, 'CNY', -0.5, '0001-01-01'), \
         ('AWK6', 'exact', NULL, 'USD', '-98765432109876543210.000000000000000001', '9999-12-31')",
    )
    .unwrap();
    if sqlite {
        // Spellings the column types read but our writes never produce.
        conn.batch_execute(
            "UPDATE fund_info SET nav = '1.50' WHERE fund_code = 'AWK2'; \
             INSERT INTO fund_info (fund_code, fund_name, currency, nav, created_at, updated_at) VALUES \
             ('AWK4', 'spelled', 'USD', ' 0010.0100 ', '2025-01-10 16:30:05', '2025-01-10T16:30:05.123456789'), \
             ('AWK5', 'real', 'USD', 2.25, '2025-01-10 16:30:05.1', '2025-01-10 16:30:05.000001')",
        )
        .unwrap();
    }
}

#[test]
fn the_fast_hash_equals_the_model_hash_and_sees_every_change() {
    for db in TestDb::each("fast_hash_equals_model_hash") {
        let b = db.name();
        let mut conn = db.migrated();
        fill(&mut conn, 3, 0);
        awkward(&mut conn, b == "sqlite");
        let before = both(&mut conn);
        for (table, fast, model) in &before {
            assert_eq!(fast, model, "{b}: {table}");
        }
        let sha = |all: &[(&str, String, String)], t: &str| {
            all.iter().find(|(n, _, _)| *n == t).unwrap().1.clone()
        };
        conn.batch_execute("UPDATE fund_info SET nav = 7.5 WHERE fund_code = 'AWK2'")
            .unwrap();
        let changed = both(&mut conn);
        assert_ne!(
            sha(&before, "fund_info"),
            sha(&changed, "fund_info"),
            "{b}: a changed value"
        );
        conn.batch_execute("DELETE FROM fund_info WHERE fund_code = 'AWK3'")
            .unwrap();
        let lost = both(&mut conn);
        assert_ne!(
            sha(&changed, "fund_info"),
            sha(&lost, "fund_info"),
            "{b}: a lost row"
        );
        for (table, fast, model) in &lost {
            assert_eq!(fast, model, "{b}: {table}");
        }
    }
}

#[test]
fn a_value_the_column_type_cannot_read_falls_back_to_the_model() {
    use pf_data::models::FundInfo;
    for db in TestDb::each("fast_hash_unreadable") {
        let sqlite = db.name() == "sqlite";
        let mut conn = db.migrated();
        fill(&mut conn, 1, 0);
        let unreadable = |conn: &mut DbConnection, update: &str| {
            conn.batch_execute(&format!("UPDATE fund_info SET {update}"))
                .unwrap();
            let digest = data_safety::hash_sql::digest::<FundInfo>(conn);
            assert!(digest.is_none(), "{update}: {digest:?}");
            let export =
                data_safety::hash_sql::for_each_row::<FundInfo, ()>(conn, true, |_, _| Ok(()));
            assert!(export.is_err(), "{update}: the export lines were read");
            // What the fast read leaves, the model reads (or reports) exactly as before.
            let model = data_safety::hash::digest_of::<FundInfo>(conn).ok();
            assert_eq!(
                data_safety::hash::digest_fast::<FundInfo>(conn).ok(),
                model,
                "{update}"
            );
        };
        if !sqlite {
            // Dates to_char spells otherwise than chrono: the model decides.
            unreadable(&mut conn, "nav_date = '0044-03-15 BC'");
            unreadable(&mut conn, "nav_date = NULL, created_at = 'infinity'");
            unreadable(&mut conn, "created_at = '10000-01-01 00:00:00'");
            continue;
        }
        // Each spelled as diesel writes its type, but not a real value of it.
        unreadable(&mut conn, "nav_date = '2024-02-30'");
        unreadable(
            &mut conn,
            "nav_date = NULL, created_at = '2024-02-30 10:00:00'",
        );
        unreadable(&mut conn, "created_at = '2024-01-01 24:00:00.5'");
        unreadable(
            &mut conn,
            "created_at = '2024-01-01 10:00:00', nav = 'not a number'",
        );
    }
}
