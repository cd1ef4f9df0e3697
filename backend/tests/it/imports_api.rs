//! `POST /api/v1/imports/{source}` and `GET /api/v1/imports`, on both backends.

use axum::http::StatusCode;
use serde_json::Value;

use crate::support::{TestApp, TestDb, TOKEN};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../crates/statements/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn post(app: &TestApp, source: &str, body: String) -> (StatusCode, Value) {
    app.call_raw(
        "POST",
        &format!("/api/v1/imports/{source}"),
        Some(body),
        Some(TOKEN),
        false,
    )
    .await
}

#[tokio::test]
async fn import_answers_the_report_and_lists_runs_newest_first() {
    for db in TestDb::each("import_answers_the_report") {
        let b = db.name();
        let app = TestApp::new(db);
        let (status, first) = post(&app, "ibkr", fixture("ibkr_flex.xml")).await;
        assert_eq!(status, StatusCode::OK, "{b}: {first}");
        assert_eq!(
            (first["source"].as_str(), first["added"].as_u64()),
            (Some("ibkr"), Some(8)),
            "{b}"
        );
        assert_eq!(first["per_table"]["user_operations"]["added"], 2, "{b}");
        let (status, again) = post(&app, "IBKR", fixture("ibkr_flex.xml")).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert_eq!(
            (again["added"].as_u64(), again["skipped"].as_u64()),
            (Some(0), Some(8)),
            "{b}"
        );
        let (status, wise) = post(&app, "wise", fixture("wise_statement.csv")).await;
        assert_eq!(
            (status, wise["added"].as_u64()),
            (StatusCode::OK, Some(4)),
            "{b}: {wise}"
        );

        let (status, listed) = app.call("GET", "/api/v1/imports?limit=2", None).await;
        assert_eq!(status, StatusCode::OK, "{b}: {listed}");
        let runs = listed["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2, "{b}");
        assert_eq!(runs[0]["id"], wise["run_id"], "{b}: newest first");
        assert_eq!(runs[1]["id"], again["run_id"], "{b}");
        let mut keys: Vec<_> = runs[0].as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "added",
                "error",
                "file_sha256",
                "finished_at",
                "id",
                "skipped",
                "source",
                "started_at",
                "status",
                "updated"
            ],
            "{b}"
        );
        assert_eq!(runs[1]["file_sha256"], first["file_sha256"], "{b}");
        assert_eq!(
            (runs[0]["status"].as_str(), runs[0]["source"].as_str()),
            (Some("ok"), Some("wise"))
        );
    }
}

#[tokio::test]
async fn malformed_file_is_422_and_writes_nothing() {
    for db in TestDb::each("malformed_file_is_422") {
        let b = db.name();
        let app = TestApp::new(db);
        let before = app.counts();
        let truncated = fixture("ibkr_flex.xml");
        let cut = truncated.find("<Order ").unwrap();
        let (status, err) = post(&app, "ibkr", truncated[..cut].to_owned()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("IBKR Flex XML line") && message.contains("truncated"),
            "{message}"
        );
        assert!(!message.contains('\n'));
        let after = app.counts();
        for (table, n) in &before {
            let grew = i64::from(matches!(*table, "import_runs" | "ibkr_sync_logs"));
            assert_eq!(after[table], n + grew, "{b}: {table}");
        }
        let (_, listed) = app.call("GET", "/api/v1/imports", None).await;
        assert_eq!(listed["runs"][0]["status"], "failed", "{b}");
        assert_eq!(listed["runs"][0]["error"], message, "{b}");
    }
}

#[tokio::test]
async fn unknown_source_bad_limit_and_token_are_refused() {
    let app = TestApp::new(TestDb::sqlite());
    let (status, err) = post(&app, "paypal", "x".into()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("ibkr, wise, okx, evm"), "{message}");
    let (status, _) = app.call("GET", "/api/v1/imports?limit=0", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app
        .call_raw(
            "POST",
            "/api/v1/imports/wise",
            Some(fixture("wise_statement.csv")),
            None,
            false,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.counts()["wise_transactions"], 0);
}

#[tokio::test]
async fn statements_larger_than_the_api_body_limit_are_accepted() {
    let app = TestApp::new(TestDb::sqlite());
    // About 2 MiB of trades, twice the API's 1 MiB limit for JSON bodies.
    let base = fixture("ibkr_flex.xml");
    let trade_start = base.find("<Trade ").unwrap();
    let trade_end = trade_start + base[trade_start..].find("/>").unwrap() + 2;
    let trade = &base[trade_start..trade_end];
    let mut trades = String::new();
    for i in 0..3500 {
        trades.push_str(&trade.replace("tradeID=\"681234567\"", &format!("tradeID=\"T{i}\"")));
        trades.push('\n');
    }
    let body = format!("{}{trades}{}", &base[..trade_start], &base[trade_end..]);
    assert!(body.len() > backend::api::MAX_BODY_BYTES * 2);
    let (status, report) = post(&app, "ibkr", body).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["per_table"]["user_operations"]["added"], 3501);
}
