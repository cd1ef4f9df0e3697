//! `/health` and `/health/data`, and the OpenAPI document against the real routes.

use axum::http::StatusCode;
use serde_json::json;

use crate::samples;
use crate::support::{TestApp, TestDb};

#[tokio::test]
async fn health_data_reports_counts_migrations_and_storage() {
    for db in TestDb::each("health_data_reports_counts_migrations_and_storage") {
        let backend = db.name();
        let location = db
            .target
            .sqlite_path()
            .map(|p| std::path::absolute(p).unwrap().display().to_string());
        let app = TestApp::new(db);
        let (status, report) = app.call("GET", "/health/data", None).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["status"], "ok");
        assert_eq!(
            report["has_data"],
            json!(false),
            "{backend}: seeded config rows are not user data"
        );
        assert_eq!(
            report["tables"].as_object().unwrap().len(),
            pf_data::models::table_names().len()
        );
        assert_eq!(
            report["tables"]["system_config"], 3,
            "{backend}: migration 1 seeds three settings"
        );
        assert_eq!(
            report["migrations"]["applied"].as_array().unwrap().len(),
            pf_data::migrations::embedded(db_conn::Backend::Sqlite)
                .migrations
                .len()
        );
        assert_eq!(report["migrations"]["pending"], json!([]));
        assert_eq!(report["storage"]["backend"], backend);
        if let Some(location) = location {
            assert_eq!(report["storage"]["location"], json!(location));
        }

        let body = json!({"wallet_address": "0xabc", "chain": "eth", "total_value_usd": "12.5", "update_time": "2025-01-01T00:00:00"});
        assert_eq!(
            app.call("POST", "/api/v1/web3_balances", Some(&body))
                .await
                .0,
            StatusCode::CREATED
        );
        let (_, report) = app.call("GET", "/health/data", None).await;
        assert_eq!(report["has_data"], json!(true));
        assert_eq!(report["tables"]["web3_balances"], 1);
        assert_eq!(report["total_rows"], 4);
    }
}

#[tokio::test]
async fn openapi_document_matches_the_routes() {
    let app = TestApp::new(TestDb::sqlite());
    let (status, doc) = app.call("GET", "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    // Every documented operation is routed (the fallback's "no such route" never answers)...
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "1");
            let body = (method == "post" || method == "put").then(|| json!({}));
            let (status, body) = app
                .call(&method.to_uppercase(), &concrete, body.as_ref())
                .await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !body["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("no such route"),
                "{method} {path} is documented but not routed"
            );
        }
    }
    // ...and every table's five operations are documented with both schemas.
    for table in samples::tables() {
        let collection = &paths[&format!("/api/v1/{}", table.name)];
        let item = &paths[&format!("/api/v1/{}/{{id}}", table.name)];
        assert!(
            collection["get"].is_object() && collection["post"].is_object(),
            "{}",
            table.name
        );
        assert!(item["get"].is_object() && item["put"].is_object() && item["delete"].is_object());
        let input = &doc["components"]["schemas"][format!("{}_input", table.name)];
        assert_eq!(
            input["properties"].as_object().unwrap().len(),
            table.fields.len(),
            "{}",
            table.name
        );
        assert_eq!(input["additionalProperties"], false);
    }
    // The tables, /health, /health/data, /openapi.json, the two admin endpoints, the three
    // ledger jobs and the two import routes.
    assert_eq!(
        paths.len(),
        pf_data::models::table_names().len() * 2 + 5 + 3 + 2
    );
    for path in [
        "/api/v1/dca/run",
        "/api/v1/snapshots/run",
        "/api/v1/net-worth",
        "/api/v1/imports",
        "/api/v1/imports/{source}",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    assert_eq!(paths["/health"]["get"]["security"], json!([]));
}
