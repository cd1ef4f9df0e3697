use std::str::FromStr;

use base64::Engine as _;
use bigdecimal::BigDecimal;
use hmac::{Hmac, Mac};
use provider_sync::okx::{OkxClient, OkxConfig};
use provider_sync::SyncError;
use sha2::Sha256;

use crate::common::{
    assert_error_redacted, assert_redacted, env_of, fast_http, FakeServer, Reply, Request,
};

const KEY: &str = "okx-KEY-5d1e";
const SECRET: &str = "okx-SECRET-22582BD0CFF14C41";
const PASSPHRASE: &str = "okx-PASS-phrase!";
const ALL: [&str; 3] = [KEY, SECRET, PASSPHRASE];

fn client(base: &str, page_limit: u32) -> OkxClient {
    let mut config = OkxConfig::new(KEY, SECRET, PASSPHRASE);
    config.base_url = base.to_owned();
    config.http = fast_http();
    config.page_limit = page_limit;
    OkxClient::new(config).unwrap()
}

/// What OKX does: recompute the signature from the received request with the
/// shared secret, independently of the client's signing code.
fn verify_signature(req: &Request) -> Result<(), String> {
    let ts = req.header("OK-ACCESS-TIMESTAMP").ok_or("no timestamp")?;
    let parsed = chrono::DateTime::parse_from_rfc3339(ts).map_err(|e| e.to_string())?;
    if ts.len() != 24 || !ts.ends_with('Z') || parsed.timestamp_subsec_nanos() % 1_000_000 != 0 {
        return Err(format!(
            "timestamp {ts} is not like 2020-12-08T09:08:57.715Z"
        ));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{ts}{}{}", req.method, req.target).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    match (
        req.header("OK-ACCESS-KEY"),
        req.header("OK-ACCESS-PASSPHRASE"),
        req.header("OK-ACCESS-SIGN"),
    ) {
        (Some(KEY), Some(PASSPHRASE), Some(sign)) if sign == expected => Ok(()),
        other => Err(format!(
            "bad auth headers {other:?}, expected sign {expected}"
        )),
    }
}

fn ok(data: &str) -> String {
    format!(r#"{{"code":"0","msg":"","data":{data}}}"#)
}

fn bill(id: u64, bal: &str, chg: &str) -> String {
    format!(
        r#"{{"bal":"{bal}","balChg":"{chg}","billId":"{id}","ccy":"USDT","clOrdId":"","execType":"T",
            "fee":"-0.000021955779","fillIdxPx":"27104.1","from":"","instId":"BTC-USDT","instType":"SPOT",
            "interest":"0","mgnMode":"isolated","notes":"","ordId":"623950854525124608","pnl":"0",
            "posBal":"0","posBalChg":"0","px":"27105.9","subType":"1","sz":"0.021955779","tag":"",
            "to":"","tradeId":"586760148","ts":"1695033476167","type":"2"}}"#
    )
}

#[test]
fn balance_request_is_signed_and_parsed_exactly() {
    let body = ok(r#"[{"adjEq":"","details":[
        {"availBal":"","availEq":"1.2","cashBal":"1.000000000000000000001","ccy":"BTC","eq":"1.000000000000000000001",
         "eqUsd":"27104.123456789","frozenBal":"0","uTime":"1705474164160"},
        {"availBal":"","cashBal":"5000.5","ccy":"USDT","eq":"5000.5","eqUsd":"5000.5","frozenBal":"","uTime":"1705474164160"}],
        "totalEq":"32104.623456789","uTime":"1705474164160"}]"#);
    let server = FakeServer::start(move |req, _| match verify_signature(req) {
        Ok(()) => Reply::json(200, body.clone()),
        Err(why) => Reply::json(401, format!(r#"{{"code":"50113","msg":"{why}"}}"#)),
    });
    let balance = client(&server.url(), 100).balance().unwrap();

    let account = &balance.accounts[0];
    assert_eq!(
        account.total_eq,
        Some(BigDecimal::from_str("32104.623456789").unwrap())
    );
    let btc = &account.details[0];
    assert_eq!(btc.ccy, "BTC");
    assert_eq!(
        btc.cash_bal.as_ref().unwrap().to_string(),
        "1.000000000000000000001"
    );
    assert_eq!(btc.avail_bal, None);
    assert_eq!(account.details[1].frozen_bal, None);
    assert_eq!(btc.u_time.unwrap().timestamp_millis(), 1_705_474_164_160);
    assert!(balance.raw.starts_with(br#"{"code":"0""#));
    assert_eq!(server.requests()[0].target, "/api/v5/account/balance");
}

#[test]
fn bills_paginate_over_three_pages_from_a_cursor() {
    // Newest first; `before=100` bounds the sync to bills newer than the cursor.
    let pages = [
        ok(&format!(
            "[{},{}]",
            bill(105, "10.5", "0.5"),
            bill(104, "10", "1")
        )),
        ok(&format!(
            "[{},{}]",
            bill(103, "9", "-1"),
            bill(102, "10", "0.0000000000000001")
        )),
        ok(&format!(
            "[{}]",
            bill(101, "9.9999999999999999", "9.9999999999999999")
        )),
    ];
    let sent = pages.clone();
    let server = FakeServer::start(move |req, _| {
        if let Err(why) = verify_signature(req) {
            return Reply::json(401, format!(r#"{{"code":"50113","msg":"{why}"}}"#));
        }
        let page = match (
            req.query("before").as_deref(),
            req.query("after").as_deref(),
        ) {
            (Some("100"), None) => 0,
            (Some("100"), Some("104")) => 1,
            (Some("100"), Some("102")) => 2,
            other => {
                return Reply::json(
                    400,
                    format!(r#"{{"code":"51000","msg":"unexpected {other:?}"}}"#),
                )
            }
        };
        Reply::json(200, sent[page].clone())
    });
    let sync = client(&server.url(), 2).bills_since(Some("100")).unwrap();

    assert_eq!(sync.pages.len(), 3);
    assert_eq!(sync.cursor.as_deref(), Some("105"));
    for (page, body) in sync.pages.iter().zip(&pages) {
        assert_eq!(page.raw, body.as_bytes());
    }
    let ids: Vec<&str> = sync.bills().map(|b| b.bill_id.as_str()).collect();
    assert_eq!(ids, ["105", "104", "103", "102", "101"]);
    let last = sync.bills().last().unwrap();
    assert_eq!(last.bal.to_string(), "9.9999999999999999");
    assert_eq!(last.bill_type, "2");
    assert_eq!(last.ts.timestamp_millis(), 1_695_033_476_167);
    assert_eq!(
        last.fee,
        Some(BigDecimal::from_str("-0.000021955779").unwrap())
    );
    for req in server.requests() {
        assert_eq!(req.path(), "/api/v5/account/bills");
        assert_eq!(req.query("limit").as_deref(), Some("2"));
    }
}

#[test]
fn no_new_bills_keeps_the_cursor() {
    let server = FakeServer::scripted(vec![Reply::json(200, ok("[]"))]);
    let sync = client(&server.url(), 100)
        .bills_since(Some("623950854533513219"))
        .unwrap();
    assert_eq!(sync.cursor.as_deref(), Some("623950854533513219"));
    assert_eq!(sync.pages.len(), 1);
    assert_eq!(sync.bills().count(), 0);
}

#[test]
fn a_server_ignoring_after_is_detected() {
    let page = ok(&format!("[{},{}]", bill(5, "1", "1"), bill(4, "1", "1")));
    let server = FakeServer::start(move |_, _| Reply::json(200, page.clone()));
    let err = client(&server.url(), 2).bills_since(None).unwrap_err();
    assert!(err.to_string().contains("did not advance"), "{err}");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn api_error_codes_and_auth_failures_say_what_to_check() {
    let server = FakeServer::scripted(vec![
        Reply::json(200, r#"{"code":"50113","msg":"Invalid Sign","data":[]}"#),
        Reply::json(401, r#"{"msg":"Invalid OK-ACCESS-KEY","code":"50111"}"#),
    ]);
    let c = client(&server.url(), 100);

    let api = c.balance().unwrap_err();
    assert!(
        matches!(&api, SyncError::Api { code, .. } if code == "50113"),
        "{api:?}"
    );
    assert!(
        api.to_string()
            .contains("check OKX_API_KEY and OKX_API_SECRET"),
        "{api}"
    );

    let status = c.balance().unwrap_err();
    assert_eq!(status.status(), Some(401));
    assert!(
        status
            .to_string()
            .contains("OKX_API_PASSPHRASE and the system clock"),
        "{status}"
    );
    assert_eq!(server.requests().len(), 2, "401 must not be retried");
    for err in [&api, &status] {
        assert_error_redacted(err, &ALL);
    }
}

#[test]
fn from_env_needs_all_three_credentials() {
    assert!(OkxConfig::from_env(env_of(&[])).is_none());
    let partial = env_of(&[("OKX_API_KEY", KEY), ("OKX_API_SECRET", SECRET)]);
    let err = OkxConfig::try_from_env(&partial).unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Config {
                var: "OKX_API_PASSPHRASE",
                ..
            }
        ),
        "{err:?}"
    );
    assert_error_redacted(&err, &ALL);

    let config = OkxConfig::from_env(env_of(&[
        ("OKX_API_KEY", KEY),
        ("OKX_API_SECRET", SECRET),
        ("OKX_API_PASSPHRASE", PASSPHRASE),
        ("OKX_API_BASE_URL", "http://127.0.0.1:9"),
    ]))
    .unwrap();
    assert_eq!(config.base_url, "http://127.0.0.1:9");
    assert_redacted(&config, None, &ALL);
    assert_redacted(&OkxClient::new(config).unwrap(), None, &ALL);
    assert_eq!(
        OkxConfig::new("k", "s", "p").base_url,
        "https://www.okx.com"
    );
}
