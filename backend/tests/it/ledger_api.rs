//! `POST /api/v1/dca/run`, `POST /api/v1/snapshots/run`, `GET /api/v1/net-worth`, on both
//! backends, through the router with its token middleware.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::{TestApp, TestDb};

async fn create(app: &TestApp, table: &str, body: Value) -> Value {
    let (status, row) = app
        .call("POST", &format!("/api/v1/{table}"), Some(&body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{table}: {row}");
    row
}

#[tokio::test]
async fn dca_run_creates_due_operations_once() {
    for db in TestDb::each("dca_run_creates_due_operations_once") {
        let b = db.name();
        let app = TestApp::new(db);
        let plan = create(
            &app,
            "dca_plans",
            json!({
            "plan_name": "weekly", "platform": "Alipay", "asset_code": "110011", "amount": "200",
            "currency": "CNY", "frequency": "weekly", "status": "active", "frequency_value": null,
            "start_date": "2026-01-05", "end_date": null, "last_executed_date": null,
            "fee_rate": "0.001", "asset_type": "fund", "exclude_dates": "[\"2026-01-12\"]"}),
        )
        .await;
        let (status, report) = app
            .call("POST", "/api/v1/dca/run?as_of=2026-01-20", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{b}: {report}");
        assert_eq!(report["plans_seen"], 1, "{b}");
        let created = report["created"].as_array().unwrap();
        let dates: Vec<&str> = created
            .iter()
            .map(|c| c["date"].as_str().unwrap())
            .collect();
        assert_eq!(dates, ["2026-01-05", "2026-01-19"], "{b}");
        assert_eq!(
            (created[0]["amount"].as_str(), created[0]["fee"].as_str()),
            (Some("200"), Some("0.2")),
            "{b}"
        );
        assert_eq!(created[0]["plan_id"], plan["id"], "{b}");
        assert_eq!(created[0]["quantity"], Value::Null, "{b}");

        let (status, again) = app
            .call("POST", "/api/v1/dca/run?as_of=2026-01-20", None)
            .await;
        assert_eq!(
            (status, again["created"].as_array().map(Vec::len)),
            (StatusCode::OK, Some(0)),
            "{b}"
        );
        assert_eq!(app.counts()["user_operations"], 2, "{b}");
        let (status, plan) = app
            .call("GET", &format!("/api/v1/dca_plans/{}", plan["id"]), None)
            .await;
        assert_eq!(
            (status, plan["last_executed_date"].as_str()),
            (StatusCode::OK, Some("2026-01-19")),
            "{b}"
        );

        let (status, bad) = app
            .call("POST", "/api/v1/dca/run?as_of=2026-13-01", None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{b}: {bad}");
        let (status, _) = app
            .call_raw("POST", "/api/v1/dca/run", None, None, false)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}");
    }
}

#[tokio::test]
async fn snapshots_run_values_holdings_and_net_worth_reads_them() {
    for db in TestDb::each("snapshots_run_values_holdings_and_net_worth_reads_them") {
        let b = db.name();
        let app = TestApp::new(db);
        // Positions count from their creation (now), so value a day after it.
        let day = "2099-01-01";
        create(
            &app,
            "asset_positions",
            json!({
            "platform": "IBKR", "asset_type": "stock", "asset_code": "AAPL", "asset_name": null,
            "currency": "USD", "quantity": "3", "avg_cost": null, "current_price": "101.01",
            "market_value": null}),
        )
        .await;
        create(
            &app,
            "asset_positions",
            json!({
            "platform": "Alipay", "asset_type": "fund", "asset_code": "110011", "asset_name": null,
            "currency": "CNY", "quantity": "10", "avg_cost": null, "current_price": null,
            "market_value": "12.34"}),
        )
        .await;

        let path = format!("/api/v1/snapshots/run?date={day}");
        let (status, missing) = app.call("POST", &path, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {missing}");
        let message = missing["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("USD→CNY") && message.contains(day),
            "{b}: {message}"
        );
        assert_eq!(app.counts()["asset_snapshots"], 0, "{b}");

        create(
            &app,
            "exchange_rate_snapshots",
            json!({
            "snapshot_date": "2098-12-31", "snapshot_time": "2098-12-31T08:00:00",
            "from_currency": "USD", "to_currency": "CNY", "rate": "7.2", "source": null}),
        )
        .await;
        let (status, report) = app.call("POST", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{b}: {report}");
        // 3 × 101.01 × 7.2 = 2181.816 → 2181.82; plus 12.34.
        assert_eq!(
            (report["rows_written"].as_u64(), report["total"].as_str()),
            (Some(2), Some("2194.16")),
            "{b}"
        );

        let (status, worth) = app
            .call(
                "GET",
                "/api/v1/net-worth?from=2098-12-01&to=2099-01-31",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{b}: {worth}");
        let want = json!({"base_currency": "CNY", "from": "2098-12-01", "to": "2099-01-31", "days": [
            {"date": day, "total": "2194.16", "by_platform": {"Alipay": "12.34", "IBKR": "2181.82"},
             "by_currency": {"CNY": "12.34", "USD": "2181.82"}}]});
        assert_eq!(worth, want, "{b}");

        let (status, default) = app.call("GET", "/api/v1/net-worth", None).await;
        assert_eq!(status, StatusCode::OK, "{b}: {default}");
        assert_eq!(default["days"], json!([]), "{b}");
        let (status, bad) = app
            .call(
                "GET",
                "/api/v1/net-worth?from=2099-02-01&to=2099-01-01",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{b}: {bad}");
        let (status, bad) = app
            .call("GET", "/api/v1/net-worth?from=yesterday", None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{b}: {bad}");

        let (_, doc) = app.call("GET", "/openapi.json", None).await;
        for path in [
            "/api/v1/dca/run",
            "/api/v1/snapshots/run",
            "/api/v1/net-worth",
        ] {
            assert!(
                doc["paths"].get(path).is_some(),
                "{b}: {path} is not documented"
            );
        }
    }
}
