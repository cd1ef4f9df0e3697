//! Bad input of every kind gets a 4xx JSON error saying what is wrong, never a 500, and
//! leaves the database as it was.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::{TestApp, TestDb, TOKEN};

fn fund(code: &str) -> Value {
    json!({"fund_code": code, "fund_name": "Example fund", "fund_type": null, "currency": "CNY",
           "nav": "1.2345", "nav_date": "2025-01-02"})
}

/// Collects every refusal that is not as expected, so one wrong case never hides the others.
struct Refusals {
    backend: &'static str,
    failures: Vec<String>,
}

impl Refusals {
    fn expect(&mut self, what: &str, got: (StatusCode, Value), status: StatusCode, needle: &str) {
        let backend = self.backend;
        let (code, body) = got;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        let problem = if code != status {
            Some(format!("status {code}, expected {status}: {body}"))
        } else if body["error"]["status"] != json!(status.as_u16()) {
            Some(format!(
                "no JSON error with status {}: {body}",
                status.as_u16()
            ))
        } else if !message.to_lowercase().contains(&needle.to_lowercase()) {
            Some(format!("message `{message}` does not mention `{needle}`"))
        } else {
            None
        };
        self.failures
            .extend(problem.map(|p| format!("{backend} {what}: {p}")));
    }
}

#[tokio::test]
async fn bad_inputs_are_refused_and_change_nothing() {
    for db in TestDb::each("bad_inputs_are_refused_and_change_nothing") {
        let backend = db.name();
        let app = TestApp::new(db);
        let (status, parent) = app
            .call("POST", "/api/v1/fund_info", Some(&fund("000001")))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let fund_id = parent["id"].as_i64().unwrap();
        let dividend = json!({"fund_id": fund_id, "ex_dividend_date": "2025-01-02", "payment_date": null,
                              "dividend_per_share": "0.05", "currency": "CNY"});
        assert_eq!(
            app.call("POST", "/api/v1/fund_dividends", Some(&dividend))
                .await
                .0,
            StatusCode::CREATED
        );
        let before = app.counts();
        let mut refusals = Refusals {
            backend,
            failures: Vec::new(),
        };
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;

        let mut unknown = fund("000002");
        unknown["surprise"] = json!(1);
        refusals.expect(
            "unknown field",
            app.call("POST", "/api/v1/fund_info", Some(&unknown)).await,
            unprocessable,
            "unknown field `surprise`",
        );

        let mut wrong_type = fund("000003");
        wrong_type["fund_name"] = json!(12);
        refusals.expect(
            "wrong type",
            app.call("POST", "/api/v1/fund_info", Some(&wrong_type))
                .await,
            unprocessable,
            "invalid type",
        );

        let mut missing = fund("000004");
        missing.as_object_mut().unwrap().remove("fund_name");
        refusals.expect(
            "missing field",
            app.call("POST", "/api/v1/fund_info", Some(&missing)).await,
            unprocessable,
            "missing field `fund_name`",
        );

        for (bad, needle) in [
            (json!("abc"), "not a decimal"),
            (json!("1e5"), "not a decimal"),
            (json!(1.5), "JSON string"),
            (json!("0.0000000000000000001"), "18 digits"),
            (json!("123456789012345678901"), "20 digits"),
        ] {
            let mut body = fund("000005");
            body["nav"] = bad.clone();
            refusals.expect(
                &format!("decimal {bad}"),
                app.call("POST", "/api/v1/fund_info", Some(&body)).await,
                unprocessable,
                needle,
            );
        }
        for bad in ["2025-13-01", "yesterday", "2025-02-30"] {
            let mut body = fund("000006");
            body["nav_date"] = json!(bad);
            refusals.expect(
                &format!("date {bad}"),
                app.call("POST", "/api/v1/fund_info", Some(&body)).await,
                unprocessable,
                "nav_date",
            );
        }
        let mut bad_currency = fund("000007");
        bad_currency["currency"] = json!("dollars");
        refusals.expect(
            "currency",
            app.call("POST", "/api/v1/fund_info", Some(&bad_currency))
                .await,
            unprocessable,
            "currency code",
        );

        let orphan = json!({"fund_id": 999_999, "ex_dividend_date": "2025-02-02", "payment_date": null,
                            "dividend_per_share": "0.05", "currency": "CNY"});
        refusals.expect(
            "missing parent",
            app.call("POST", "/api/v1/fund_dividends", Some(&orphan))
                .await,
            unprocessable,
            "referenced row does not exist",
        );
        let repoint = json!({"fund_id": 999_999, "ex_dividend_date": "2025-01-02", "payment_date": null,
                             "dividend_per_share": "0.05", "currency": "CNY"});
        let dividend_id =
            app.call("GET", "/api/v1/fund_dividends", None).await.1["items"][0]["id"].clone();
        refusals.expect(
            "re-point to missing parent",
            app.call(
                "PUT",
                &format!("/api/v1/fund_dividends/{dividend_id}"),
                Some(&repoint),
            )
            .await,
            unprocessable,
            "referenced row does not exist",
        );

        refusals.expect(
            "duplicate",
            app.call("POST", "/api/v1/fund_info", Some(&fund("000001")))
                .await,
            StatusCode::CONFLICT,
            "already has a row",
        );
        refusals.expect(
            "delete referenced",
            app.call("DELETE", &format!("/api/v1/fund_info/{fund_id}"), None)
                .await,
            StatusCode::CONFLICT,
            "still referenced",
        );

        for (method, body) in [
            ("GET", None),
            ("PUT", Some(fund("000008"))),
            ("DELETE", None),
        ] {
            refusals.expect(
                &format!("{method} missing id"),
                app.call(method, "/api/v1/fund_info/999999", body.as_ref())
                    .await,
                StatusCode::NOT_FOUND,
                "no row with id 999999",
            );
        }
        refusals.expect(
            "non-numeric id",
            app.call("GET", "/api/v1/fund_info/abc", None).await,
            StatusCode::BAD_REQUEST,
            "abc",
        );

        let dca = json!({"plan_name": "p", "platform": "alipay", "asset_code": "000001", "amount": "100", "currency": "CNY",
                         "frequency": "hourly", "status": "active", "frequency_value": null, "start_date": null, "end_date": null,
                         "last_executed_date": null, "fee_rate": null, "asset_type": "fund", "exclude_dates": null});
        refusals.expect(
            "DCA frequency",
            app.call("POST", "/api/v1/dca_plans", Some(&dca)).await,
            unprocessable,
            "frequency `hourly`",
        );

        let raw = |body: &str| Some(body.to_owned());
        refusals.expect(
            "malformed JSON",
            app.call_raw(
                "POST",
                "/api/v1/fund_info",
                raw("{\"fund_code\":"),
                Some(TOKEN),
                true,
            )
            .await,
            StatusCode::BAD_REQUEST,
            "",
        );
        refusals.expect(
            "no content type",
            app.call_raw(
                "POST",
                "/api/v1/fund_info",
                Some(fund("000009").to_string()),
                Some(TOKEN),
                false,
            )
            .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content-type",
        );
        let huge = json!({"fund_code": "x".repeat(2 * 1024 * 1024)}).to_string();
        refusals.expect(
            "oversized body",
            app.call_raw("POST", "/api/v1/fund_info", Some(huge), Some(TOKEN), true)
                .await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too large",
        );

        for query in [
            "limit=0",
            "limit=100000",
            "offset=-1",
            "from=2025-02-30",
            "from=2025-03-02&to=2025-03-01",
            "sort=id",
        ] {
            refusals.expect(
                query,
                app.call("GET", &format!("/api/v1/fund_info?{query}"), None)
                    .await,
                StatusCode::BAD_REQUEST,
                "",
            );
        }
        refusals.expect(
            "unknown route",
            app.call("GET", "/api/v1/nope", None).await,
            StatusCode::NOT_FOUND,
            "no such route",
        );
        refusals.expect(
            "wrong method",
            app.call("PATCH", "/api/v1/fund_info", None).await,
            StatusCode::METHOD_NOT_ALLOWED,
            "not allowed",
        );

        assert!(
            refusals.failures.is_empty(),
            "{} case(s) not refused as expected:\n{}",
            refusals.failures.len(),
            refusals.failures.join("\n")
        );
        assert_eq!(
            app.counts(),
            before,
            "{backend}: a refused request changed the database"
        );
        let (_, still) = app
            .call("GET", &format!("/api/v1/fund_info/{fund_id}"), None)
            .await;
        assert_eq!(still, parent, "{backend}: the parent row is unchanged");
    }
}

#[tokio::test]
async fn only_the_exact_token_is_accepted() {
    let app = TestApp::new(TestDb::sqlite());
    let mut last_byte = TOKEN.to_owned();
    let flipped = if last_byte.ends_with('f') { 'e' } else { 'f' };
    last_byte.pop();
    last_byte.push(flipped);
    let prefix = &TOKEN[..TOKEN.len() - 1];
    for path in [
        "/api/v1/fund_info",
        "/api/v1/fund_info/1",
        "/health/data",
        "/openapi.json",
        "/api/v1/nope",
    ] {
        for (what, token) in [
            ("no token", None),
            ("wrong token", Some("wrong-token-0123456789")),
            ("last byte differs", Some(last_byte.as_str())),
            ("prefix", Some(prefix)),
            ("empty", Some("")),
        ] {
            let (status, body) = app.call_raw("GET", path, None, token, false).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{path} with {what}: {body}"
            );
            assert_eq!(body["error"]["code"], "unauthorized");
        }
    }
    let (status, _) = app
        .call_raw(
            "POST",
            "/api/v1/fund_info",
            Some(fund("1").to_string()),
            None,
            true,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.counts()["fund_info"],
        0,
        "an unauthenticated write changed nothing"
    );
    let (status, body) = app.call_raw("GET", "/health", None, None, false).await;
    assert_eq!(
        (status, body["status"].clone()),
        (StatusCode::OK, json!("ok"))
    );
    assert_eq!(
        app.call("GET", "/api/v1/fund_info", None).await.0,
        StatusCode::OK
    );
}
