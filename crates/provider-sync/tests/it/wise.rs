use std::str::FromStr;

use bigdecimal::BigDecimal;
use chrono::{TimeZone, Utc};
use provider_sync::wise::{StatementQuery, WiseClient, WiseConfig};
use provider_sync::SyncError;

use crate::common::{assert_error_redacted, assert_redacted, env_of, fast_http, FakeServer, Reply};

const TOKEN: &str = "wise-TOKEN-0c9a77";

pub fn config(base: &str, profile_id: Option<u64>) -> WiseConfig {
    let mut config = WiseConfig::new(TOKEN);
    config.base_url = base.to_owned();
    config.profile_id = profile_id;
    config.http = fast_http();
    config
}

pub fn client(base: &str, profile_id: Option<u64>) -> WiseClient {
    WiseClient::new(config(base, profile_id)).unwrap()
}

pub const BALANCES: &str = r#"[
  {"id": 200001, "currency": "EUR", "type": "STANDARD", "name": null, "icon": null,
   "investmentState": "NOT_INVESTED",
   "amount": {"value": 12345678901234567.89, "currency": "EUR"},
   "reservedAmount": {"value": 0.10, "currency": "EUR"},
   "cashAmount": {"value": 12345678901234567.89, "currency": "EUR"},
   "totalWorth": {"value": 12345678901234567.89, "currency": "EUR"},
   "creationTime": "2020-05-20T14:43:16.658Z", "modificationTime": "2020-05-20T14:43:16.658Z",
   "visible": true},
  {"id": 200002, "currency": "USD", "type": "STANDARD",
   "amount": {"value": 0, "currency": "USD"},
   "reservedAmount": {"value": 0, "currency": "USD"}}
]"#;

fn dec(s: &str) -> BigDecimal {
    BigDecimal::from_str(s).unwrap()
}

#[test]
fn balances_for_the_configured_profile_are_exact() {
    let server = FakeServer::scripted(vec![Reply::json(200, BALANCES)]);
    let balances = client(&server.url(), Some(1)).balances(1).unwrap();

    assert_eq!(balances.len(), 2);
    // 12345678901234567.89 is not representable as f64: exactness proves no f64 on the path.
    assert_eq!(balances[0].amount.value.to_string(), "12345678901234567.89");
    assert_eq!(
        balances[0].reserved_amount.as_ref().unwrap().value,
        dec("0.1")
    );
    assert_eq!(
        (balances[0].id, balances[0].currency.as_str()),
        (200001, "EUR")
    );
    assert_eq!(balances[1].amount.value, dec("0"));

    let req = &server.requests()[0];
    assert_eq!(req.method, "GET");
    assert_eq!(req.target, "/v4/profiles/1/balances?types=STANDARD");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[test]
fn without_a_profile_id_every_personal_profile_is_synced() {
    let profiles = r#"[
      {"type": "PERSONAL", "id": 14575282, "publicId": "a", "userId": 9, "fullName": "Ada L"},
      {"type": "BUSINESS", "id": 14575283, "publicId": "b", "userId": 9, "fullName": "Ada Ltd"}
    ]"#;
    let server = FakeServer::scripted(vec![Reply::json(200, profiles), Reply::json(200, BALANCES)]);
    let all = client(&server.url(), None).all_balances().unwrap();

    assert_eq!(all.len(), 1);
    assert_eq!(all[0].profile_id, 14575282);
    assert_eq!(all[0].balances.len(), 2);
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        [
            "/v2/profiles",
            "/v4/profiles/14575282/balances?types=STANDARD"
        ]
    );
}

#[test]
fn no_personal_profile_is_an_error_naming_the_profile_var() {
    let server = FakeServer::scripted(vec![Reply::json(200, r#"[{"type":"BUSINESS","id":7}]"#)]);
    let err = client(&server.url(), None).all_balances().unwrap_err();
    assert!(err.to_string().contains("WISE_PROFILE_ID"), "{err}");
}

#[test]
fn balance_statement_transactions_are_typed_and_exact() {
    let statement = r#"{
      "accountHolder": {"type": "PERSONAL"},
      "issuer": {"name": "Wise Payments Ltd."},
      "bankDetails": null,
      "transactions": [
        {"type": "DEBIT", "date": "2018-04-30T08:47:05.832Z",
         "amount": {"value": -7.76, "currency": "EUR"},
         "totalFees": {"value": 0.04, "currency": "EUR"},
         "details": {"type": "CARD", "description": "Card transaction of 6.80 GBP issued by Tfl.gov.uk/cp TFL TRAVEL CH",
                     "amount": {"value": 6.8, "currency": "GBP"}, "category": "Transportation Suburban and Loca",
                     "merchant": {"name": "Tfl.gov.uk/cp"}},
         "exchangeDetails": {"toAmount": {"value": 6.8, "currency": "GBP"}, "fromAmount": {"value": 7.72, "currency": "EUR"}, "rate": 0.89},
         "runningBalance": {"value": 16.01, "currency": "EUR"},
         "referenceNumber": "CARD-249281"},
        {"type": "CREDIT", "date": "2018-04-17T07:47:00.227Z",
         "amount": {"value": 200.00, "currency": "EUR"},
         "totalFees": {"value": 0, "currency": "EUR"},
         "details": {"type": "DEPOSIT", "description": "Received money from HEIN LAURI with reference SVWZ+topup card"},
         "runningBalance": {"value": 207.15, "currency": "EUR"},
         "referenceNumber": "TRANSFER-34188888"}
      ],
      "endOfStatementBalance": {"value": 9.75, "currency": "EUR"},
      "query": {"intervalStart": "2018-03-01T00:00:00Z", "intervalEnd": "2018-04-30T23:59:59.999Z", "currency": "EUR", "accountId": 64}
    }"#;
    let server = FakeServer::scripted(vec![Reply::json(200, statement)]);
    let query = StatementQuery {
        profile_id: 1,
        balance_id: 200001,
        currency: "EUR".into(),
        interval_start: Utc.with_ymd_and_hms(2018, 3, 1, 0, 0, 0).unwrap(),
        interval_end: Utc.with_ymd_and_hms(2018, 4, 30, 23, 59, 59).unwrap(),
    };
    let st = client(&server.url(), Some(1)).statement(&query).unwrap();

    assert_eq!(st.transactions.len(), 2);
    let t = &st.transactions[0];
    assert_eq!(t.reference_number, "CARD-249281");
    assert_eq!(t.date, Utc.timestamp_millis_opt(1_525_078_025_832).unwrap());
    assert_eq!(t.amount.value, dec("-7.76"));
    assert_eq!(t.total_fees.as_ref().unwrap().value, dec("0.04"));
    assert_eq!(t.running_balance.as_ref().unwrap().value, dec("16.01"));
    assert!(t
        .details
        .description
        .as_deref()
        .unwrap()
        .starts_with("Card transaction"));
    assert_eq!(st.transactions[1].amount.value, dec("200"));
    assert_eq!(st.end_of_statement_balance.unwrap().value, dec("9.75"));

    let req = &server.requests()[0];
    assert_eq!(
        req.path(),
        "/v1/profiles/1/balance-statements/200001/statement.json"
    );
    assert_eq!(req.query("currency").as_deref(), Some("EUR"));
    assert_eq!(
        req.query("intervalStart").as_deref(),
        Some("2018-03-01T00:00:00.000Z")
    );
    assert_eq!(
        req.query("intervalEnd").as_deref(),
        Some("2018-04-30T23:59:59.000Z")
    );
    assert_eq!(req.query("type").as_deref(), Some("COMPACT"));
}

#[test]
fn unauthorized_is_not_retried_and_says_what_to_check() {
    // The server echoes the token back; it must be scrubbed from the excerpt.
    let body =
        format!(r#"{{"error":"invalid_token","error_description":"Invalid token {TOKEN}"}}"#);
    let server = FakeServer::scripted(vec![Reply::json(401, body)]);
    let err = client(&server.url(), Some(1)).balances(1).unwrap_err();

    assert_eq!(server.requests().len(), 1, "401 must not be retried");
    assert_eq!(err.status(), Some(401));
    let text = err.to_string();
    assert!(
        text.starts_with(
            "wise: 401 Unauthorized from /v4/profiles/1/balances; check WISE_API_TOKEN"
        ),
        "{text}"
    );
    assert!(
        text.contains("invalid_token") && text.contains("***"),
        "{text}"
    );
    assert_error_redacted(&err, &[TOKEN]);
}

#[test]
fn strong_customer_authentication_gets_its_own_hint() {
    let reply = Reply::json(403, "").header("x-2fa-approval", "5c2f8f0c-7d5e-4b53-8f57-1234");
    let server = FakeServer::scripted(vec![reply]);
    let query = StatementQuery {
        profile_id: 1,
        balance_id: 2,
        currency: "EUR".into(),
        interval_start: Utc::now(),
        interval_end: Utc::now(),
    };
    let err = client(&server.url(), Some(1))
        .statement(&query)
        .unwrap_err();
    assert!(
        err.to_string().contains("strong customer authentication"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn malformed_amounts_are_decode_errors() {
    let server = FakeServer::scripted(vec![Reply::json(
        200,
        r#"[{"id":1,"currency":"EUR","amount":{"value":"lots","currency":"EUR"}}]"#,
    )]);
    let err = client(&server.url(), Some(1)).balances(1).unwrap_err();
    assert!(matches!(err, SyncError::Decode { .. }), "{err:?}");
    assert_error_redacted(&err, &[TOKEN]);
}

#[test]
fn from_env_reads_token_profile_and_base_url() {
    assert!(WiseConfig::from_env(env_of(&[])).is_none());
    assert!(WiseConfig::from_env(env_of(&[("WISE_API_TOKEN", "")])).is_none());

    let bad_profile = env_of(&[("WISE_API_TOKEN", TOKEN), ("WISE_PROFILE_ID", "abc")]);
    let err = WiseConfig::try_from_env(&bad_profile).unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Config {
                var: "WISE_PROFILE_ID",
                ..
            }
        ),
        "{err:?}"
    );
    assert_error_redacted(&err, &[TOKEN]);

    let config = WiseConfig::from_env(env_of(&[
        ("WISE_API_TOKEN", TOKEN),
        ("WISE_PROFILE_ID", "42"),
        ("WISE_API_BASE_URL", "http://127.0.0.1:9/"),
    ]))
    .unwrap();
    assert_eq!(
        (config.profile_id, config.base_url.as_str()),
        (Some(42), "http://127.0.0.1:9/")
    );
    assert_redacted(&config, None, &[TOKEN]);
    assert_redacted(&WiseClient::new(config).unwrap(), None, &[TOKEN]);
    assert_eq!(WiseConfig::new(TOKEN).base_url, "https://api.wise.com");
}
