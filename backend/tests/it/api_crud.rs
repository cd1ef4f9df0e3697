//! Create, read, list, replace and delete through HTTP for every table, on both backends.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::samples::{self, DECIMALS};
use crate::support::{TestApp, TestDb};

/// Every field sent comes back exactly as sent.
fn assert_echoes(table: &str, sent: &Value, got: &Value) {
    for (field, value) in sent.as_object().expect("object") {
        assert_eq!(
            &got[field], value,
            "{table}.{field}: sent {value}, got {}",
            got[field]
        );
    }
}

#[tokio::test]
async fn every_table_round_trips_through_http() {
    for db in TestDb::each("every_table_round_trips_through_http") {
        let backend = db.name();
        let app = TestApp::new(db);
        let tables = samples::tables();
        assert_eq!(
            tables.len(),
            pf_data::models::table_names().len(),
            "every table"
        );
        let before = app.counts();
        let mut ids: HashMap<&'static str, i64> = HashMap::new();

        for (variant, table) in tables.iter().enumerate() {
            let base = format!("/api/v1/{}", table.name);
            let sent = samples::input(table, if variant % 2 == 0 { 0 } else { 2 }, &ids);
            let (status, created) = app.call("POST", &base, Some(&sent)).await;
            assert_eq!(
                status,
                StatusCode::CREATED,
                "{backend} create {}: {created}",
                table.name
            );
            assert_echoes(table.name, &sent, &created);
            let id = created["id"].as_i64().expect("id");
            assert!(created["created_at"].is_string() && created["updated_at"].is_string());
            ids.insert(table.name, id);

            let (status, fetched) = app.call("GET", &format!("{base}/{id}"), None).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                fetched, created,
                "{backend} {}: GET differs from POST",
                table.name
            );

            let (status, page) = app.call("GET", &format!("{base}?limit=500"), None).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                page["total"],
                json!(before[table.name] + 1),
                "{backend} {}",
                table.name
            );
            assert!(page["items"].as_array().expect("items").contains(&created));

            // Replace with other values, nullable fields set to NULL.
            let replacement = samples::input(table, 1, &ids);
            let (status, replaced) = app
                .call("PUT", &format!("{base}/{id}"), Some(&replacement))
                .await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{backend} replace {}: {replaced}",
                table.name
            );
            assert_echoes(table.name, &replacement, &replaced);
            assert_eq!(replaced["created_at"], created["created_at"]);
            let (_, fetched) = app.call("GET", &format!("{base}/{id}"), None).await;
            assert_eq!(fetched, replaced);
        }

        // Children first, so no delete is refused for being referenced.
        for table in tables.iter().rev() {
            let item = format!("/api/v1/{}/{}", table.name, ids[table.name]);
            let (status, body) = app.call("DELETE", &item, None).await;
            assert_eq!(
                status,
                StatusCode::NO_CONTENT,
                "{backend} delete {}: {body}",
                table.name
            );
            let (status, body) = app.call("GET", &item, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
            assert_eq!(body["error"]["code"], "not_found");
        }
        assert_eq!(
            app.counts(),
            before,
            "{backend}: deleting everything restores the counts"
        );
    }
}

#[tokio::test]
async fn decimals_come_back_exactly_as_sent() {
    for db in TestDb::each("decimals_come_back_exactly_as_sent") {
        let backend = db.name();
        let app = TestApp::new(db);
        for value in
            DECIMALS
                .iter()
                .chain(&["-42.5", "0", "99999999999999999999.999999999999999999"])
        {
            let body = json!({
                "currency": "USDT", "available": value, "frozen": value, "total": value,
                "usd_value": value, "update_time": "2025-01-31T00:00:00", "sync_cursor": null, "last_synced_at": null
            });
            let (status, row) = app.call("POST", "/api/v1/okx_balances", Some(&body)).await;
            assert_eq!(status, StatusCode::CREATED, "{backend} {value}: {row}");
            for field in ["available", "frozen", "total", "usd_value"] {
                assert_eq!(row[field], json!(value), "{backend}: {field} sent {value}");
            }
            let (_, again) = app
                .call("GET", &format!("/api/v1/okx_balances/{}", row["id"]), None)
                .await;
            assert_eq!(
                again["available"],
                json!(value),
                "{backend}: re-read of {value}"
            );
        }
        if let Some(path) = app.db.target.sqlite_path() {
            // Stored as text, never as a binary float.
            let out = std::process::Command::new("sqlite3")
                .arg(path)
                .arg("SELECT DISTINCT typeof(available) FROM okx_balances")
                .output();
            match out {
                Ok(out) if out.status.success() => {
                    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "text")
                }
                _ => test_kit::skip_check(
                    "REQUIRE_TOOLS",
                    "the sqlite3 CLI is not installed: the storage class was not inspected",
                ),
            }
        }
    }
}

#[tokio::test]
async fn list_pages_and_filters_by_date() {
    for db in TestDb::each("list_pages_and_filters_by_date") {
        let backend = db.name();
        let app = TestApp::new(db);
        for day in 1..=9 {
            let body = json!({
                "snapshot_date": format!("2025-03-0{day}"), "snapshot_time": format!("2025-03-0{day}T08:00:00"),
                "from_currency": "USD", "to_currency": "CNY", "rate": format!("7.{day}"), "source": null
            });
            let (status, row) = app
                .call("POST", "/api/v1/exchange_rate_snapshots", Some(&body))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{row}");
        }
        let (_, page) = app
            .call(
                "GET",
                "/api/v1/exchange_rate_snapshots?limit=4&offset=2",
                None,
            )
            .await;
        assert_eq!(page["total"], 9, "{backend}");
        let rates: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rate"].as_str().unwrap())
            .collect();
        assert_eq!(rates, ["7.3", "7.4", "7.5", "7.6"], "{backend}");
        let (_, page) = app
            .call(
                "GET",
                "/api/v1/exchange_rate_snapshots?from=2025-03-03&to=2025-03-05",
                None,
            )
            .await;
        assert_eq!(page["total"], 3, "{backend}: from/to are inclusive days");
        assert_eq!(page["items"][0]["rate"], "7.3");
        // A timestamp column: `to` includes the whole day.
        let body = json!({"total_equity_usd": "1", "available_balance_usd": null, "unrealized_pnl_usd": null,
                          "account_level": null, "snapshot_time": "2025-03-05T23:59:59.999999"});
        app.call("POST", "/api/v1/okx_account_overview", Some(&body))
            .await;
        let (_, page) = app
            .call("GET", "/api/v1/okx_account_overview?to=2025-03-05", None)
            .await;
        assert_eq!(page["total"], 1, "{backend}");
        let (_, page) = app
            .call("GET", "/api/v1/okx_account_overview?from=2025-03-06", None)
            .await;
        assert_eq!(page["total"], 0, "{backend}");
    }
}
